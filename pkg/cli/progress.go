package cli

import (
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// progressBars draws one bar per sync step on stderr; only used when stderr
// is a terminal (cron sees nothing).
type progressBars struct {
	mu   sync.Mutex
	w    io.Writer
	step string
	bar  *progressbar.ProgressBar
}

func (p *progressBars) update(step string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if step != p.step || p.bar == nil {
		if p.bar != nil {
			_ = p.bar.Finish()
		}
		p.step = step
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(step),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100_000_000),
		)
	}
	_ = p.bar.Set(done)
}

func (p *progressBars) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

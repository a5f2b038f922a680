package elentra

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/elentra-teams/elentra-teams/internal/text"
)

// CronJob is a row of Elentra 1.22's cron table.
type CronJob struct {
	ID       int
	Command  string
	Schedule string
	Active   bool
}

// String describes the row for a person, on one line: its id, schedule and
// command.
func (j CronJob) String() string {
	s := ""
	if j.ID != 0 {
		s = fmt.Sprintf("id %d, ", j.ID)
	}
	return s + fmt.Sprintf("schedule %q: %s", text.OneLine(j.Schedule), text.Shorten(text.OneLine(j.Command), 300))
}

// CronJobIDs names rows by their ids ("id 1, 2"), or counts them when the
// table has no id column.
func CronJobIDs(jobs []CronJob) string {
	ids := make([]int, len(jobs))
	for i, j := range jobs {
		if j.ID == 0 {
			return text.Plural(len(jobs), "row", "rows")
		}
		ids[i] = j.ID
	}
	return "id " + text.JoinInts(ids)
}

// CronJobs is what Elentra's cron table holds of its own Microsoft jobs.
type CronJobs struct {
	// IDColumn is the name of the table's row id column (id, cron_id or
	// job_id); "" when it has none of them.
	IDColumn string
	// Jobs are the rows whose command MicrosoftJob matches, active or not,
	// ordered by id.
	Jobs []CronJob
}

// Active returns the jobs that are active.
func (c CronJobs) Active() []CronJob {
	var out []CronJob
	for _, j := range c.Jobs {
		if j.Active {
			out = append(out, j)
		}
	}
	return out
}

// microsoftJobWords are the words that name a Microsoft or Teams job in a
// command, compared as whole words (runs of letters and digits) without
// regard to case. The Teams guide's jobs are `php artisan microsoft:…`.
var microsoftJobWords = []string{"microsoft", "teams", "msteams", "microsoftteams", "msgraph", "microsoftgraph"}

// microsoftJobPairs are two words that name one when only a - or _ stands
// between them (ms-graph, ms_graph).
var microsoftJobPairs = [][2]string{{"ms", "graph"}}

// MicrosoftJob reports whether a command of Elentra's cron table runs a
// Microsoft or Teams job (the guide: "those with artisan microsoft in the
// command"): one that names microsoft, teams, msteams, msgraph or ms-graph
// as a whole word, in any case. This tool's own name (elentra-teams) does
// not count: a row that runs it is not Elentra's job. check-config's double
// sync check and `setup --takeover` both decide by it, so that every row the
// check flags is one takeover switches off.
func MicrosoftJob(command string) bool {
	s := strings.ToLower(command)
	for _, own := range []string{"elentra-teams", "elentra_teams"} {
		s = strings.ReplaceAll(s, own, " ")
	}
	type word struct {
		text string
		sep  string // what stands between it and the word before
	}
	var words []word
	prev := 0
	for i := 0; i < len(s); {
		if !isWordByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		words = append(words, word{text: s[i:j], sep: s[prev:i]})
		prev, i = j, j
	}
	for k, w := range words {
		if slices.Contains(microsoftJobWords, w.text) {
			return true
		}
		if k == 0 || (w.sep != "-" && w.sep != "_") {
			continue
		}
		if slices.Contains(microsoftJobPairs, [2]string{words[k-1].text, w.text}) {
			return true
		}
	}
	return false
}

// cronActive reads the active column as MySQL reads `active <> 0`: a
// number other than 0 (or a word for true) is active.
func cronActive(v string) bool {
	if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
		return n != 0
	}
	return isTrue(v)
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ElentraCronJobs reads Elentra's cron table in one query and returns the
// rows whose command MicrosoftJob matches; none when the table does not
// exist (Elentra before 1.22). The rows are matched here rather than in SQL
// so that every reader decides alike. The table's columns are not public
// beyond command, schedule and active, so the row id is taken from
// whichever of id, cron_id or job_id it has.
func (db *DB) ElentraCronJobs(ctx context.Context) (CronJobs, error) {
	var out CronJobs
	ok, err := db.HasTable(ctx, db.name, "cron")
	if err != nil || !ok {
		return out, err
	}
	rows, err := db.Queryx(ctx, `SELECT * FROM `+db.Table("cron"))
	if err != nil {
		return out, fmt.Errorf("read cron jobs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return out, fmt.Errorf("read cron jobs: %w", err)
	}
	for _, k := range []string{"id", "cron_id", "job_id"} {
		if slices.Contains(cols, k) {
			out.IDColumn = k
			break
		}
	}
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return out, fmt.Errorf("read cron jobs: %w", err)
		}
		job := CronJob{
			Command:  asString(m["command"]),
			Schedule: asString(m["schedule"]),
			Active:   cronActive(asString(m["active"])),
		}
		if !MicrosoftJob(job.Command) {
			continue
		}
		if out.IDColumn != "" {
			fmt.Sscan(asString(m[out.IDColumn]), &job.ID)
		}
		out.Jobs = append(out.Jobs, job)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read cron jobs: %w", err)
	}
	slices.SortStableFunc(out.Jobs, func(a, b CronJob) int { return a.ID - b.ID })
	return out, nil
}

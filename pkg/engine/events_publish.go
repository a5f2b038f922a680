package engine

import (
	"context"
	"errors"

	"github.com/elentra-teams/elentra-teams/pkg/elentra"
	"github.com/elentra-teams/elentra-teams/pkg/reconcile"
)

// publish writes the event's link: updated in place when it exists,
// published anew otherwise (also when someone deleted it in Elentra).
func (run *eventsRun) publish(ctx context.Context, st *eventProgress, a reconcile.Action) error {
	env := run.env
	spec := a.Event
	join := spec.JoinURL
	if join == "" {
		join = st.joinURL
	}
	if join == "" {
		w := run.wants[a.EventID]
		run.r.note(reconcile.Finding{Kind: reconcile.FindingJoinURLPending, Severity: reconcile.Note, CourseID: w.CourseID, EventID: a.EventID, Name: w.CourseCode,
			Message: "Outlook has not given the meeting its join link yet; the next run reads it again and then publishes the link"})
		return nil
	}
	l := elentra.EventLink{ID: spec.ElinkID, EventID: a.EventID, Title: reconcile.LinkTitle, URL: join,
		ReleaseDate: spec.JoinableFrom, ReleaseUntil: spec.End, UpdatedBy: env.Config.Elentra.AdminUserID}
	if l.ID == 0 {
		l.ID = st.elinkID
	}
	var (
		out elentra.EventLink
		err error
	)
	if l.ID != 0 {
		out, err = env.DB.UpdateEventLink(ctx, l, env.Now())
		if errors.Is(err, elentra.ErrLinkNotFound) {
			l.ID, err = 0, nil
		}
	}
	if l.ID == 0 && err == nil {
		out, err = env.DB.InsertEventLink(ctx, l, env.Now())
	}
	if err != nil {
		return err
	}
	st.elinkID = out.ID
	if err := env.Store.RecordEventLink(ctx, a.EventID, out.ID, spec.JoinableFrom, env.Now()); err != nil {
		return err
	}
	run.r.applied(reconcile.KindPublishLink, 1)
	return nil
}

// removeLink deletes the event's link from its page, and then its record.
func (run *eventsRun) removeLink(ctx context.Context, st *eventProgress, a reconcile.Action, spec *reconcile.EventSpec) error {
	env := run.env
	if spec.ElinkID != 0 {
		if err := env.DB.DeleteEventLink(ctx, spec.ElinkID); err != nil {
			return err
		}
	}
	if err := env.Store.RecordEventLinkRemoved(ctx, a.EventID, env.Now()); err != nil {
		return err
	}
	st.elinkID = 0
	run.r.applied(a.Kind, 1)
	return nil
}

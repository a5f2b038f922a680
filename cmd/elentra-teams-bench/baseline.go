package main

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/elentra-teams/elentra-teams/pkg/auth"
	"github.com/elentra-teams/elentra-teams/pkg/config"
	"github.com/elentra-teams/elentra-teams/pkg/msgraph"
)

// BaselineStep is the peers' way of doing what one command of the tool did
// in one phase: the same writes, one object per request, one request at a
// time (o365-moodle, and Elentra's own jobs: peers.md).
type BaselineStep struct {
	Phase   string `json:"phase"`
	Command string `json:"command"`
	// Writes is the number of objects written (Teams, memberships,
	// meetings).
	Writes    int `json:"writes"`
	Requests  int `json:"requests"`
	Throttled int `json:"throttled"`
	Failures  int `json:"failures"`
	// WallSeconds is real time at the baseline's time scale. GraphSeconds
	// is the time at Graph's pace: a round trip per request plus the waits
	// for Retry-After, in Microsoft's time.
	WallSeconds  float64 `json:"wall_seconds"`
	GraphSeconds float64 `json:"graph_seconds"`
}

// runBaseline replays, on a simulator of its own, the writes the tool made
// in the initial and churn phases, the peers' way: for each course a group
// then its Team; for each Team one POST /teams/{id}/members per member; one
// POST /users/{id}/events per meeting; in churn one request per added or
// removed member and per changed meeting. Nothing is read first (the peers
// also list, so this favours them). The simulator derives ids from content,
// so the tool's group, membership and event ids are the baseline's too.
func runBaseline(ctx context.Context, o Options, w *world, res *Result, progress func(string, ...any)) ([]*BaselineStep, error) {
	scale := o.BaselineTimeScale
	if scale <= 0 {
		scale = o.TimeScale
	}
	sim, err := startSim(ctx, w.simPath, w.seed, o.simArgs(scale), filepath.Join(w.dir, "baseline-sim.log"))
	if err != nil {
		return nil, err
	}
	defer sim.stop()
	ts, err := auth.AppTokenSource(ctx, config.Microsoft{AuthMode: "application", TenantID: benchTenantID, ClientID: benchClientID,
		ClientSecret: w.secret, Authority: sim.url}, time.Now)
	if err != nil {
		return nil, err
	}
	b := &baseline{scale: scale, latency: o.Latency}
	// The peers do not pace themselves: they meet the 429s and wait them
	// out, and every wait is summed for the time at Graph's pace.
	b.graph = msgraph.New(msgraph.Options{BaseURL: sim.url, TokenSource: ts, NoPacing: true,
		Sleep: func(ctx context.Context, d time.Duration) error {
			b.waited += d
			return msgraph.Sleep(ctx, d)
		}})
	var steps []*BaselineStep
	for _, ph := range []string{phaseInitial, phaseChurn} {
		for _, c := range res.phase(ph).Commands {
			ops := replayOps(c.entries)
			if len(ops) == 0 {
				continue
			}
			progress("baseline %s %s: %d writes, one request each, in sequence", ph, c.Command, len(ops))
			st := b.run(ctx, ops)
			st.Phase, st.Command = ph, c.Command
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			progress("baseline %s %-12s %7d requests %6d throttled %8.1f s (%.0f s at Graph's pace)", ph, c.Command, st.Requests, st.Throttled, st.WallSeconds, st.GraphSeconds)
			steps = append(steps, st)
		}
	}
	return steps, nil
}

type baseline struct {
	graph   *msgraph.Client
	scale   float64
	latency time.Duration
	// waited sums the client's waits (Retry-After, backoff), at the
	// simulator's scale.
	waited time.Duration
}

// op is one write of the peers' way.
type op func(ctx context.Context, g *msgraph.Client) error

// run applies ops one after the other and measures them.
func (b *baseline) run(ctx context.Context, ops []op) *BaselineStep {
	before, waited := b.graph.Stats(), b.waited
	start := time.Now()
	st := &BaselineStep{Writes: len(ops)}
	for _, o := range ops {
		if ctx.Err() != nil {
			break
		}
		if err := o(ctx, b.graph); err != nil {
			st.Failures++
		}
	}
	st.WallSeconds = time.Since(start).Seconds()
	after := b.graph.Stats()
	st.Requests = after.Requests - before.Requests
	st.Throttled = after.Throttled - before.Throttled
	// One request after the other: each takes a round trip, and the
	// client's waits come between them. This leaves out the time the bench
	// machine spends per request, which the time scale would magnify.
	st.GraphSeconds = float64(st.Requests)*b.latency.Seconds() + (b.waited-waited).Seconds()*b.scale
	return st
}

// replayOps turns the writes the tool made (served, from the simulator's
// log) into the peers' one-object requests.
func replayOps(entries []logEntry) []op {
	var ops []op
	for _, e := range entries {
		if !e.isGraph() || e.Status < 200 || e.Status > 299 {
			continue
		}
		switch e.Route {
		case "POST /groups":
			var body struct {
				DisplayName             string   `json:"displayName"`
				Description             string   `json:"description"`
				MailNickname            string   `json:"mailNickname"`
				Visibility              string   `json:"visibility"`
				ResourceBehaviorOptions []string `json:"resourceBehaviorOptions"`
				Owners                  []string `json:"owners@odata.bind"`
			}
			if json.Unmarshal(e.Body, &body) != nil {
				continue
			}
			in := msgraph.GroupCreate{DisplayName: body.DisplayName, Description: body.Description, MailNickname: body.MailNickname,
				Visibility: body.Visibility, ResourceBehaviorOptions: body.ResourceBehaviorOptions}
			for _, ref := range body.Owners {
				in.OwnerIDs = append(in.OwnerIDs, boundID(ref))
			}
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				_, err := g.CreateGroup(ctx, in)
				return err
			})
		case "PUT /groups/{id}/team":
			group := rawParam(e, "id")
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				_, err := g.CreateTeamFromGroup(ctx, group)
				return err
			})
		case "POST /teams/{id}/members/add":
			team := rawParam(e, "id")
			var body struct {
				Values []struct {
					Roles    []string `json:"roles"`
					UserBind string   `json:"user@odata.bind"`
				} `json:"values"`
			}
			if json.Unmarshal(e.Body, &body) != nil {
				continue
			}
			for _, v := range body.Values {
				user, owner := boundID(v.UserBind), len(v.Roles) > 0
				ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
					_, err := g.AddMember(ctx, team, user, owner)
					return err
				})
			}
		case "POST /teams/{id}/members":
			team := rawParam(e, "id")
			var body struct {
				Roles    []string `json:"roles"`
				UserBind string   `json:"user@odata.bind"`
			}
			if json.Unmarshal(e.Body, &body) != nil {
				continue
			}
			user, owner := boundID(body.UserBind), len(body.Roles) > 0
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				_, err := g.AddMember(ctx, team, user, owner)
				return err
			})
		case "PATCH /teams/{id}/members/{membershipId}":
			team, membership := rawParam(e, "id"), rawParam(e, "membershipId")
			var body struct {
				Roles []string `json:"roles"`
			}
			if json.Unmarshal(e.Body, &body) != nil {
				continue
			}
			owner := len(body.Roles) > 0
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				return g.UpdateMemberRole(ctx, team, membership, owner)
			})
		case "DELETE /teams/{id}/members/{membershipId}":
			team, membership := rawParam(e, "id"), rawParam(e, "membershipId")
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				return g.RemoveMember(ctx, team, membership)
			})
		case "POST /users/{userId}/events":
			mailbox := rawParam(e, "userId")
			var in msgraph.EventInput
			if json.Unmarshal(e.Body, &in) != nil {
				continue
			}
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				_, err := g.CreateEvent(ctx, mailbox, in)
				return err
			})
		case "PATCH /users/{userId}/events/{eventId}":
			mailbox, event := rawParam(e, "userId"), rawParam(e, "eventId")
			var in msgraph.EventInput
			if json.Unmarshal(e.Body, &in) != nil {
				continue
			}
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				_, err := g.UpdateEvent(ctx, mailbox, event, in)
				return err
			})
		case "POST /users/{userId}/events/{eventId}/cancel":
			mailbox, event := rawParam(e, "userId"), rawParam(e, "eventId")
			ops = append(ops, func(ctx context.Context, g *msgraph.Client) error {
				return g.CancelEvent(ctx, mailbox, event, "")
			})
		}
	}
	return ops
}

// boundID is the object id an @odata.bind reference names:
// …/users('id'), …/users(id), …/users/id or …/directoryObjects/id.
func boundID(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if open := strings.IndexByte(last, '('); open >= 0 && strings.HasSuffix(last, ")") {
		last = strings.Trim(last[open+1:len(last)-1], "'")
	}
	if u, err := url.PathUnescape(last); err == nil {
		last = u
	}
	return last
}

// Package core names Hooktray's running services in one struct, the surface the desktop app and
// the admin API are both given. The root package app makes and wires them; nothing here does.
package core

import (
	"context"
	"fmt"

	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/endpoints"
	"github.com/hooktray/hooktray/app/health"
	"github.com/hooktray/hooktray/app/history"
	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/reach"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/app/shapes"
	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/hook"
)

// Services are the running core.
type Services struct {
	Info          Info
	Endpoints     *endpoints.Service // endpoints, their secrets and activity
	History       *history.Service   // stored events and the live feed of new ones
	Forwarding    *deliver.Service   // targets, deliveries and replays
	Subscriptions *subscribe.Service // endpoints' URLs registered at providers
	Reach         *reach.Service     // the tunnel, cloudflared and reachability probes
	Inbox         *inbox.Service     // the always-on inbox on the user's Cloudflare account
	Health        *health.Health     // damage found in the database or the ingest journal
	Rules         *rules.Env         // compiles and runs targets' and endpoints' rules
	Shapes        *shapes.Learner    // what endpoints' payloads look like, and their changes
	// Changes carries what changed besides new events, for views to follow (Changes.Follow).
	Changes *live.Feed[hook.Change]
}

// Info is what does not change while Hooktray runs.
type Info struct {
	Version     string
	DataDir     string
	ReceiverURL string // the receiver's local base URL, e.g. http://127.0.0.1:8791
	APIURL      string // the admin API's base URL
}

// MaxTrial is the most stored events a rule is tried on at once.
const MaxTrial = 200

// TryRules runs a condition and a transform over the endpoint's last limit stored events (newest
// first), as a target would, saving nothing: for the target editor's Try and POST
// /api/v1/rules/try.
func (s *Services) TryRules(ctx context.Context, endpointID string, tr rules.Trial, limit int) ([]rules.TrialResult, error) {
	if err := s.Rules.Check(tr); err != nil {
		return nil, err
	}
	ep, events, err := s.lastEvents(ctx, endpointID, limit)
	if err != nil {
		return nil, err
	}
	return s.Rules.Try(tr, events, ep.Name)
}

// TryResponses runs response rules over the endpoint's last limit stored events as if they
// arrived again, oldest first, with seed's draws: which rule would answer each, and with what.
func (s *Services) TryResponses(ctx context.Context, endpointID string, rs []hook.ResponseRule, seed int64, limit int) ([]rules.TrialResult, error) {
	if err := s.Rules.CheckResponses(rs); err != nil {
		return nil, err
	}
	ep, events, err := s.lastEvents(ctx, endpointID, limit)
	if err != nil {
		return nil, err
	}
	return s.Rules.TryResponses(rs, seed, events, ep.Name)
}

// lastEvents are the endpoint's last limit (default 50, at most MaxTrial) stored events with
// their bodies, newest first.
func (s *Services) lastEvents(ctx context.Context, endpointID string, limit int) (hook.Endpoint, []hook.Event, error) {
	ep, err := s.Endpoints.Get(endpointID)
	if err != nil {
		return ep, nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	s.History.Settle(ctx)
	page, err := s.History.Events(ctx, hook.EventQuery{EndpointID: ep.ID, Limit: min(limit, MaxTrial), WithBody: true})
	if err != nil {
		return ep, nil, fmt.Errorf("read the endpoint's last events: %w", err)
	}
	return ep, page.Events, nil
}

// Package core names Hooktray's running services in one struct, the surface the desktop app and
// the admin API are both given. The root package app makes and wires them; nothing here does.
package core

import (
	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/endpoints"
	"github.com/hooktray/hooktray/app/health"
	"github.com/hooktray/hooktray/app/history"
	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/reach"
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

package app

import (
	"context"
	"path/filepath"

	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/endpoints"
	"github.com/hooktray/hooktray/app/health"
	"github.com/hooktray/hooktray/app/history"
	"github.com/hooktray/hooktray/app/housekeeping"
	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/ingest"
	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/reach"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/app/shapes"
	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/hook"
)

// wire makes the services and connects them. Each takes what it calls as a small interface of
// its own; the ingest journal is opened in the middle, after those it tells of commits and before
// those that wait for it. Nothing here starts a loop: that is each service's Start.
func (h *Hub) wire(ctx context.Context) error {
	o, s := h.opts, &h.svc
	s.Info = core.Info{Version: o.Version, DataDir: o.DataDir,
		ReceiverURL: "http://" + h.recvLn.Addr().String(), APIURL: "http://" + h.apiLn.Addr().String()}
	s.Changes = &live.Feed[hook.Change]{}
	s.Health = health.New(h.log, s.Changes, h.store.Path())
	var err error
	if s.Rules, err = rules.New(); err != nil {
		return err
	}
	s.Endpoints = endpoints.New(endpoints.Options{Store: h.store, Box: h.box, Clock: o.Clock, Log: h.log,
		Changes: s.Changes, Version: o.Version, ReceiverURL: s.Info.ReceiverURL, Rules: s.Rules})
	s.Forwarding = deliver.New(deliver.Options{Store: h.store, Box: h.box, Endpoints: s.Endpoints, Clock: o.Clock,
		Log: h.log, Health: s.Health, Changes: s.Changes, Version: o.Version, Supervisor: o.ProgramSupervisor,
		Rules: s.Rules})
	s.Shapes = shapes.New(shapes.Options{Clock: o.Clock, Log: h.log,
		Changed: func(string, shapes.Drift) { s.Changes.Publish(hook.ShapesChanged) }})
	feed := history.NewFeed()
	h.house = housekeeping.New(housekeeping.Options{Store: h.store, Secrets: s.Endpoints, Clock: o.Clock, Log: h.log,
		Health: s.Health, Changes: s.Changes, Retention: *o.Retention, RetentionEvery: o.RetentionEvery,
		Pruned: s.Endpoints.ReloadActivity})
	if err := h.openJournal(ctx, feed); err != nil {
		return err
	}
	s.History = history.New(history.Options{Store: h.store, Journal: h.queue, Feed: feed, Health: s.Health,
		Changes: s.Changes, Log: h.log, Deleted: s.Endpoints.ReloadActivity})
	probeSecret := reach.NewProbeSecret()
	h.rcv = h.newReceiver(probeSecret)
	s.Inbox = inbox.New(inbox.Options{Store: h.store, Box: h.box, Ingest: h.rcv, Endpoints: s.Endpoints, Clock: o.Clock,
		Log: h.log, Changes: s.Changes, Version: o.Version, CloudflareAPI: o.CloudflareAPI, WorkersDev: o.InboxWorkersDev})
	s.Reach = reach.New(reach.Options{Store: h.store, Box: h.box, Clock: o.Clock, Log: h.log, Health: s.Health,
		Changes: s.Changes, DataDir: o.DataDir, Version: o.Version, ReceiverURL: s.Info.ReceiverURL,
		Tunnel: o.Tunnel, TunnelDefault: o.TunnelDefault, ReleasesAPI: o.ReleasesAPI, ProbeSecret: probeSecret,
		UpdateCheckEvery: o.UpdateCheckEvery, ProbeClient: o.ProbeClient, OnPublicURL: h.publicURLChanged, Inbox: s.Inbox})
	s.Subscriptions = subscribe.New(subscribe.Options{Store: h.store, Box: h.box, Endpoints: s.Endpoints,
		Secrets: s.Endpoints, Recorded: s.History, PublicURL: s.Reach.PublicURL, Clock: o.Clock, Log: h.log,
		Health: s.Health, Changes: s.Changes, Client: o.ProviderClient, CheckEvery: o.SubscriptionCheckEvery,
		Version: o.Version})
	s.Endpoints.Connect(endpoints.Peers{Providers: s.Subscriptions, Recorded: s.History, Reachable: s.Reach.Reachable,
		PublicURL: s.Reach.PublicURL, Deleted: s.Shapes.Forget})
	return nil
}

// newReceiver is the receiver over the endpoints and the ingest journal.
func (h *Hub) newReceiver(probeSecret string) *receiver.Receiver {
	recvOpts := h.opts.Receiver
	recvOpts.ProbeSecret = probeSecret
	recvOpts.SpoolDir = ingest.SpoolDir(filepath.Join(h.opts.DataDir, JournalDir))
	return receiver.New(h.svc.Endpoints.Directory(), h.queue, recvOpts)
}

// openJournal opens the ingest queue: requests a crash left in the journal are imported first,
// with their deliveries, before forwarding starts. Each accepted request is routed to its
// targets before it is journaled; each commit is told to the activity counts, the delivery
// workers, the live feed and the housekeeping, in that order (a view the feed wakes finds the
// counts up to date).
func (h *Hub) openJournal(ctx context.Context, feed *history.Feed) error {
	s, dir := &h.svc, filepath.Join(h.opts.DataDir, JournalDir)
	q, err := ingest.Open(ctx, h.store, ingest.Options{
		Dir:          dir,
		Route:        s.Forwarding.ForwardTo,
		Committed:    []func([]*hook.Event){s.Endpoints.Observe, s.Forwarding.Committed, feed.Committed, h.house.Committed, s.Shapes.Committed},
		ImportFailed: s.Health.ImportFailed,
	})
	if err != nil {
		return err
	}
	h.queue = q
	if !ingest.Durable {
		h.log.Error("this is the benchmark's ceiling build: webhooks are answered but NOT stored")
	}
	if n := q.Recovered(); n > 0 {
		h.log.Info("stored the webhooks a crash left in the ingest journal", "events", n)
	}
	s.Health.NoteJournal(dir, q.Damage())
	return nil
}

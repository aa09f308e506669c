package hook

// Change says what changed besides new events, for views that follow the core (the tray menu, the
// endpoint list, the status bar).
type Change string

// Changes.
const (
	EndpointsChanged Change = "endpoints"
	TunnelChanged    Change = "tunnel"
	HistoryChanged   Change = "history" // events were removed (retention, deletion)
	// ReachabilityChanged: a probe found the public URL reachable, or no longer.
	ReachabilityChanged Change = "reachability"
	// StorageChanged: the database was found damaged.
	StorageChanged Change = "storage"
	// TargetsChanged: a forwarding target was added, changed, removed, or its health changed.
	TargetsChanged Change = "targets"
	// DeliveriesChanged: a delivery was attempted or queued.
	DeliveriesChanged Change = "deliveries"
	// SubscriptionsChanged: a subscription was added, changed, removed, or its status changed.
	SubscriptionsChanged Change = "subscriptions"
	// InboxChanged: the always-on inbox was set up, removed, connected, disconnected or drained.
	InboxChanged Change = "inbox"
	// ShapesChanged: an endpoint's payloads changed (a new event type, a field gone missing).
	ShapesChanged Change = "shapes"
)

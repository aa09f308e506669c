package ui

import (
	"context"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// Core is what the desktop app needs of Hooktray's core; app.Hub implements it. The GUI depends
// on this interface, not on the core's package, so nothing of storage reaches it.
type Core interface {
	Version() string
	DataDir() string
	ReceiverURL() string
	PublicURL() string
	EndpointURL(id string) string
	PublicEndpointURL(id string) string
	SecretsStorage() string
	SecretsError() string
	StorageError() string
	JournalDamage() hook.JournalDamage
	Stop(ctx context.Context) error
	ReleaseMemory(ctx context.Context)

	Endpoints() []hook.Endpoint
	Endpoint(id string) (hook.Endpoint, error)
	CreateEndpoint(ctx context.Context, c hook.EndpointChange) (hook.Endpoint, error)
	UpdateEndpoint(ctx context.Context, id string, c hook.EndpointChange) (hook.Endpoint, error)
	SetEnabled(ctx context.Context, id string, enabled bool) (hook.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	RotateSecret(ctx context.Context, id string) (string, error)
	RevealSecret(ctx context.Context, id string) (string, error)
	Activity(endpointID string) hook.Activity

	Events(ctx context.Context, q hook.EventQuery) (hook.Page, error)
	Event(ctx context.Context, id int64) (hook.Event, error)
	DeleteEvent(ctx context.Context, id int64) error
	IndexBacklog(ctx context.Context) (int64, error)
	Subscribe(size int) *live.Subscription[hook.Event]
	SubscribeChanges() *live.Subscription[hook.Change]

	Targets(endpointID string) ([]hook.Target, error)
	AllTargets() []hook.Target
	CreateTarget(ctx context.Context, endpointID string, c hook.TargetChange) (hook.Target, error)
	UpdateTarget(ctx context.Context, id string, c hook.TargetChange) (hook.Target, error)
	DeleteTarget(ctx context.Context, id string) error
	ResumeTarget(ctx context.Context, id string) (hook.Target, error)
	ReregisterTarget(ctx context.Context, id string) (hook.Target, error)
	Deliveries(ctx context.Context, q hook.DeliveryQuery) ([]hook.Delivery, int64, error)
	RetryDelivery(ctx context.Context, id int64) (hook.Delivery, error)
	RetryDeliveries(ctx context.Context, targetID string, status hook.DeliveryStatus) (int64, error)
	ReplayToTargets(ctx context.Context, eventID int64, targets []string, edit *hook.Edit) ([]hook.Delivery, error)
	TestEndpoint(ctx context.Context, id string) (hook.TestResult, error)

	Subscriptions(ctx context.Context, endpointID string) ([]hook.Subscription, error)
	CreateSubscription(ctx context.Context, c hook.SubscriptionChange) (hook.Subscription, error)
	UpdateSubscription(ctx context.Context, id string, c hook.SubscriptionChange) (hook.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
	RegisterSubscription(ctx context.Context, id string) (hook.Subscription, error)
	UnregisterSubscription(ctx context.Context, id string) (hook.Subscription, error)
	SubscriptionFields(provider string) ([]hook.ProviderField, string, error)
	SubscriptionSecretsSet(ctx context.Context, sub hook.Subscription) []string
	TestSubscription(ctx context.Context, id string) (hook.Event, error)
	DiagralKeys(ctx context.Context, baseURL, email, password, serial string) (apiKey, secretKey string, err error)

	TunnelStatus() tunnel.Status
	TunnelSettings() (s tunnel.Settings, hasToken bool)
	SetTunnel(ctx context.Context, c tunnel.SettingsChange) error
	TunnelLog() []string
	Reachability() tunnel.Reachability
	ProbeNow()
	CloudflaredMissing() bool
	Cloudflared() tunnel.Binary
	// InstallCloudflared starts a download (version "" is the newest); its progress is in
	// CloudflaredInstall, announced with hook.TunnelChanged.
	InstallCloudflared(version string) error
	CloudflaredInstall() tunnel.InstallStatus
}

// Launch starts the core for the desktop app; showWindow is what a second launch of Hooktray asks
// the running one to do, hideWindow closes the window to the tray (both reachable through the
// admin API). main supplies it (app.Start).
type Launch func(ctx context.Context, showWindow, hideWindow func()) (Core, error)

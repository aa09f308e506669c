package api

// The conversions that need the core (URLs, status); the shapes themselves are in apijson.

import (
	"context"
	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

// statusJSON is GET /status.
func statusJSON(ctx context.Context, b StatusSource) apijson.Status {
	t := b.TunnelStatus()
	backlog, _ := b.IndexBacklog(ctx) // 0 when it cannot be counted: the rest still helps
	return apijson.Status{
		Version:   b.Version(),
		Receiver:  b.ReceiverURL(),
		PublicURL: apijson.Optional(b.PublicURL()),
		Tunnel:    apijson.TunnelJSON(t, b.Reachability(), b.CloudflaredInstall(), b.Cloudflared(), b.CloudflaredMissing()),
		DataDir:   b.DataDir(),
		Secrets:   b.SecretsStorage(),

		SecretsError: apijson.Optional(b.SecretsError()),
		StorageError: apijson.Optional(b.StorageError()),

		JournalDamage: apijson.JournalDamageJSON(b.JournalDamage()),
		Stopped:       stoppedTargets(b),

		SearchBacklog: backlog,
	}
}

// endpointJSON is an endpoint as the API shows it, with its URLs; never its secret.
func endpointJSON(b EndpointStore, e hook.Endpoint) apijson.Endpoint {
	vs := e.Settings.Verify
	out := apijson.Endpoint{
		ID:        e.ID,
		Name:      e.Name,
		Enabled:   e.Enabled,
		URL:       b.EndpointURL(e.ID),
		PublicURL: apijson.Optional(b.PublicEndpointURL(e.ID)),
		Verify: apijson.Verify{Scheme: string(e.VerifyScheme), Mode: string(e.VerifyMode), WindowSeconds: vs.WindowSeconds,
			Header: vs.Header, Prefix: vs.Prefix, Algorithm: vs.Algorithm, Encoding: vs.Encoding},
		ResponseStatus:      e.ResponseStatus,
		ResponseBody:        string(e.ResponseBody),
		ResponseContentType: e.ResponseContentType,
		BodyLimit:           e.BodyLimit,
		Notes:               e.Notes,
		Keys:                e.Settings.Keys,
		TypePath:            e.Settings.TypePath,
		NotifyOn:            e.Settings.NotifyOn,
		AlertTypes:          e.Settings.AlertTypes,
		CreatedAt:           e.CreatedAt,
		UpdatedAt:           e.UpdatedAt,
	}
	if r := e.Settings.Route; r.KeyPath != "" || r.QueryParam != "" {
		out.Route = &apijson.Route{KeyPath: r.KeyPath, QueryParam: r.QueryParam}
	}
	if out.Keys == nil {
		out.Keys = []string{}
	}
	if out.AlertTypes == nil {
		out.AlertTypes = []string{}
	}
	return out
}

// stoppedTargets are the targets that deliver nothing now: turned off, disabled (a 410), or
// paused by their breaker.
func stoppedTargets(b StatusSource) []apijson.StoppedTarget {
	out := []apijson.StoppedTarget{}
	for _, t := range b.AllTargets() {
		state := string(t.State)
		if !t.Enabled && t.State == hook.TargetActive {
			state = "off"
		}
		if state == string(hook.TargetActive) {
			continue
		}
		out = append(out, apijson.StoppedTarget{ID: t.ID, EndpointID: t.EndpointID, Kind: string(t.Kind), State: state,
			Reason: apijson.Optional(t.StateReason)})
	}
	return out
}

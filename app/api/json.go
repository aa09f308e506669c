package api

// The conversions that need the core (URLs, status); the shapes themselves are in apijson.

import (
	"context"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/endpoints"
	"github.com/hooktray/hooktray/hook"
)

// statusJSON is GET /status.
func statusJSON(ctx context.Context, svc *core.Services) apijson.Status {
	r := svc.Reach
	backlog, _ := svc.History.IndexBacklog(ctx) // 0 when it cannot be counted: the rest still helps
	return apijson.Status{
		Version:   svc.Info.Version,
		Receiver:  svc.Info.ReceiverURL,
		PublicURL: apijson.Optional(r.PublicURL()),
		Tunnel:    apijson.TunnelJSON(r.Status(), r.Reachability(), r.CloudflaredInstall(), r.Cloudflared(), r.CloudflaredMissing()),
		DataDir:   svc.Info.DataDir,
		Secrets:   svc.Endpoints.SecretsStorage(),

		SecretsError: apijson.Optional(svc.Endpoints.SecretsError()),
		StorageError: apijson.Optional(svc.Health.StorageError()),

		JournalDamage: apijson.JournalDamageJSON(svc.Health.JournalDamage()),
		Stopped:       stoppedTargets(svc.Forwarding),
		Inbox:         inboxJSON(svc.Inbox.Status()),

		SearchBacklog: backlog,
	}
}

// endpointJSON is an endpoint as the API shows it, with its URLs; never its secret.
func endpointJSON(b *endpoints.Service, e hook.Endpoint) apijson.Endpoint {
	vs := e.Settings.Verify
	out := apijson.Endpoint{
		ID:        e.ID,
		Name:      e.Name,
		Enabled:   e.Enabled,
		URL:       b.URL(e.ID),
		PublicURL: apijson.Optional(b.PublicURL(e.ID)),
		Verify: apijson.Verify{Scheme: string(e.VerifyScheme), Mode: string(e.VerifyMode), WindowSeconds: vs.WindowSeconds,
			Header: vs.Header, Prefix: vs.Prefix, Algorithm: vs.Algorithm, Encoding: vs.Encoding},
		ResponseStatus:      e.ResponseStatus,
		ResponseBody:        string(e.ResponseBody),
		ResponseContentType: e.ResponseContentType,
		BodyLimit:           e.BodyLimit,
		Notes:               e.Notes,
		Keys:                e.Settings.Keys,
		TypePath:            e.Settings.TypePath,
		ResponseRules:       orEmpty(e.Settings.Responses),
		ResponseSeed:        e.Settings.ResponseSeed,
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
func stoppedTargets(f *deliver.Service) []apijson.StoppedTarget {
	out := []apijson.StoppedTarget{}
	for _, t := range f.AllTargets() {
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

// orEmpty is rs, or an empty list for JSON's [] rather than null.
func orEmpty(rs []hook.ResponseRule) []hook.ResponseRule {
	if rs == nil {
		return []hook.ResponseRule{}
	}
	return rs
}

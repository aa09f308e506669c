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

		SearchBacklog: backlog,
	}
}

// endpointJSON is an endpoint as the API shows it, with its URLs; never its secret.
func endpointJSON(b EndpointStore, e hook.Endpoint) apijson.Endpoint {
	return apijson.Endpoint{
		ID:                  e.ID,
		Name:                e.Name,
		Enabled:             e.Enabled,
		URL:                 b.EndpointURL(e.ID),
		PublicURL:           apijson.Optional(b.PublicEndpointURL(e.ID)),
		Verify:              apijson.Verify{Scheme: string(e.VerifyScheme), Mode: string(e.VerifyMode)},
		ResponseStatus:      e.ResponseStatus,
		ResponseBody:        string(e.ResponseBody),
		ResponseContentType: e.ResponseContentType,
		BodyLimit:           e.BodyLimit,
		Notes:               e.Notes,
		CreatedAt:           e.CreatedAt,
		UpdatedAt:           e.UpdatedAt,
	}
}

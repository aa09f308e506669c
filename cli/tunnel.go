package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

func (c *command) tunnel(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("tunnel: expected status, set or install-cloudflared")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "status":
		return c.tunnelStatus(ctx, rest)
	case "set":
		return c.tunnelSet(ctx, rest)
	case "install-cloudflared":
		return c.installCloudflared(ctx, rest)
	default:
		return usagef("tunnel: unknown subcommand %q (want status, set or install-cloudflared)", sub)
	}
}

// tunnelStatus prints the tunnel's settings, state and cloudflared; --json prints the status's
// "tunnel" object.
func (c *command) tunnelStatus(ctx context.Context, args []string) error {
	fs := c.flags("tunnel status", "tunnel status [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON (the tunnel part of GET /api/v1/status)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tunnel status: unexpected argument %q", pos[0])
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var raw struct {
		Tunnel json.RawMessage `json:"tunnel"`
	}
	var st apijson.Status
	var body []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/status", nil, &st, &body); err != nil {
		return err
	}
	if *asJSON {
		if err := json.Unmarshal(body, &raw); err != nil {
			return err
		}
		c.printRaw(raw.Tunnel)
		return nil
	}
	var set apijson.TunnelSettings
	if err := cl.do(ctx, http.MethodGet, "/api/v1/tunnel", nil, &set, nil); err != nil {
		return err
	}
	t := st.Tunnel
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	w := c.text(tw)
	fmt.Fprintf(w, "Mode\t%s\n", describeMode(t.Mode))
	fmt.Fprintf(w, "State\t%s\n", t.State)
	if t.URL != nil {
		fmt.Fprintf(w, "Public URL\t%s\n", *t.URL)
	}
	if t.Error != nil {
		fmt.Fprintf(w, "\t%s\n", *t.Error)
	}
	if set.PublicURL != nil {
		fmt.Fprintf(w, "Configured URL\t%s\n", *set.PublicURL)
	}
	if set.Mode == "token" {
		fmt.Fprintf(w, "Token\t%s\n", map[bool]string{true: "stored (sealed)", false: "none"}[set.HasToken])
	}
	if t.CloudflaredMissing {
		fmt.Fprintf(w, "cloudflared\tnot installed: 'hooktray tunnel install-cloudflared' downloads it and checks it against Cloudflare's release\n")
	}
	if b := t.Cloudflared; b != nil {
		fmt.Fprintf(w, "cloudflared\t%s at %s\n", tunnel.Binary{Version: b.Version}.Number(), b.Path)
		if b.UpdateAvailable && b.Latest != nil {
			fmt.Fprintf(w, "\tcloudflared %s is available: hooktray tunnel install-cloudflared\n", *b.Latest)
		}
		if b.Warning != nil {
			fmt.Fprintf(w, "\t%s\n", *b.Warning)
		}
	}
	switch in := t.Install; in.State {
	case "downloading":
		fmt.Fprintf(w, "Download\t%s\n", progressText(in))
	case "failed":
		fmt.Fprintf(w, "Download\tfailed: %s\n", deref(in.Error))
	}
	return tw.Flush()
}

func describeMode(m string) string {
	switch m {
	case "quick":
		return "quick (Cloudflare quick tunnel, new address on each start)"
	case "token":
		return "token (named Cloudflare tunnel)"
	case "external":
		return "external (your own public URL)"
	}
	return "off (local only)"
}

// tunnelSet changes mode, public URL or token of the running instance; it applies at once and is
// remembered. The token is read from standard input, never from the command line.
func (c *command) tunnelSet(ctx context.Context, args []string) error {
	fs := c.flags("tunnel set", "tunnel set [--mode off|quick|token|external] [--public-url URL] [--token-stdin | --clear-token] [--json]")
	mode := fs.String("mode", "", "off | quick | token | external")
	publicURL := fs.String("public-url", "", `your own public URL, or a named tunnel's hostname ("" with --clear-public-url)`)
	clearURL := fs.Bool("clear-public-url", false, "remove the public URL")
	tokenStdin := fs.Bool("token-stdin", false, "read the named tunnel's token from standard input (it never goes on a command line)")
	clearToken := fs.Bool("clear-token", false, "remove the stored token")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tunnel set: unexpected argument %q (the token is read with --token-stdin, never taken from the command line)", pos[0])
	}
	var change apijson.TunnelChange
	if *mode != "" {
		change.Mode = mode
	}
	switch {
	case *clearURL && *publicURL != "":
		return usagef("tunnel set: --public-url and --clear-public-url together")
	case *clearURL:
		change.PublicURL = new(string)
	case *publicURL != "":
		change.PublicURL = publicURL
	}
	switch {
	case *tokenStdin && *clearToken:
		return usagef("tunnel set: --token-stdin and --clear-token together")
	case *clearToken:
		change.Token = new(string)
	case *tokenStdin:
		if c.env.Stdin == nil {
			return usagef("tunnel set: no standard input to read the token from")
		}
		line, err := bufio.NewReader(c.env.Stdin).ReadString('\n')
		token := strings.TrimSpace(line)
		if token == "" {
			return usagef("tunnel set: no token on standard input (%v)", err)
		}
		change.Token = &token
	}
	if change == (apijson.TunnelChange{}) {
		return usagef("tunnel set: nothing to change; give --mode, --public-url, --token-stdin or --clear-token")
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var set apijson.TunnelSettings
	var raw []byte
	if err := cl.do(ctx, http.MethodPatch, "/api/v1/tunnel", change, &set, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	fmt.Fprintf(c.env.Stdout, "Tunnel: %s; applied. Follow it with 'hooktray tunnel status'.\n", describeMode(set.Mode))
	return nil
}

// installCloudflared asks the running instance to download cloudflared and follows the download
// (a progress bar on a terminal) until it is installed or has failed.
func (c *command) installCloudflared(ctx context.Context, args []string) error {
	fs := c.flags("tunnel install-cloudflared", "tunnel install-cloudflared [--version V] [--json]")
	version := fs.String("version", "", "a release such as 2026.8.2 (default: the newest)")
	asJSON := fs.Bool("json", false, "print the API's JSON (status.tunnel.install) when done")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("tunnel install-cloudflared: unexpected argument %q", pos[0])
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var body any
	if *version != "" {
		body = apijson.InstallRequest{Version: *version}
	}
	if err := cl.do(ctx, http.MethodPost, "/api/v1/tunnel/cloudflared/install", body, nil, nil); err != nil {
		return err
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	shown := false
	for {
		var st apijson.Status
		var raw []byte
		if err := cl.do(ctx, http.MethodGet, "/api/v1/status", nil, &st, &raw); err != nil {
			return err
		}
		in := st.Tunnel.Install
		if c.env.Terminal && !*asJSON && in.State == "downloading" {
			fmt.Fprintf(c.env.Stdout, "\r%s\x1b[K", progressText(in))
			shown = true
		}
		if in.State != "downloading" {
			if shown {
				fmt.Fprintln(c.env.Stdout)
			}
			if *asJSON {
				var part struct {
					Tunnel struct {
						Install json.RawMessage `json:"install"`
					} `json:"tunnel"`
				}
				if err := json.Unmarshal(raw, &part); err == nil {
					c.printRaw(part.Tunnel.Install)
				}
			}
			if in.State == "failed" {
				return errors.New("cloudflared was not installed: " + deref(in.Error))
			}
			if !*asJSON {
				fmt.Fprintf(c.env.Stdout, "Installed cloudflared %s, checked against the release's SHA-256; the tunnel is starting.\n", deref(in.Version))
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// progressText is a one-line progress bar: [#####-----] 45 %  12.3 MiB of 27.0 MiB.
func progressText(in apijson.Install) string {
	if in.Total <= 0 {
		return fmt.Sprintf("Downloading cloudflared %s: %s", deref(in.Version), hook.Bytes(in.Done))
	}
	const width = 30
	filled := int(in.Done * width / in.Total)
	return fmt.Sprintf("Downloading cloudflared %s [%s%s] %3d %%  %s of %s", deref(in.Version),
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), in.Done*100/in.Total, hook.Bytes(in.Done), hook.Bytes(in.Total))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

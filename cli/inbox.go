package cli

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
)

// inbox runs `hooktray inbox setup|use|status|remove`.
func (c *command) inbox(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("inbox: give setup, use, status or remove")
	}
	switch args[0] {
	case "setup":
		return c.inboxSetup(ctx, args[1:])
	case "use":
		return c.inboxUse(ctx, args[1:])
	case "status":
		return c.inboxStatus(ctx, args[1:])
	case "remove", "rm":
		return c.inboxRemove(ctx, args[1:])
	}
	return usagef("inbox: unknown subcommand %q (want setup, use, status or remove)", args[0])
}

func (c *command) inboxSetup(ctx context.Context, args []string) error {
	fs := c.flags("inbox setup", "inbox setup --account ID [--script NAME] [--max-requests N] [--max-bytes N] (the Cloudflare API token in HOOKTRAY_CLOUDFLARE_TOKEN, or on standard input)")
	account := fs.String("account", "", "the Cloudflare account id (32 hexadecimal characters)")
	script := fs.String("script", "", "the Worker's name (default hooktray-inbox)")
	maxRequests := fs.Int64("max-requests", 0, "the most requests the inbox holds (default 50,000)")
	maxBytes := fs.Int64("max-bytes", 0, "the most body bytes the inbox holds (default 1 GiB)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("inbox setup: unexpected argument %q", pos[0])
	}
	token := os.Getenv("HOOKTRAY_CLOUDFLARE_TOKEN")
	if token == "" {
		if token, err = c.secretLine("Cloudflare API token (Workers Scripts: Edit): "); err != nil {
			return err
		}
	}
	req := apijson.InboxSetup{Token: token, Account: *account, Script: *script}
	if *maxRequests > 0 || *maxBytes > 0 {
		req.Cap = &apijson.InboxCap{Requests: *maxRequests, Bytes: *maxBytes}
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	cl.http.Timeout = 5 * time.Minute
	fmt.Fprintln(c.env.Stderr, "Setting the inbox up on your Cloudflare account…")
	return c.inboxCall(ctx, http.MethodPost, "/api/v1/inbox/setup", req, *asJSON)
}

func (c *command) inboxUse(ctx context.Context, args []string) error {
	fs := c.flags("inbox use", "inbox use URL [--max-requests N] [--max-bytes N] (the inbox secret on standard input)")
	maxRequests := fs.Int64("max-requests", 0, "the most requests the inbox holds (default 50,000)")
	maxBytes := fs.Int64("max-bytes", 0, "the most body bytes the inbox holds (default 1 GiB)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	url, err := oneArg(pos, "the inbox's URL")
	if err != nil {
		return err
	}
	secret, err := c.secretLine("Inbox secret: ")
	if err != nil {
		return err
	}
	req := apijson.InboxUse{URL: url, Secret: secret}
	if *maxRequests > 0 || *maxBytes > 0 {
		req.Cap = &apijson.InboxCap{Requests: *maxRequests, Bytes: *maxBytes}
	}
	return c.inboxCall(ctx, http.MethodPost, "/api/v1/inbox/use", req, *asJSON)
}

// secretLine reads one line of standard input (a secret: never a flag, which others can see).
func (c *command) secretLine(prompt string) (string, error) {
	if c.env.Stdin == nil {
		return "", usagef("give the secret on standard input")
	}
	if c.env.Terminal {
		fmt.Fprint(c.env.Stderr, prompt)
	}
	line, err := bufio.NewReader(c.env.Stdin).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		return "", usagef("no secret on standard input: %v", err)
	}
	return line, nil
}

func (c *command) inboxCall(ctx context.Context, method, path string, body any, asJSON bool) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	cl.http.Timeout = 5 * time.Minute
	var in apijson.Inbox
	var raw []byte
	if err := cl.do(ctx, method, path, body, &in, &raw); err != nil {
		return err
	}
	if asJSON {
		c.printRaw(raw)
		return nil
	}
	fmt.Fprintf(c.text(c.env.Stdout), "Inbox %s\nEndpoints' public URLs are now %s/webhook/<id>.\n", inboxLine(in), in.URL)
	return nil
}

func (c *command) inboxStatus(ctx context.Context, args []string) error {
	fs := c.flags("inbox status", "inbox status [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var out struct {
		Inbox *apijson.Inbox `json:"inbox"`
	}
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, "/api/v1/inbox", nil, &out, &raw); err != nil {
		return err
	}
	switch {
	case *asJSON:
		c.printRaw(raw)
	case out.Inbox == nil:
		fmt.Fprintln(c.env.Stdout, "No always-on inbox is set up. Set one up with: hooktray inbox setup --account ID")
	default:
		fmt.Fprintln(c.text(c.env.Stdout), "Inbox "+inboxLine(*out.Inbox))
	}
	return nil
}

func (c *command) inboxRemove(ctx context.Context, args []string) error {
	fs := c.flags("inbox remove", "inbox remove")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	cl.http.Timeout = 5 * time.Minute
	fmt.Fprintln(c.env.Stderr, "Draining the inbox, then removing it…")
	if err := cl.do(ctx, http.MethodDelete, "/api/v1/inbox", nil, nil, nil); err != nil {
		return err
	}
	fmt.Fprintln(c.env.Stdout, "The inbox is removed; endpoints' public URLs follow the tunnel settings again.")
	return nil
}

// inboxLine says how the inbox is doing, in a line.
func inboxLine(in apijson.Inbox) string {
	s := in.URL
	if in.Connected {
		s += ": connected"
	} else {
		s += ": NOT connected"
		if in.Error != nil {
			s += " (" + *in.Error + ")"
		}
	}
	s += fmt.Sprintf(", %d waiting", in.Waiting)
	if in.OldestAt != nil {
		s += ", the oldest since " + in.OldestAt.Local().Format("2006-01-02 15:04:05")
	}
	if in.LastDrainAt != nil {
		s += fmt.Sprintf(", last drained %s (%d this run)", in.LastDrainAt.Local().Format("2006-01-02 15:04:05"), in.Drained)
	}
	return s
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/hook"
)

func (c *command) subscriptions(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("subscriptions: expected list, add, show, register, unregister or rm")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "list", "ls":
		return c.subscriptionsList(ctx, rest)
	case "add":
		return c.subscriptionsAdd(ctx, rest)
	case "show":
		return c.subscriptionAction(ctx, sub, rest, http.MethodGet, "")
	case "register":
		return c.subscriptionAction(ctx, sub, rest, http.MethodPost, "/register")
	case "unregister":
		return c.subscriptionAction(ctx, sub, rest, http.MethodPost, "/unregister")
	case "rm", "delete":
		return c.subscriptionAction(ctx, sub, rest, http.MethodDelete, "")
	case "test":
		return c.subscriptionTest(ctx, rest)
	default:
		return usagef("subscriptions: unknown subcommand %q (want list, add, show, register, unregister or rm)", sub)
	}
}

func (c *command) subscriptionsList(ctx context.Context, args []string) error {
	fs := c.flags("subscriptions list", "subscriptions list [--endpoint ID|NAME] [--json]")
	endpoint := fs.String("endpoint", "", "only this endpoint's subscriptions")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if _, err := fs.parse(args); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	path := "/api/v1/subscriptions"
	if *endpoint != "" {
		e, err := cl.resolveEndpoint(ctx, *endpoint)
		if err != nil {
			return err
		}
		path += "?endpoint=" + e.ID
	}
	var list apijson.SubscriptionList
	var raw []byte
	if err := cl.do(ctx, http.MethodGet, path, nil, &list, &raw); err != nil {
		return err
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	if len(list.Subscriptions) == 0 {
		fmt.Fprintln(c.env.Stdout, "No subscriptions. Add one with: hooktray subscriptions add --endpoint NAME --provider diagral --settings-file diagral.json")
		return nil
	}
	w := tabwriter.NewWriter(c.text(c.env.Stdout), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPROVIDER\tSTATUS\tREGISTERED URL")
	for _, s := range list.Subscriptions {
		status := s.Status
		if s.LastError != nil {
			status += ": " + *s.LastError
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.ID, s.Provider, status, deref(s.RegisteredURL))
	}
	return w.Flush()
}

// subscriptionsAdd creates a subscription. Settings come from a JSON file (which may hold the
// provider's secrets: a file, never the command line) and --set key=value for the others.
func (c *command) subscriptionsAdd(ctx context.Context, args []string) error {
	fs := c.flags("subscriptions add", "subscriptions add --endpoint ID|NAME --provider P [--settings-file F] [--set key=value …] [--json]")
	endpoint := fs.String("endpoint", "", "the endpoint whose public URL to register (required)")
	provider := fs.String("provider", "", "diagral, device-platform-v2, homecast, github, stripe or http (required)")
	file := fs.String("settings-file", "", "a JSON object of the provider's settings, secrets included (- for standard input)")
	var sets stringList
	fs.Var(&sets, "set", "a setting, key=value (repeatable; lists as a,b; not for secrets)")
	diagralLogin := fs.String("diagral-login", "", "diagral: create the system's API key from this account e-mail; the password is read from standard input and never stored")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *endpoint == "" || *provider == "" {
		return usagef("subscriptions add: give --endpoint and --provider")
	}
	settings, err := c.readSettings(*file, sets)
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if *diagralLogin != "" {
		if *provider != "diagral" || c.env.Stdin == nil {
			return usagef("subscriptions add: --diagral-login is for --provider diagral, with the password on standard input")
		}
		if err := c.diagralKeys(ctx, cl, *diagralLogin, settings); err != nil {
			return err
		}
	}
	e, err := cl.resolveEndpoint(ctx, *endpoint)
	if err != nil {
		return err
	}
	var s apijson.Subscription
	var raw []byte
	change := hook.SubscriptionChange{EndpointID: &e.ID, Provider: provider, Settings: settings}
	if err := cl.do(ctx, http.MethodPost, "/api/v1/subscriptions", change, &s, &raw); err != nil {
		return err
	}
	// Wait a moment for the first registration, so the user sees how it went.
	for deadline := time.Now().Add(10 * time.Second); s.Status == "pending" && s.LastError == nil && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		if err := cl.do(ctx, http.MethodGet, "/api/v1/subscriptions/"+s.ID, nil, &s, &raw); err != nil {
			return err
		}
	}
	if *asJSON {
		c.printRaw(raw)
		return nil
	}
	c.describeSubscription(s)
	return nil
}

// readSettings is a subscription's settings: the JSON object in file (- for standard input), with
// each key=value of sets on top; secrets only from the file, never from the command line.
func (c *command) readSettings(file string, sets []string) (map[string]any, error) {
	settings := map[string]any{}
	if file != "" {
		var b []byte
		var err error
		if file == "-" && c.env.Stdin != nil {
			b, err = io.ReadAll(io.LimitReader(c.env.Stdin, 1<<20))
		} else {
			b, err = os.ReadFile(file)
		}
		if err != nil {
			return nil, fmt.Errorf("subscriptions add: read the settings: %w", err)
		}
		if err := json.Unmarshal(b, &settings); err != nil {
			return nil, usagef("subscriptions add: %s is not a JSON object: %v", file, err)
		}
	}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usagef("subscriptions add: --set %q is not key=value", kv)
		}
		if isSecretKey(k) {
			return nil, usagef("subscriptions add: %s is a secret: put it in --settings-file, never on the command line", k)
		}
		settings[k] = settingValue(v)
	}
	return settings, nil
}

// diagralKeys creates the Diagral system's API key from the account login (its password read
// from standard input, never kept) and puts it in settings.
func (c *command) diagralKeys(ctx context.Context, cl *client, login string, settings map[string]any) error {
	line, _ := bufio.NewReader(c.env.Stdin).ReadString('\n')
	password := strings.TrimRight(line, "\r\n")
	var keys struct {
		APIKey    string `json:"api_key"`
		SecretKey string `json:"secret_key"`
	}
	base, _ := settings["base_url"].(string)
	serial, _ := settings["serial_id"].(string)
	if err := cl.do(ctx, http.MethodPost, "/api/v1/subscriptions/diagral-keys",
		map[string]string{"base_url": base, "email": login, "password": password, "serial_id": serial}, &keys, nil); err != nil {
		return err
	}
	settings["api_key"], settings["secret_key"] = keys.APIKey, keys.SecretKey
	fmt.Fprintln(c.env.Stderr, "Created an API key for the system; the password was not kept.")
	return nil
}

// isSecretKey guesses from a key's name that it holds a secret, to keep it off command lines.
func isSecretKey(k string) bool {
	for _, s := range []string{"token", "key", "secret", "password"} {
		if strings.Contains(k, s) && k != "secret_scheme" && k != "secret_path" {
			return true
		}
	}
	return false
}

// settingValue reads a --set value: true/false, a number, a list (a,b), or text.
func settingValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return n
	}
	if strings.Contains(v, ",") {
		var out []any
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if n, err := strconv.ParseFloat(p, 64); err == nil {
				out = append(out, n)
			} else {
				out = append(out, p)
			}
		}
		return out
	}
	return v
}

func (c *command) describeSubscription(s apijson.Subscription) {
	w := tabwriter.NewWriter(c.text(c.env.Stdout), 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Subscription\t%s (%s)\n", s.ID, s.Provider)
	fmt.Fprintf(w, "Status\t%s\n", s.Status)
	if s.LastError != nil {
		fmt.Fprintf(w, "\t%s\n", *s.LastError)
	}
	if s.RegisteredURL != nil {
		fmt.Fprintf(w, "Registered\t%s (id %s)\n", *s.RegisteredURL, deref(s.RemoteID))
	}
	if f := s.ForcedUpdate; f != nil {
		from := "another URL (the provider did not say which)"
		if f.From != nil {
			from = *f.From
		}
		fmt.Fprintf(w, "Forced\t%s: from %s to %s\n", f.At.Local().Format(time.DateTime), from, f.To)
	}
	if s.LastCheckedAt != nil {
		fmt.Fprintf(w, "Checked\t%s\n", s.LastCheckedAt.Local().Format(time.DateTime))
	}
	if len(s.Secrets) > 0 {
		fmt.Fprintf(w, "Secrets\t%s (sealed)\n", strings.Join(s.Secrets, ", "))
	}
	w.Flush()
}

func (c *command) subscriptionAction(ctx context.Context, sub string, args []string, method, suffix string) error {
	var s apijson.Subscription
	id, asJSON, raw, err := c.idCall(ctx, "subscriptions "+sub, "subscription id", args, method,
		func(id string) string { return "/api/v1/subscriptions/" + pathEscape(id) + suffix }, &s)
	if err != nil {
		return err
	}
	switch {
	case asJSON && len(raw) > 0:
		c.printRaw(raw)
	case asJSON:
		c.printRaw([]byte(`{"deleted":"` + id + `"}`))
	case method == http.MethodDelete:
		fmt.Fprintf(c.env.Stdout, "Unregistered at the provider and removed subscription %s.\n", id)
	default:
		c.describeSubscription(s)
	}
	return nil
}

// subscriptionTest asks the provider for a test delivery and shows the event it produced.
func (c *command) subscriptionTest(ctx context.Context, args []string) error {
	var ev apijson.Event
	_, asJSON, raw, err := c.idCall(ctx, "subscriptions test", "subscription id", args, http.MethodPost,
		func(id string) string { return "/api/v1/subscriptions/" + pathEscape(id) + "/test" }, &ev)
	if err != nil {
		return err
	}
	if asJSON {
		c.printRaw(raw)
		return nil
	}
	fmt.Fprintf(c.env.Stdout, "The provider's test delivery arrived: event %d (%s, signature %s).\n", ev.ID, deref(ev.Type), ev.Verification.Result)
	return nil
}

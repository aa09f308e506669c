// Package serve runs `hooktray serve` for the benchmarks and calls its admin API, so that every
// benchmark starts Hooktray the same way.
package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Instance is a running hooktray serve.
type Instance struct {
	Cmd     *exec.Cmd
	DataDir string
	API     string
	Token   string
	own     bool // the data dir is the instance's, removed at Stop
}

// Start runs bin serve on dataDir ("" for a new temporary one) with any extra flags, and waits
// until it answers.
func Start(ctx context.Context, bin, dataDir string, extra ...string) (*Instance, error) {
	in := &Instance{DataDir: dataDir}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "hooktray-bench-")
		if err != nil {
			return nil, err
		}
		in.DataDir, in.own = dir, true
	}
	os.Remove(filepath.Join(in.DataDir, "runtime.json"))
	args := append([]string{"serve", "--data-dir", in.DataDir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--keep-days", "0"}, extra...)
	in.Cmd = exec.CommandContext(ctx, bin, args...)
	in.Cmd.Stderr = os.Stderr
	if err := in.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w (run make bench, which builds it)", bin, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var rt struct{ API string }
		if b, err := os.ReadFile(filepath.Join(in.DataDir, "runtime.json")); err == nil && json.Unmarshal(b, &rt) == nil && rt.API != "" {
			in.API = rt.API
			break
		}
		if time.Now().After(deadline) {
			in.Stop()
			return nil, errors.New("hooktray did not start")
		}
	}
	token, err := os.ReadFile(filepath.Join(in.DataDir, "api-token"))
	if err != nil {
		in.Stop()
		return nil, fmt.Errorf("read the API token: %w", err)
	}
	in.Token = strings.TrimSpace(string(token))
	return in, nil
}

// Stop ends serve as a user would (SIGINT), waits for it, and removes a data dir of its own.
func (in *Instance) Stop() {
	if in.Cmd.ProcessState == nil {
		in.Cmd.Process.Signal(os.Interrupt)
		in.Cmd.Wait()
	}
	if in.own {
		os.RemoveAll(in.DataDir)
	}
}

// Request sends an admin API request with the token.
func (in *Instance) Request(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, in.API+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+in.Token)
	return http.DefaultClient.Do(req)
}

// Call sends an admin API request and decodes its answer into out (when not nil).
func (in *Instance) Call(method, path string, body, out any) error {
	resp, err := in.Request(context.Background(), method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

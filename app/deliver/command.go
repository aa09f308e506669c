package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// stderrKept is how much of a failed command's standard error becomes the delivery's error.
const stderrKept = 4 << 10

// runCommand runs the target's program (argv as configured, never a shell line, nothing taken
// from the webhook as an argument) with the body on standard input and the request in the
// environment. Exit 0 is success; at the timeout the whole process group is killed.
func (e *Engine) runCommand(ctx context.Context, r Request) Outcome {
	c := r.Target.Command
	if c == nil || len(c.Argv) == 0 {
		return Outcome{Err: errors.New("the target has no program to run"), Final: true}
	}
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Stdin = bytes.NewReader(r.Event.Body)
	cmd.Env = append(os.Environ(), commandEnv(r)...)
	var stderr tailBuffer
	cmd.Stdout = &stderr // what it prints helps when it fails; only the end is kept
	cmd.Stderr = &stderr
	newGroup(cmd)
	start := time.Now()
	where := strings.Join(c.Argv, " ")
	if err := cmd.Start(); err != nil {
		return Outcome{URL: where, Err: fmt.Errorf("cannot run %s: %w", c.Argv[0], err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		killGroup(cmd)
		<-done
		return Outcome{URL: where, Latency: time.Since(start), Err: errors.New("the program did not finish within the target's timeout and was stopped")}
	}
	o := Outcome{URL: where, Latency: time.Since(start), Response: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
		o.Success = true
	case errors.As(err, &exit):
		o.Status = exit.ExitCode()
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "(no output)"
		}
		o.Err = fmt.Errorf("exited with %d: %s", exit.ExitCode(), msg)
	default:
		o.Err = err
	}
	return o
}

// commandEnv describes the request to the program: HOOKTRAY_EVENT_ID, HOOKTRAY_ENDPOINT,
// HOOKTRAY_EVENT_TYPE, HOOKTRAY_METHOD, HOOKTRAY_QUERY, HOOKTRAY_DELIVERY, HOOKTRAY_ATTEMPT and
// each header as HOOKTRAY_HEADER_<NAME> (upper case, '-' as '_').
func commandEnv(r Request) []string {
	ev := r.Event
	env := []string{
		"HOOKTRAY_EVENT_ID=" + strconv.FormatInt(ev.ID, 10),
		"HOOKTRAY_ENDPOINT=" + ev.EndpointID,
		"HOOKTRAY_EVENT_TYPE=" + ev.Type,
		"HOOKTRAY_METHOD=" + ev.Method,
		"HOOKTRAY_QUERY=" + ev.Query,
		"HOOKTRAY_DELIVERY=" + strconv.FormatInt(r.Delivery.ID, 10),
		"HOOKTRAY_ATTEMPT=" + strconv.Itoa(r.Attempt),
	}
	for k, vs := range ev.Header {
		name := strings.Map(func(c rune) rune {
			if c > unicode.MaxASCII || !(unicode.IsLetter(c) || unicode.IsDigit(c)) {
				return '_'
			}
			return unicode.ToUpper(c)
		}, k)
		env = append(env, "HOOKTRAY_HEADER_"+name+"="+strings.ReplaceAll(strings.Join(vs, ", "), "\x00", ""))
	}
	return env
}

// tailBuffer keeps the last stderrKept bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > stderrKept {
		t.b = append(t.b[:0:0], t.b[len(t.b)-stderrKept:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return snippet(t.b) }

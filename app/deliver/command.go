package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// stderrKept is how much of a failed command's standard error becomes the delivery's error.
const stderrKept = 4 << 10

// stopGrace is how long a program (or its supervisor) has to end after it is asked to stop,
// before it is killed.
const stopGrace = time.Second

// runCommand runs the target's program (argv as configured, never a shell line, nothing taken
// from the webhook as an argument) with the body on standard input and the request in the
// environment. Success is the program's own exit status 0, whatever its children do after.
// Everything it started goes with it: its process group, and on Linux, under the supervisor
// (Options.Supervisor), every descendant, even one that left the group with setsid. Its output
// goes to a file, not a pipe, so a leftover child holding the output open cannot hold up the
// queue.
func (e *Engine) runCommand(ctx context.Context, r Request) Outcome {
	c := r.Target.Command
	if c == nil || len(c.Argv) == 0 {
		return Outcome{Err: errors.New("the target has no program to run"), Final: true}
	}
	where := strings.Join(c.Argv, " ")
	argv := append(append([]string(nil), e.opts.Supervisor...), c.Argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.Dir
	cmd.Stdin = bytes.NewReader(r.Event.Body)
	cmd.Env = append(os.Environ(), commandEnv(r)...)
	out, err := outputFile()
	if err != nil {
		return Outcome{URL: where, Err: err}
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out // what it prints helps when it fails; only the end is kept
	cmd.WaitDelay = stopGrace
	newGroup(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Outcome{URL: where, Err: fmt.Errorf("cannot run %s: %w", c.Argv[0], err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
		killGroup(cmd) // what it left behind in its group
	case <-ctx.Done():
		stopProgram(cmd, done)
		return Outcome{URL: where, Latency: time.Since(start), Err: errors.New("the program did not finish within the target's timeout and was stopped")}
	}
	tail := tailOf(out)
	o := Outcome{URL: where, Latency: time.Since(start), Response: tail}
	var exit *exec.ExitError
	switch {
	case err == nil:
		o.Success = true
	case errors.As(err, &exit):
		o.Status = exit.ExitCode()
		msg := strings.TrimSpace(tail)
		if msg == "" {
			msg = "(no output)"
		}
		o.Err = fmt.Errorf("exited with %d: %s", exit.ExitCode(), msg)
	default:
		o.Err = err
	}
	return o
}

// stopProgram ends a program that ran past its time: asked first (the supervisor then ends
// everything the program started), killed with its group after stopGrace.
func stopProgram(cmd *exec.Cmd, done <-chan error) {
	askToStop(cmd)
	select {
	case <-done:
	case <-time.After(stopGrace):
		killGroup(cmd)
		<-done
	}
	killGroup(cmd)
}

// outputFile is where a program's output goes: an anonymous temporary file.
func outputFile() (*os.File, error) {
	f, err := os.CreateTemp("", "hooktray-program-*")
	if err != nil {
		return nil, fmt.Errorf("cannot keep the program's output: %w", err)
	}
	os.Remove(f.Name()) // the open file stays readable; nothing is left behind (Unix)
	return f, nil
}

// tailOf is the end of what the program wrote.
func tailOf(f *os.File) string {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return ""
	}
	from := max(size-stderrKept, 0)
	b := make([]byte, size-from)
	n, _ := f.ReadAt(b, from)
	return snippet(b[:n])
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

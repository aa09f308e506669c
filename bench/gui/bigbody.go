package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/bench/proc"
)

// bigBodyResult is what selecting a large JSON body cost the window.
type bigBodyResult struct {
	detail, body time.Duration // from the click to the detail, and to the body's beginning, on screen
	stall        time.Duration // the longest the UI goroutine did not respond, from the click on
	rssBefore    int64         // before the click
	rssShown     int64         // with the body shown
	rssAfter     int64         // after selecting a small event again, once memory was let go
}

// measureBigBody posts a JSON body of size bytes among small events, selects it in the shown
// window, then a small one, and reports how long the window took and what memory did.
func measureBigBody(env []string, bin string, size int) (bigBodyResult, error) {
	var res bigBodyResult
	in, err := startInstance(env, bin, shown)
	if err != nil {
		return res, err
	}
	defer in.stop()
	id := in.url[strings.LastIndex(in.url, "/")+1:]
	if err := in.call("PATCH", "/api/v1/endpoints/"+id, fmt.Sprintf(`{"body_limit":%d}`, 2*size), nil); err != nil {
		return res, err
	}
	post := func(body []byte) error {
		resp, err := http.Post(in.url, "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for i := range 10 {
		if err := post([]byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			return res, err
		}
	}
	if err := post(bigJSON(size)); err != nil {
		return res, err
	}
	if err := post([]byte(`{"last":true}`)); err != nil {
		return res, err
	}
	time.Sleep(3 * time.Second) // listed, and the newest one's detail drawn
	pid := in.cmd.Process.Pid
	res.rssBefore, _ = proc.RSS(pid)
	drain(in)
	start := time.Now()
	if err := click(env, 1); err != nil { // the second row: the big one
		return res, err
	}
	// A build without the body trace (an older one, measured for comparison) gives the detail only.
	deadline := time.After(90 * time.Second)
	for res.detail == 0 || (res.body == 0 && time.Since(start) < 30*time.Second) {
		select {
		case line := <-in.traces:
			at := traceTime(line)
			switch {
			case strings.HasPrefix(line, "ui: detail shown"):
				res.detail = at.Sub(start)
			case strings.HasPrefix(line, "ui: body shown"):
				res.body = at.Sub(start)
			case strings.HasPrefix(line, "ui: stall"):
				res.stall = max(res.stall, stallOf(line))
			}
		case <-deadline:
			return res, fmt.Errorf("the event was not shown within 90 s")
		case <-time.After(time.Second):
		}
	}
	time.Sleep(2 * time.Second)
	res.rssShown, _ = proc.RSS(pid)
	res.stall = max(res.stall, stalls(in))
	if err := click(env, 0); err != nil { // back to a small event
		return res, err
	}
	time.Sleep(5 * time.Second)
	res.stall = max(res.stall, stalls(in))
	res.rssAfter, _ = proc.RSS(pid)
	return res, nil
}

// bigJSON is a JSON array of objects of about size bytes.
func bigJSON(size int) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d","tags":["a","b","c"],"value":%d.5,"ok":true,"note":null}`, i, i, i)
	}
	b.WriteString("]")
	return b.Bytes()
}

// click clicks the log's row (0: the newest) of the Hooktray window.
func click(env []string, row int) error {
	find := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Hooktray$")
	find.Env = env
	out, err := find.Output()
	if err != nil {
		return err
	}
	win := strings.Fields(string(out))[0]
	c := exec.Command("xdotool", "mousemove", "--window", win, "420", strconv.Itoa(161+row*39), "click", "1")
	c.Env = env
	return c.Run()
}

func drain(in *instance) {
	for len(in.traces) > 0 {
		<-in.traces
	}
}

// stalls is the longest stall among the traces waiting.
func stalls(in *instance) time.Duration {
	var worst time.Duration
	for len(in.traces) > 0 {
		if line := <-in.traces; strings.HasPrefix(line, "ui: stall") {
			worst = max(worst, stallOf(line))
		}
	}
	return worst
}

// traceTime is when a trace line says it happened (its last field, Unix nanoseconds).
func traceTime(line string) time.Time {
	f := strings.Fields(line)
	ns, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
	return time.Unix(0, ns)
}

func stallOf(line string) time.Duration {
	f := strings.Fields(line)
	ms, _ := strconv.Atoi(f[2])
	return time.Duration(ms) * time.Millisecond
}

// runBigBody measures selecting a 10 MiB JSON body and prints it against the targets: under
// 200 ms to its beginning with the window responsive, and memory back within 1.2 times.
func runBigBody(hooktray string) error {
	display, stopX, err := startXvfb()
	if err != nil {
		return err
	}
	defer stopX()
	env := append(os.Environ(), "DISPLAY="+display)
	r, err := measureBigBody(env, hooktray, 10<<20)
	if err != nil {
		return err
	}
	fmt.Printf("\nbig body: selecting a 10 MiB JSON body in the shown window, under Xvfb\n")
	fmt.Printf("  click to detail %7.0f ms, to the body's beginning %7.0f ms (target < 200)\n", ms(r.detail), ms(r.body))
	fmt.Printf("  longest UI stall from the click on %6.0f ms\n", ms(r.stall))
	fmt.Printf("  RSS before %.1f MiB, body shown %.1f MiB, after leaving it %.1f MiB: %.2fx (target <= 1.2x)\n",
		mib(r.rssBefore), mib(r.rssShown), mib(r.rssAfter), float64(r.rssAfter)/float64(r.rssBefore))
	return nil
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what wrk reports for one run.
type wrkResult struct {
	RPS     float64
	P99     time.Duration
	Non2xx  int // answers that were not 2xx (wrk counts 3xx with them)
	Errors  int // connect, read, write and timeout errors
	Summary string
}

func (r wrkResult) String() string {
	return fmt.Sprintf("%8.0f req/s  p99 %6.2f ms  (non-2xx %d, socket errors %d)",
		r.RPS, float64(r.P99)/float64(time.Millisecond), r.Non2xx, r.Errors)
}

// wrkScript writes the Lua script that makes wrk POST body as JSON, and returns its path.
func wrkScript(dir string, body []byte, hdr ...string) (string, error) {
	var b strings.Builder
	b.WriteString("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", hdr[i], hdr[i+1])
	}
	// A long bracket string takes the body as it is; the level is one the body cannot close.
	level := strings.Repeat("=", 1)
	for bytes.Contains(body, []byte("]"+level+"]")) {
		level += "="
	}
	fmt.Fprintf(&b, "wrk.body = [%s[%s]%s]\n", level, body, level)
	path := filepath.Join(dir, fmt.Sprintf("post-%d.lua", time.Now().UnixNano()))
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

// runWrk runs `wrk -t2 -c<conns> -d<d> --latency` against url with script and parses its report.
func runWrk(wrk, script, url string, conns int, d time.Duration) (wrkResult, error) {
	out, err := exec.Command(wrk, "-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", int(d.Seconds())),
		"--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(out)
}

// parseWrk reads the lines of wrk's report that the comparison needs.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	r.Summary = string(out)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.RPS, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "99%":
			r.P99 = parseWrkDuration(f[1])
		case len(f) == 5 && f[0] == "Non-2xx":
			r.Non2xx, _ = strconv.Atoi(f[4])
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.Atoi(strings.TrimSuffix(f[i+1], ","))
				r.Errors += n
			}
		}
	}
	if r.RPS == 0 {
		return r, fmt.Errorf("wrk printed no Requests/sec: %s", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's "812.00us", "7.69ms", "1.02s".
func parseWrkDuration(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return time.Duration(f * float64(u.unit))
			}
		}
	}
	return 0
}

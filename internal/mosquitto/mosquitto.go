// Package mosquitto runs Debian's mosquitto MQTT broker for tests: on a free loopback port, with
// or without a password, stopped and started again on the same port, so a test can take the
// broker away mid-stream as a real network does.
package mosquitto

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

// Broker is a running (or stopped) mosquitto.
type Broker struct {
	t    *testing.T
	dir  string
	Port int
	URL  string // mqtt://127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a broker; with username non-empty it accepts only that user, with password.
func Start(t *testing.T, username, password string) *Broker {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/mosquitto"); err != nil {
			t.Fatal("the MQTT tests run Debian's mosquitto: apt-get install mosquitto (scripts/setup-debian.sh does)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	b := &Broker{t: t, dir: t.TempDir(), Port: freePort(t)}
	b.URL = "mqtt://127.0.0.1:" + strconv.Itoa(b.Port)
	conf := fmt.Sprintf("listener %d 127.0.0.1\npersistence false\n", b.Port)
	if u, err := user.Current(); err == nil {
		conf += "user " + u.Username + "\n" // run as root, mosquitto would become "mosquitto", who cannot read the test's files
	}
	if username == "" {
		conf += "allow_anonymous true\n"
	} else {
		pw := filepath.Join(b.dir, "passwords")
		if out, err := exec.Command("mosquitto_passwd", "-b", "-c", pw, username, password).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v %s", err, out)
		}
		os.Chmod(pw, 0o600)
		conf += "allow_anonymous false\npassword_file " + pw + "\n"
	}
	os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(conf), 0o600)
	b.cmd = exec.Command(bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	b.Start()
	t.Cleanup(b.Stop)
	return b
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start (re)starts the stopped broker on its port and waits until it accepts connections.
func (b *Broker) Start() {
	b.t.Helper()
	b.cmd = exec.Command(b.cmd.Path, b.cmd.Args[1:]...)
	logf, err := os.OpenFile(filepath.Join(b.dir, "mosquitto.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		b.t.Fatal(err)
	}
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(b.cmd, b.done)
	testutil.Eventually(b.t, "mosquitto to listen", func() bool {
		select {
		case <-b.done:
			out, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
			b.t.Fatalf("mosquitto exited: %s", out)
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(b.Port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Stop kills the broker (as a crash or a pulled cable would) and waits until it is gone.
func (b *Broker) Stop() {
	if b.cmd != nil && b.cmd.Process != nil && b.done != nil {
		b.cmd.Process.Kill()
		<-b.done
	}
}

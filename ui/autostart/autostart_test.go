package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLinuxAutostartEntry(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	e := Entry{Exe: "/opt/My Apps/hooktray"}
	if on, err := e.Enabled(); on || err != nil {
		t.Fatalf("enabled before: %v %v", on, err)
	}
	if err := e.Enable(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "autostart", "hooktray.desktop"))
	if err != nil || !strings.Contains(string(b), `Exec="/opt/My Apps/hooktray" --hidden`) {
		t.Errorf("entry %s %v", b, err)
	}
	if on, _ := e.Enabled(); !on {
		t.Error("not enabled after Enable")
	}
	if err := e.Disable(); err != nil {
		t.Fatal(err)
	}
	if on, _ := e.Enabled(); on {
		t.Error("still enabled after Disable")
	}
}

func TestMacLaunchAgent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "LaunchAgents")
	e := Entry{Exe: "/Applications/Hooktray.app/Contents/MacOS/hooktray", Dir: dir}
	if err := e.Enable(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, Label+".plist"))
	for _, want := range []string{"<string>/Applications/Hooktray.app/Contents/MacOS/hooktray</string><string>--hidden</string>", "<key>RunAtLoad</key><true/>"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plist lacks %q:\n%s", want, b)
		}
	}
}

// Package autostart starts Hooktray at login, in the tray (--hidden), the way each OS expects: an
// XDG autostart entry on Linux, a LaunchAgent on macOS, a Run key on Windows. Dir overrides where
// the entry goes (tests).
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Label names the entry (the LaunchAgent's label, the Run key's value).
const Label = "io.hooktray.app"

// Entry is the login item of one executable.
type Entry struct {
	Exe string // the hooktray executable started at login
	// Dir is where the entry file goes: default the OS's place (~/.config/autostart,
	// ~/Library/LaunchAgents). Not used on Windows, which keeps it in the registry.
	Dir string
}

// Current is the entry of the running executable.
func Current() (Entry, error) {
	exe, err := os.Executable()
	if err != nil {
		return Entry{}, fmt.Errorf("start at login: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return Entry{Exe: exe}, nil
}

func (e Entry) dir() (string, error) {
	if e.Dir != "" {
		return e.Dir, nil
	}
	switch runtime.GOOS {
	case "darwin":
		home, err := os.UserHomeDir()
		return filepath.Join(home, "Library", "LaunchAgents"), err
	default:
		cfg := os.Getenv("XDG_CONFIG_HOME")
		if cfg == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			cfg = filepath.Join(home, ".config")
		}
		return filepath.Join(cfg, "autostart"), nil
	}
}

// file is the entry's path and content on Linux and macOS.
func (e Entry) file() (path, content string, err error) {
	dir, err := e.dir()
	if err != nil {
		return "", "", err
	}
	if runtime.GOOS == "darwin" && e.Dir == "" || strings.HasSuffix(dir, "LaunchAgents") {
		return filepath.Join(dir, Label+".plist"), fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key><string>%s</string>
	<key>ProgramArguments</key><array><string>%s</string><string>--hidden</string></array>
	<key>RunAtLoad</key><true/>
	<key>ProcessType</key><string>Interactive</string>
</dict>
</plist>
`, Label, xmlEscape(e.Exe)), nil
	}
	return filepath.Join(dir, "hooktray.desktop"), fmt.Sprintf(`[Desktop Entry]
Type=Application
Name=Hooktray
Comment=Receive webhooks on this computer
Exec=%s --hidden
Icon=hooktray
Terminal=false
X-GNOME-Autostart-enabled=true
`, desktopQuote(e.Exe)), nil
}

// Enabled reports whether Hooktray starts at login.
func (e Entry) Enabled() (bool, error) {
	if runtime.GOOS == "windows" && e.Dir == "" {
		return runKeyEnabled()
	}
	path, _, err := e.file()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Enable makes Hooktray start at login, in the tray.
func (e Entry) Enable() error {
	if runtime.GOOS == "windows" && e.Dir == "" {
		return setRunKey(`"` + e.Exe + `" --hidden`)
	}
	path, content, err := e.file()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}

// Disable stops Hooktray from starting at login.
func (e Entry) Disable() error {
	if runtime.GOOS == "windows" && e.Dir == "" {
		return deleteRunKey()
	}
	path, _, err := e.file()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}

// desktopQuote quotes a path for a .desktop file's Exec key.
func desktopQuote(s string) string {
	if !strings.ContainsAny(s, " \t\"'\\$`") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

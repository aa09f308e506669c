package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// The window's shortcuts, shown in its menus. The menu takes them first wherever the focus is;
// the canvas has them too, for when there is no menu bar (and for tests).
var (
	shortcutNew  = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutFind = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutCurl = &desktop.CustomShortcut{KeyName: fyne.KeyC, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	shortcutBody = &desktop.CustomShortcut{KeyName: fyne.KeyB, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	shortcutPane = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
)

func (u *UI) mainMenu() *fyne.MainMenu {
	item := func(label string, sc fyne.Shortcut, do func()) *fyne.MenuItem {
		m := fyne.NewMenuItem(label, do)
		m.Shortcut = sc
		return m
	}
	del := item("Delete event…", &desktop.CustomShortcut{KeyName: fyne.KeyDelete}, u.detail.confirmDelete) // the list's Del key
	return fyne.NewMainMenu(
		fyne.NewMenu("File",
			item("New endpoint…", shortcutNew, func() { u.editEndpoint(nil) }),
			fyne.NewMenuItem("Tunnel settings…", u.editTunnel),
			fyne.NewMenuItem("Always-on inbox…", u.showInbox),
			fyne.NewMenuItem("Forwarding…", func() { u.showForwarding("") }),
			fyne.NewMenuItem("Subscriptions…", func() { u.showSubscriptions("") }),
			u.loginItem(),
			fyne.NewMenuItem("Close window", u.HideWindow),
		),
		fyne.NewMenu("Edit",
			item("Find events", shortcutFind, u.log.focusSearch),
			item("Copy as cURL", shortcutCurl, u.detail.copyCurlCommand),
			item("Copy body", shortcutBody, u.detail.copyBody),
			del,
		),
		fyne.NewMenu("View",
			item("Endpoints pane", shortcutPane, func() { u.setEndpointsShown(u.endpointsPane.Hidden) }),
		),
		fyne.NewMenu("Help", fyne.NewMenuItem("About Hooktray", u.showAbout)),
	)
}

// addShortcuts gives the canvas the menus' shortcuts.
func (u *UI) addShortcuts(c fyne.Canvas) {
	for sc, do := range map[fyne.Shortcut]func(){
		shortcutNew:  func() { u.editEndpoint(nil) },
		shortcutFind: u.log.focusSearch,
		shortcutCurl: u.detail.copyCurlCommand,
		shortcutBody: u.detail.copyBody,
		shortcutPane: func() { u.setEndpointsShown(u.endpointsPane.Hidden) },
	} {
		c.AddShortcut(sc, func(fyne.Shortcut) { do() })
	}
}

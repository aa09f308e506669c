#!/usr/bin/env bash
# Builds the Linux package: dist/Hooktray-<version>-linux-<arch>.tar.gz with the binary, a .desktop
# file, icons at the usual sizes, and a Makefile that installs it (user-local by default).
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
arch=$(go env GOARCH)
name="Hooktray-${version}-linux-${arch}"
stage="dist/${name}"
rm -rf "$stage" "dist/${name}.tar.gz"
mkdir -p "$stage/bin" "$stage/share/applications" "$stage/share/icons/hicolor"
go build -tags "${TAGS:-sqlite_fts5 migrated_fynedo}" -ldflags "-s -w -X main.version=${version}" -o "$stage/bin/hooktray" .
go run ./assets/gen -hicolor "$stage/share/icons/hicolor"
cp packaging/linux/hooktray.desktop "$stage/share/applications/"
cp packaging/linux/Makefile "$stage/"
cp LICENSE* "$stage/" 2>/dev/null || true
cat > "$stage/README.txt" <<TXT
Hooktray ${version} for Linux (${arch})

Install for yourself:   make install        (puts hooktray in ~/.local/bin and adds a menu entry)
Install for everyone:   sudo make install PREFIX=/usr/local
Or just run:            ./bin/hooktray
Remove:                 make uninstall      (your data stays in ~/.config/hooktray)

The tray icon needs a tray host: GNOME needs the "AppIndicator and KStatusNotifierItem Support"
extension; KDE, Xfce, Cinnamon and MATE have one.
TXT
tar -C dist -czf "dist/${name}.tar.gz" "$name"
echo "dist/${name}.tar.gz"

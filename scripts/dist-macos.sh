#!/usr/bin/env bash
# Builds Hooktray.app on a Mac (see packaging/macos/README.md): fyne package, the Info.plist
# additions, an ad-hoc signature, a zip. Untested on the Linux machines this project is built on.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(uname -s)" = Darwin ] || { echo "dist-macos runs on macOS only (see packaging/macos/README.md)" >&2; exit 2; }
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
arch=$(go env GOARCH)
fyne=${FYNE:-fyne}
rm -rf dist/Hooktray.app && mkdir -p dist
"$fyne" package -os darwin -name Hooktray -app-id io.hooktray.app -icon assets/icon.png \
  -app-version "${version#v}" -tags "${TAGS:-sqlite_fts5 migrated_fynedo}" -release
mv Hooktray.app dist/
plist=dist/Hooktray.app/Contents/Info.plist
for key in LSMinimumSystemVersion NSUserNotificationAlertStyle NSUserNotificationsUsageDescription; do
  value=$(/usr/libexec/PlistBuddy -c "Print :$key" packaging/macos/Info.plist)
  /usr/libexec/PlistBuddy -c "Delete :$key" "$plist" 2>/dev/null || true
  /usr/libexec/PlistBuddy -c "Add :$key string $value" "$plist"
done
codesign --force --deep -s - dist/Hooktray.app
(cd dist && ditto -c -k --keepParent Hooktray.app "Hooktray-${version}-macos-${arch}.zip")
echo "dist/Hooktray-${version}-macos-${arch}.zip"

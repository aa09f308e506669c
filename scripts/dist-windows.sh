#!/usr/bin/env bash
# Cross-builds the Windows package here: hooktray.exe (cgo with Debian's MinGW, GUI subsystem, icon,
# version resource and manifest through windres) zipped as dist/Hooktray-<version>-windows-amd64.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
cc=x86_64-w64-mingw32-gcc
if ! command -v "$cc" >/dev/null || ! command -v zip >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 zip >/dev/null
fi
name="Hooktray-${version}-windows-amd64"
stage="dist/${name}"
rm -rf "$stage" "dist/${name}.zip"
mkdir -p "$stage"
work=$(mktemp -d)
trap 'rm -rf "$work" rsrc_windows_amd64.syso' EXIT
go run ./assets/gen -ico "$work/hooktray.ico"
cp packaging/windows/hooktray.manifest "$work/"
# Windows wants four numbers in a version: 1.2.3 from a tag v1.2.3, else 0.0.0.
nums=$(echo "$version" | sed -n 's/^v\{0,1\}\([0-9]*\)\.\([0-9]*\)\.\([0-9]*\).*/\1,\2,\3,0/p')
nums=${nums:-0,0,0,0}
cat > "$work/hooktray.rc" <<RC
1 ICON "hooktray.ico"
1 24 "hooktray.manifest"
1 VERSIONINFO
FILEVERSION ${nums}
PRODUCTVERSION ${nums}
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "Hooktray"
      VALUE "FileDescription", "Hooktray: webhooks on your computer"
      VALUE "FileVersion", "${version}"
      VALUE "ProductName", "Hooktray"
      VALUE "ProductVersion", "${version}"
      VALUE "OriginalFilename", "hooktray.exe"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
RC
(cd "$work" && x86_64-w64-mingw32-windres -O coff -o rsrc.syso hooktray.rc)
cp "$work/rsrc.syso" rsrc_windows_amd64.syso
CGO_ENABLED=1 CC=$cc GOOS=windows GOARCH=amd64 go build -tags "${TAGS:-sqlite_fts5 migrated_fynedo}" \
  -ldflags "-s -w -H=windowsgui -X main.version=${version}" -o "$stage/hooktray.exe" .
cat > "$stage/README.txt" <<TXT
Hooktray ${version} for Windows

Double-click hooktray.exe. Hooktray opens its window and puts its icon in the notification area.
Your data: %AppData%\\hooktray. File > Start at login starts it in the tray when you log in.
From a terminal: hooktray.exe serve, hooktray.exe status, hooktray.exe --help.
TXT
(cd dist && zip -qr "${name}.zip" "$name")
echo "dist/${name}.zip"

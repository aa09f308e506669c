#!/usr/bin/env bash
# Redraws the screenshots in docs/ from the real app under Xvfb: the main window in the dark and
# the light theme at the default size (1280x780) and at 1024x700, an event's body, the new
# endpoint form, a target's rules tried on the last events, and the always-on inbox set up against the stand-in of Cloudflare's API. Needs
# Xvfb, xdotool, xwd (x11-apps), ImageMagick, and npm (workerd runs the inbox).
# Usage: scripts/screenshots.sh [bin/hooktray]
set -euo pipefail
bin=$(realpath "${1:-bin/hooktray}")
docs=$(realpath docs)
work=$(mktemp -d)
display=:93
cleanup() {
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null || true
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
  [ -n "${target:-}" ] && kill "$target" 2>/dev/null || true
  [ -n "${standin:-}" ] && kill "$standin" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export DISPLAY=$display

shot() { xwd -root -silent | convert xwd:- -crop "$geometry+0+0" +repage "png:$docs/$1"; echo "docs/$1"; }
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-0.6}"; }
api() { curl -sf -H "Authorization: Bearer $token" -X "$1" "$base$2" ${3:+-d "$3"}; }

# A local server the forwarding target sends to: it answers 500 to every other request.
python3 - "$work/port" <<'EOF' &
import http.server, sys, threading
n = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        n[0] += 1
        self.send_response(500 if n[0] % 2 else 204); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(sys.argv[1], 'w').write(str(s.server_port))
s.serve_forever()
EOF
target=$!

start() { # theme size
  geometry=$2
  [ -n "${xvfb:-}" ] || { Xvfb $display -screen 0 "${2}x24" >/dev/null 2>&1 & xvfb=$!; }
  sleep 0.5
  FYNE_THEME=$1 "$bin" --data-dir "$work/data" --listen 127.0.0.1:0 --api-listen 127.0.0.1:0 --tunnel off >"$work/log" 2>&1 & app=$!
  for _ in $(seq 100); do [ -f "$work/data/runtime.json" ] && break; sleep 0.1; done
  base=$(python3 -c "import json;print(json.load(open('$work/data/runtime.json'))['api'])")
  token=$(cat "$work/data/api-token")
  sleep 1.5
  # The window opens at its default size; on a smaller screen the user makes it fit.
  xdotool search --onlyvisible --name '^Hooktray$' windowsize "${2%x*}" "${2#*x}" windowmove 0 0
  sleep 0.8
}
stop() { kill "$app"; wait "$app" 2>/dev/null || true; kill "$xvfb"; wait "$xvfb" 2>/dev/null || true; app= xvfb=; }

fill() { # endpoints, events of several kinds, a target that fails now and then
  ha=$(api POST /api/v1/endpoints '{"name":"Home Assistant"}' | python3 -c "import json,sys;print(json.load(sys.stdin)['url'])")
  gh=$(api POST /api/v1/endpoints '{"name":"GitHub","verify":{"scheme":"github","mode":"enforce"},"secret":"s3cr3t"}' | python3 -c "import json,sys;print(json.load(sys.stdin)['url'])")
  api POST /api/v1/endpoints '{"name":"Alarm"}' >/dev/null
  haid=${ha##*/}
  api POST "/api/v1/endpoints/$haid/targets" "{\"url\":\"http://127.0.0.1:$(cat "$work/port")/hook\",\"max_retries\":2}" >/dev/null
  python3 - "$ha" "$gh" <<'EOF'
import json, sys, urllib.request, random
ha, gh = sys.argv[1:]
def post(url, body, ct='application/json', hdr={}):
    req = urllib.request.Request(url, data=body, headers={'Content-Type': ct, **hdr}, method='POST')
    try: urllib.request.urlopen(req).read()
    except Exception: pass
rooms = ['kitchen', 'hall', 'garage', 'bedroom', 'porch']
for i in range(40):
    r = rooms[i % 5]
    post(ha, json.dumps({"type": "state_changed", "entity_id": f"sensor.{r}_temperature", "state": str(19 + i % 7), "attributes": {"unit": "°C", "friendly_name": f"{r.title()} temperature"}}).encode())
post(gh + '?source=ci', json.dumps({"action": "completed", "workflow_run": {"id": 42, "conclusion": "success"}}).encode(), hdr={'X-GitHub-Event': 'workflow_run', 'X-Hub-Signature-256': 'sha256=00'})
post(ha + '?device=door', b'state=open&battery=81&rssi=-62', 'application/x-www-form-urlencoded')
big = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"], "price": i * 1.5, "in_stock": i % 3 != 0, "note": None} for i in range(3000)]}
post(ha + '?export=full', json.dumps(big).encode())
EOF
  sleep 1
}

for theme in dark light; do
  for size in 1280x780 1024x700; do
    rm -rf "$work/data"
    start $theme $size
    fill
    suffix=""; [ $theme = light ] && suffix="-light"; [ $size = 1024x700 ] && suffix="$suffix-1024"
    if [ $size = 1280x780 ]; then
      click 500 200        # the big event
      click 1104 187       # its Body tab
      shot "main-window$suffix.png"
      if [ $theme = dark ]; then
        click 500 239; click 1104 187; shot event-detail.png   # the form body, as a table
        xdotool key ctrl+n; sleep 0.8; shot endpoint-editor.png; xdotool key Escape; sleep 0.4
      fi
    else
      click 300 200; shot "main-window$suffix.png"
    fi
    stop
  done
done

# Rules: a target's filter and transform, tried on the endpoint's last events, from
# File → Forwarding… → Add target….
rm -rf "$work/data"
start dark 1280x780
gh=$(api POST /api/v1/endpoints '{"name":"GitHub"}' | python3 -c "import json,sys;print(json.load(sys.stdin)['url'])")
for b in main develop main feature main; do
  curl -sf -o /dev/null -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -d "{\"ref\":\"refs/heads/$b\",\"repository\":{\"full_name\":\"me/app\"},\"commits\":[{\"id\":\"a\"}],\"pusher\":{\"name\":\"ann\"}}" "$gh"
done
curl -sf -o /dev/null -H 'Content-Type: application/json' -H 'X-GitHub-Event: issues' -d '{"action":"opened","issue":{"number":7}}' "$gh"
sleep 1
scroll() { for _ in $(seq 10); do xdotool mousemove 230 300 click 5; sleep 0.05; done; sleep 0.4; }
click 20 12 0.4; click 60 161 1      # File → Forwarding…
click 288 21 1                       # Add target…
click 608 80 0.5; click 336 114 0.3  # for GitHub
click 600 158 0.2; xdotool type "http://127.0.0.1:8123/api/webhook/github"
click 570 512 0.2; xdotool type 'headers["x-github-event"] == "push" && body.ref == "refs/heads/main"'
scroll
click 570 378 0.2; xdotool type '{"type": "fire_event", "data": {"event_type": "github_push", "event_data": {"repo": body.repository.full_name, "by": body.pusher.name}}}'
scroll
click 410 366 1.5                    # Try on the last 50 events
shot target-rules.png
stop

# The always-on inbox: set up from File → Always-on inbox… against the stand-in of Cloudflare's
# API (which runs the uploaded Worker under workerd), then webhooks sent while Hooktray is away.
go build -o "$work/standin" ./internal/cloudflare-standin
"$work/standin" -api 127.0.0.1:18787 -edge 127.0.0.1:18788 -dir "$work/cloudflare" >"$work/standin.log" & standin=$!
for _ in $(seq 100); do grep -q 'account id' "$work/standin.log" 2>/dev/null && break; sleep 0.1; done
export HOOKTRAY_CLOUDFLARE_API=http://127.0.0.1:18787 HOOKTRAY_WORKERS_DEV=http://127.0.0.1:18788
rm -rf "$work/data"
start dark 1280x780
id=$(api POST /api/v1/endpoints '{"name":"Alarm"}' | python3 -c "import json,sys;print(json.load(sys.stdin)['id'])")
click 20 12 0.4; click 75 123 0.8  # File → Always-on inbox…
xdotool type "$(sed -n 's/^account id: *//p' "$work/standin.log")"
click 600 372 0.3; xdotool type "$(sed -n 's/^API token: *//p' "$work/standin.log")"
sleep 0.5; shot inbox-setup.png
click 941 651 0.3
for _ in $(seq 100); do api GET /api/v1/inbox | grep -q '"connected":true' && break; sleep 0.2; done
sleep 0.5; shot inbox-status.png
kill "$app"; wait "$app" 2>/dev/null || true; app=
for i in $(seq 12); do
  curl -sf -o /dev/null -H 'Content-Type: application/json' -d "{\"alarm\":\"ALERT\",\"zone\":$i}" "http://127.0.0.1:18788/webhook/$id"
done
start dark 1280x780
for _ in $(seq 100); do [ "$(api GET '/api/v1/events?limit=20' | python3 -c "import json,sys;print(len(json.load(sys.stdin)['events']))")" = 12 ] && break; sleep 0.2; done
click 500 160; shot inbox-event.png
stop

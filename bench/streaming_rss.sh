#!/bin/sh
# Peak memory (RSS) of `tunedhttp request` moving 1 GiB each way, measured by /usr/bin/time -v:
#   1. a 1 GiB response from `tunedhttp serve --body-size 1GiB`, streamed to -o /dev/null;
#   2. a 1 GiB PUT --data @FILE to a Python sink that reads the whole body before it answers
#      (the mock server caps request bodies at 64 MiB).
# Usage: bench/streaming_rss.sh [BUILD_DIR]   (default: build). Prints one line per transfer.
set -eu
build=${1:-build}
tunedhttp=$build/harness/tunedhttp
work=$(mktemp -d)
trap 'kill $serve_pid $sink_pid 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
serve_pid=""
sink_pid=""

peak() {  # peak RSS in KiB of the command that follows, and what its JSON line says
  /usr/bin/time -v "$@" 2>"$work/time" >"$work/out" || true
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time")
  result=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print("status", r["status"], "error", r["error"], "bytes", r["bytes"], "in", round(r["elapsed_ms"]), "ms")' "$work/out")
  echo "$rss KiB ($result)"
}

"$tunedhttp" serve --body-size 1GiB >"$work/serve.out" &
serve_pid=$!
while [ ! -s "$work/serve.out" ]; do sleep 0.1; done
url=$(head -n1 "$work/serve.out")
echo "GET 1GiB  -o /dev/null: peak RSS $(peak "$tunedhttp" request "$url" -o /dev/null --json)"

head -c 1G /dev/zero >"$work/body"
cat >"$work/sink.py" <<'PY'
# Reads each request's whole body (and drops it), then answers 200: a sink for big uploads.
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        left = int(self.headers["Content-Length"])
        while left:
            left -= len(self.rfile.read(min(left, 1 << 16)))
        self.send_response(200); self.send_header("Content-Length", "3"); self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", 0), Sink)
print(server.server_port, flush=True)
server.serve_forever()
PY
python3 "$work/sink.py" >"$work/sink.out" &
sink_pid=$!
while [ ! -s "$work/sink.out" ]; do sleep 0.1; done
port=$(head -n1 "$work/sink.out")
echo "PUT 1GiB --data @FILE: peak RSS $(peak "$tunedhttp" request -X PUT "http://127.0.0.1:$port/" --data "@$work/body" -o /dev/null --json)"

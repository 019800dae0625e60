#!/bin/sh
# Peak memory (RSS) of `tunedhttp request` moving 1 GiB each way, measured by /usr/bin/time -v:
#   1. a 1 GiB response from `tunedhttp serve --body-size 1GiB`, streamed to -o /dev/null;
#   2. a 1 GiB PUT --data @FILE to Debian's nginx (which reads and drops the body; the mock
#      server caps request bodies at 64 MiB).
# Usage: bench/streaming_rss.sh [BUILD_DIR]   (default: build). Prints one line per transfer.
set -eu
build=${1:-build}
tunedhttp=$build/harness/tunedhttp
work=$(mktemp -d)
trap 'kill $serve_pid $nginx_pid 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
serve_pid=""
nginx_pid=""

peak() {  # peak RSS in KiB of the command that follows
  /usr/bin/time -v "$@" 2>"$work/time" >/dev/null || true
  sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time"
}

"$tunedhttp" serve --body-size 1GiB >"$work/serve.out" &
serve_pid=$!
while [ ! -s "$work/serve.out" ]; do sleep 0.1; done
url=$(head -n1 "$work/serve.out")
echo "GET 1GiB  -o /dev/null: peak RSS $(peak "$tunedhttp" request "$url" -o /dev/null) KiB"

head -c 1G /dev/zero >"$work/body"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx.pid; error_log $work/error.log;
events {}
http { access_log off; client_body_temp_path $work; client_max_body_size 0;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } } }
CONF
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$port))" 2>/dev/null && break
  sleep 0.2
done
echo "PUT 1GiB --data @FILE: peak RSS $(peak "$tunedhttp" request -X PUT "http://127.0.0.1:$port/" --data "@$work/body" -o /dev/null) KiB"

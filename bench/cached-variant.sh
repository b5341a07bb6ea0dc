#!/usr/bin/env bash
# A cached 320 px variant served by edgeimg, beside nginx serving the same
# bytes as a static file, in one run with the same wrk settings.
#
# Usage: bench/cached-variant.sh [PHOTO]   (default: Elephants.jpg of the corpus,
#   $EDGEIMG_CORPUS or scripts/corpus.sh)
#   EDGEIMG   host binary (default: target/release/edgeimg; build it and the
#             components first: cargo build --release -p edgeimg &&
#             target/release/edgeimg build -f spin.toml)
#   DURATION  wrk duration (default 10s), CONNECTIONS (default 32), THREADS (default 2)
# Installs nginx and wrk with apt-get when missing. Prints req/s and p99 of
# each and the ratio edgeimg/nginx (the target is >= 0.5).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
edgeimg=${EDGEIMG:-$repo/target/release/edgeimg}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
photo=${1:-${EDGEIMG_CORPUS:-$(bash "$repo/scripts/corpus.sh")}/Elephants.jpg}

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  apt-get install -y nginx wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y nginx wrk >/dev/null; }
fi
[ -x "$edgeimg" ] || { echo "no host binary at $edgeimg (cargo build --release -p edgeimg)" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as an unprivileged user and must read www/
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# edgeimg on a free loopback port; it prints the address it bound.
"$edgeimg" up -f "$repo/spin.toml" --listen 127.0.0.1:0 --data-dir "$work/data" \
  >"$work/edgeimg.out" 2>"$work/edgeimg.log" &
pids+=($!)
for _ in $(seq 1 600); do
  addr=$(sed -n 's#^edgeimg listening on http://##p' "$work/edgeimg.out" | head -1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "${addr:-}" ] || { echo "edgeimg did not start:" >&2; cat "$work/edgeimg.log" >&2; exit 1; }

id=$(curl -sf --data-binary @"$photo" -H 'content-type: application/octet-stream' "http://$addr/upload" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
variant="/resize/width=320/$id"
mkdir -p "$work/www"
curl -sf -o /dev/null "http://$addr$variant"
cache=$(curl -sf -D - -o "$work/www/variant.jpg" "http://$addr$variant" | tr -d '\r' | sed -n 's/^x-cache: //Ip')
[ "$cache" = "hit" ] || { echo "the variant is not cached (x-cache: $cache)" >&2; exit 1; }

# nginx serving the same bytes, as a static file.
nginx_port=$(free_port)
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { image/jpeg jpg; }
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
  }
}
CONF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/variant.jpg" && break; sleep 0.1; done
cmp -s "$work/www/variant.jpg" <(curl -sf "http://127.0.0.1:$nginx_port/variant.jpg") ||
  { echo "nginx does not serve the variant:" >&2; cat "$work/nginx-error.log" >&2; exit 1; }

run() { # name url
  local out rps p99
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$2")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-8s %10s req/s   p99 %8s   (%s)\n' "$1" "$rps" "$p99" "$2" >&2
  echo "$rps"
}

bytes=$(stat -c %s "$work/www/variant.jpg")
echo "variant: $variant ($bytes bytes), wrk -t$threads -c$connections -d$duration" >&2
nginx_rps=$(run nginx "http://127.0.0.1:$nginx_port/variant.jpg")
edgeimg_rps=$(run edgeimg "http://$addr$variant")
python3 -c "import sys; print(f'ratio edgeimg/nginx: {float(sys.argv[1])/float(sys.argv[2]):.2f} (target >= 0.5)')" "$edgeimg_rps" "$nginx_rps"

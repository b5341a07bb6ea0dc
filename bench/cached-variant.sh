#!/usr/bin/env bash
# A cached 320 px variant served by edgeimg, beside nginx serving the same
# bytes as a static file, in one run with the same wrk settings.
#
# Usage: bench/cached-variant.sh [PHOTO]   (default: Elephants.jpg of the corpus)
#   EDGEIMG   host binary (default: target/release/edgeimg; build it and the
#             components first: cargo build --release -p edgeimg &&
#             target/release/edgeimg build -f spin.toml)
#   DURATION  wrk duration (default 10s), CONNECTIONS (default 32), THREADS (default 2)
#   ROUNDS    alternating rounds of nginx and edgeimg (default 5); the ratio
#             is of the medians, as wrk shares the two cores with both
# Installs nginx and wrk with apt-get when missing. Prints req/s and p99 of
# each round and the ratio edgeimg/nginx of the medians (target >= 0.9).
. "$(dirname "$0")/lib.sh"
bench_init
need nginx wrk
photo=${1:-$(corpus_dir)/Elephants.jpg}

start_edgeimg edgeimg
id=$(upload "$addr" "$photo")
# The upload's eager variants are made in the background: let them finish.
for _ in $(seq 1 600); do [ "$(metric "$addr" edgeimg_background_jobs)" = 0 ] && break; sleep 0.2; done
variant="/resize/width=320/$id"
mkdir -p "$work/www" "$work/tmp"
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
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
bench_pids+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/variant.jpg" && break; sleep 0.1; done
cmp -s "$work/www/variant.jpg" <(curl -sf "http://127.0.0.1:$nginx_port/variant.jpg") ||
  { echo "nginx does not serve the variant:" >&2; cat "$work/nginx-error.log" >&2; exit 1; }

bytes=$(stat -c %s "$work/www/variant.jpg")
echo "variant: $variant ($bytes bytes), wrk -t${THREADS:-2} -c${CONNECTIONS:-32} -d${DURATION:-10s}" >&2
nginx_rps=() edgeimg_rps=()
for round in $(seq 1 "${ROUNDS:-5}"); do
  nginx_rps+=("$(wrk_rps "nginx (round $round)" "http://127.0.0.1:$nginx_port/variant.jpg")")
  edgeimg_rps+=("$(wrk_rps "edgeimg (round $round)" "http://$addr$variant")")
done
python3 - "${nginx_rps[*]}" "${edgeimg_rps[*]}" <<'PY'
import statistics, sys
nginx, edgeimg = ([float(x) for x in arg.split()] for arg in sys.argv[1:])
n, e = statistics.median(nginx), statistics.median(edgeimg)
print(f"median req/s: nginx {n:.0f}, edgeimg {e:.0f}; ratio edgeimg/nginx {e / n:.2f} (target >= 0.9)")
PY

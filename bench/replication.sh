#!/usr/bin/env bash
# Replication between two regions on loopback (issue 9), beside plain HTTP
# PUTs of the same bytes in the same run:
#   1. lag: RATE uploads/s (~100 KB each) to region A for SECONDS; for each,
#      the time from A's 201 until B holds it (asked through B's signed peer
#      API, local store only): p50/p99;
#   2. link: COUNT uploads made while B is down, then B starts: changes/s
#      and MB/s of A's delivery to B until the backlog is empty;
#   3. reference: nginx storing PUTs (dav) of the same object, wrk with as
#      many connections as A's delivery uses, for DURATION.
# Targets: p99 lag <= 1 s; the link within 0.7x of the plain transfer.
#
# Usage: bench/replication.sh   (RATE=20 SECONDS=10 COUNT=300 DURATION=5s)
. "$(dirname "$0")/lib.sh"
bench_init
need nginx wrk curl
rate=${RATE:-20}
seconds=${SECONDS_RUN:-10}
count=${COUNT:-300}
export EDGEIMG_REPLICATION_KEY=${EDGEIMG_REPLICATION_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}

pa=$(free_port)
pb=$(free_port)
for region in a b; do
  peer=$([ $region = a ] && echo b || echo a)
  port=$([ $region = a ] && echo "$pb" || echo "$pa")
  cat >"$work/$region.toml" <<CONF
[replication]
[[replication.peers]]
region = "$peer"
url = "http://127.0.0.1:$port"
CONF
done
start_region() { # region port
  EDGEIMG_LOG=info,edgeimg::replication::delivery=debug start_bg "$1" "$EDGEIMG" up -f "$repo/spin.toml" --region "$1" --listen "127.0.0.1:$2" \
    --data-dir "$work/$1" --runtime-config-file "$work/$1.toml"
}
start_region a "$pa"; pid_a=$last_pid
start_region b "$pb"; pid_b=$last_pid

# A ~100 KB JPEG: a corpus photo made smaller by edgeimg itself.
photo_id=$(upload "127.0.0.1:$pa" "$(corpus_dir)/Blinds.jpg")
curl -sf -o "$work/base.jpg" "http://127.0.0.1:$pa/resize/width=1280,format=jpeg,quality=85/$photo_id"
echo "object: $(stat -c %s "$work/base.jpg") bytes; $(nproc) cores" >&2

echo "== lag: $rate uploads/s for ${seconds}s, A -> B" >&2
python3 "$repo/bench/replication.py" lag "http://127.0.0.1:$pa" "http://127.0.0.1:$pb" "$work/base.jpg" "$rate" "$seconds"

echo "== link: $count uploads queued while B is down, then B returns" >&2
kill "$pid_b"; wait "$pid_b" 2>/dev/null || true
python3 "$repo/bench/replication.py" backlog "http://127.0.0.1:$pa" "$work/base.jpg" "$count" "$work"
start_region b "$pb"
read -r changes_per_s link_mbps changes took < <(python3 "$repo/bench/replication.py" drain "http://127.0.0.1:$pa" b)
echo "edgeimg link: $changes changes in ${took}s = $changes_per_s changes/s, $link_mbps MB/s of values" >&2
grep "delivered a batch" "$work/a.log" | sed 's/.*changes=\([0-9]*\).*took_ms=\([0-9]*\).*/\1 \2/' |
  awk '{ n++; c += $1; t += $2 } END { if (n) printf "  %d batches, %.0f changes and %.0f ms each on average\n", n, c / n, t / n }' >&2

echo "== reference: plain HTTP PUTs of the same object to nginx" >&2
np=$(free_port)
mkdir -p "$work/www/obj" "$work/tmp"
chmod -R 777 "$work/www" "$work/tmp"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  client_max_body_size 64m;
  server {
    listen 127.0.0.1:$np;
    location /obj/ { root $work/www; dav_methods PUT; create_full_put_path on; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
bench_pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$np/" && break; sleep 0.05; done
cat >"$work/put.lua" <<LUA
local f = io.open("$work/object.bin", "rb")
local body = f:read("*all")
f:close()
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", "/obj/" .. math.random(1, 1000000000) .. "-" .. n, nil, body)
end
LUA
out=$(wrk -t1 -c8 -d"${DURATION:-5s}" -s "$work/put.lua" "http://127.0.0.1:$np/obj/")
put_rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
object_bytes=$(stat -c %s "$work/object.bin")
python3 - "$put_rps" "$object_bytes" "$link_mbps" "$changes_per_s" <<'PY'
import sys
put_rps, size, link_mbps, changes_per_s = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
plain_mbps = put_rps * size / 1e6
print(f"nginx PUT: {put_rps:.0f} objects/s, {plain_mbps:.2f} MB/s")
print(f"edgeimg link / plain PUT: {link_mbps / plain_mbps:.2f}x of MB/s (target >= 0.7); "
      f"{changes_per_s / 3:.0f} uploads/s (3 changes each: original, metadata, index)")
PY

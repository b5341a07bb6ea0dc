#!/usr/bin/env bash
# Replication between regions (issues 9 and 25), beside plain HTTP PUTs of
# the same objects in the same run:
#   1. lag on loopback: RATE uploads/s (~100 KB each) to region a for
#      SECONDS_RUN; for each, the time from a's 201 until b holds it (asked
#      through b's signed peer API, its own store only): p50/p99;
#   2. drain, ROUNDS times: COUNT uploads made while b is down, then b
#      returns with an empty store: changes/s and MB/s of a's delivery from
#      its first batch to its last (and how long after b started it was in
#      sync); each round followed by the reference: nginx storing PUTs (dav)
#      of the same objects the link moves (per upload: the original, its
#      metadata JSON, its empty index entry), as many as the link moved,
#      over 8 connections, then the same with one syncfs after the last
#      PUT (durable, as the link is). Ratios per round and their median, and how
#      fast the file system created files before each round (see
#      docs/regions.md: run with TMPDIR on a journaled ext4 for numbers
#      that do not depend on what was deleted minutes before, or on
#      tmpfs, TMPDIR=/dev/shm, for the link without any disk work);
#   3. lag over an emulated WAN (bench/wanproxy.py in front of every peer):
#      five regions, two hubs — e1, e2 list h1; e3 lists h2; h1 and h2 list
#      each other and their edges — link RTTs e1-h1 80 ms, e2-h1 100 ms,
#      h1-h2 150 ms, h2-e3 120 ms, LOSS (1 %) on every link; RATE uploads/s
#      to e1, lag to every other region beside 2 x path RTT + 200 ms.
# Targets: drain >= 1,000 changes/s; link >= 0.7x plain PUT MB/s; WAN lag
# p99 <= 2 x RTT + 200 ms. The background ladder is off (EDGEIMG_EAGER=off):
# it is not replication and would take the same two cores.
#
# Usage: bench/replication.sh   (RATE=20 SECONDS_RUN=10 COUNT=1000 ROUNDS=3 LOSS=0.01
#                                PARTS="lag drain wan" RTT_SCALE=1)
. "$(dirname "$0")/lib.sh"
bench_init
need nginx curl
rate=${RATE:-20}
seconds=${SECONDS_RUN:-10}
count=${COUNT:-1000}
rounds=${ROUNDS:-3}
loss=${LOSS:-0.01}
parts=${PARTS:-lag drain wan}
scale=${RTT_SCALE:-1}
export EDGEIMG_REPLICATION_KEY=${EDGEIMG_REPLICATION_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}
export EDGEIMG_EAGER=off
export EDGEIMG_COMPILED_CACHE_DIR=$work/compiled
py="python3 $repo/bench/replication.py"

# config NAME PEER=PORT...: the runtime config of region NAME.
config() {
  local name=$1 peer
  shift
  printf "[replication]\n${REPLICATION_EXTRA:-}\n" >"$work/$name.toml"
  for peer in "$@"; do
    printf '[[replication.peers]]\nregion = "%s"\nurl = "http://127.0.0.1:%s"\n' "${peer%=*}" "${peer#*=}" >>"$work/$name.toml"
  done
}
# start_region NAME PORT [DATA]: sets $last_pid.
start_region() {
  EDGEIMG_LOG=${EDGEIMG_LOG:-info,edgeimg::replication::delivery=debug} start_bg "$1" "$EDGEIMG" up -f "$repo/spin.toml" \
    --region "$1" --listen "127.0.0.1:$2" --data-dir "$work/${3:-$1}" --runtime-config-file "$work/$1.toml"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

pa=$(free_port)
pb=$(free_port)
config a "b=$pb"
config b "a=$pa"
start_region a "$pa"
start_region b "$pb"; pid_b=$last_pid

# A ~100 KB JPEG: a corpus photo made smaller by edgeimg itself.
photo_id=$(upload "127.0.0.1:$pa" "$(corpus_dir)/Blinds.jpg")
curl -sf -o "$work/base.jpg" "http://127.0.0.1:$pa/resize/width=1280,format=jpeg,quality=85/$photo_id"
echo "object: $(stat -c %s "$work/base.jpg") bytes; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if [[ $parts == *lag* ]]; then
  echo "== lag on loopback: $rate uploads/s for ${seconds}s, a -> b" >&2
  $py lag "http://127.0.0.1:$pa" "$work/base.jpg" "$rate" "$seconds" "b=http://127.0.0.1:$pb"
fi

# start_nginx DIR: the reference, nginx storing PUTs under DIR (each in a
# temp file renamed into place); sets $np and $nginx_pid.
start_nginx() {
  local dir=$1
  np=$(free_port)
  mkdir -p "$dir/www/obj" "$dir/tmp"
  chmod -R 777 "$dir/www" "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  client_max_body_size 64m;
  server {
    listen 127.0.0.1:$np;
    location /obj/ { root $dir/www; dav_methods PUT; create_full_put_path on; }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' &
  nginx_pid=$!
  bench_pids+=("$nginx_pid")
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$np/" && break; sleep 0.05; done
}

# create_probe DIR: how fast the file system creates files in DIR right
# now. On ext4 without a journal it drops ~20x for minutes after many files
# were deleted nearby, and both sides of the comparison pay for that
# (docs/regions.md).
create_probe() {
  python3 - "$1" <<'PY'
import os, sys, time
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
t = time.monotonic()
for i in range(500):
    with open(os.path.join(d, str(i)), "wb") as f:
        f.write(b"x" * 4096)
print(f"{500 / (time.monotonic() - t):.0f}")
PY
}

if [[ $parts == *drain* ]]; then
echo "== drain: $count uploads queued while b is down, then b returns (empty store); $rounds rounds" >&2
ratios=()
durable_ratios=()
drains=()
for round in $(seq 1 "$rounds"); do
  kill "$pid_b"; wait "$pid_b" 2>/dev/null || true
  $py backlog "http://127.0.0.1:$pa" "$work/base.jpg" "$count" "$work" "$round"
  offset=$(stat -c %s "$work/a.log")
  # b's data and nginx's files in one directory made now: creating files
  # costs far more for minutes after many were deleted nearby (ext4 without
  # a journal skips recently freed inodes one by one), so both meet the
  # same file system state.
  mkdir -p "$work/round$round/nginx"
  creates=$(create_probe "$work/round$round/probe")
  started=$(date +%s.%N)
  start_region b "$pb" "round$round/b"; pid_b=$last_pid
  read -r changes_per_s link_mbps changes took < <($py drain "http://127.0.0.1:$pa" b "$work/a.log" "$offset")
  in_sync=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  # The same objects, as many as the link moved, over 8 connections.
  # curl's start-up (~10 ms) counts against nginx.
  start_nginx "$work/round$round/nginx"
  names=(original meta index)
  for n in $(seq 1 "$changes"); do
    printf 'url = "http://127.0.0.1:%s/obj/%s"\nupload-file = "%s"\noutput = "/dev/null"\n' \
      "$np" "$n" "$work/objects/${names[n % 3]}"
  done >"$work/put.curl"
  put_started=$(date +%s.%N)
  curl -sS --no-progress-meter --fail --parallel --parallel-max 8 -K "$work/put.curl" 2>"$work/curl.err" ||
    { echo "nginx refused PUTs:" >&2; cat "$work/curl.err" >&2; exit 1; }
  put_rps=$(python3 -c "import time; print($changes / (time.time() - $put_started))")
  # The same PUTs made durable, as the link's are before it answers: one
  # syncfs of nginx's file system after the last one (a second reference).
  sync -f "$work/round$round/nginx"
  durable_rps=$(python3 -c "import time; print($changes / (time.time() - $put_started))")
  kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
  read -r ratio durable_ratio line < <(python3 - "$put_rps" "$durable_rps" "$link_mbps" "$changes_per_s" "$changes" "$took" "$in_sync" "$work/objects" <<'PY'
import os, sys
put_rps, durable_rps, link_mbps, changes_per_s = map(float, sys.argv[1:5])
changes, took, in_sync, objects = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
mix = sum(os.path.getsize(os.path.join(objects, n)) for n in ("original", "meta", "index")) / 3
plain_mbps = put_rps * mix / 1e6
ratio = link_mbps / plain_mbps
durable_ratio = link_mbps / (durable_rps * mix / 1e6)
print(f"{ratio:.3f} {durable_ratio:.3f} link: {changes} changes in {took} s = {changes_per_s:.0f} changes/s, {link_mbps:.1f} MB/s "
      f"(in sync {in_sync} s after b started); nginx PUT of the same objects: {put_rps:.0f} objects/s, "
      f"{plain_mbps:.1f} MB/s; link/PUT {ratio:.2f}x; with a syncfs after the PUTs: "
      f"{durable_rps:.0f} objects/s, link/(PUT+sync) {durable_ratio:.2f}x")
PY
)
  echo "round $round: $line; the file system created $creates files/s before it" >&2
  ratios+=("$ratio")
  durable_ratios+=("$durable_ratio")
  drains+=("$changes_per_s")
done
echo "drain median: $(printf '%s\n' "${drains[@]}" | median) changes/s (target >= 1000); link/PUT median: $(printf '%s\n' "${ratios[@]}" | median)x (target >= 0.7); link/(PUT+sync) median: $(printf '%s\n' "${durable_ratios[@]}" | median)x"
fi
kill "$pid_b"; wait "$pid_b" 2>/dev/null || true
[[ $parts == *wan* ]] || exit 0

echo "== lag over an emulated WAN: five regions, two hubs, loss $loss on every link" >&2
declare -A port proxy
for r in e1 e2 h1 h2 e3; do port[$r]=$(free_port); done
links=""
# link FROM TO RTT: FROM reaches TO through a proxy with RTT (times RTT_SCALE).
link() {
  proxy[$1-$2]=$(free_port)
  links+=" ${proxy[$1-$2]}:${port[$2]}:$(($3 * scale)):$loss"
}
link e1 h1 80; link h1 e1 80
link e2 h1 100; link h1 e2 100
link h1 h2 150; link h2 h1 150
link h2 e3 120; link e3 h2 120
python3 "$repo/bench/wanproxy.py" $links >"$work/wanproxy.out" 2>&1 &
bench_pids+=($!)
for _ in $(seq 1 100); do grep -q ready "$work/wanproxy.out" && break; sleep 0.05; done
config e1 "h1=${proxy[e1-h1]}"
config e2 "h1=${proxy[e2-h1]}"
config h1 "e1=${proxy[h1-e1]}" "e2=${proxy[h1-e2]}" "h2=${proxy[h1-h2]}"
config h2 "h1=${proxy[h2-h1]}" "e3=${proxy[h2-e3]}"
config e3 "h2=${proxy[e3-h2]}"
for r in e1 e2 h1 h2 e3; do start_region "$r" "${port[$r]}"; done
sleep 3 # a ping per link: RTTs measured, connections open
echo "path RTT from e1 (target p99 = 2 x RTT + 200 ms): h1 80 ms (360), e2 180 ms (560), h2 230 ms (660), e3 350 ms (900)" >&2
dests=""
for r in h1 e2 h2 e3; do dests+=" $r=http://127.0.0.1:${port[$r]}"; done
$py lag "http://127.0.0.1:${port[e1]}" "$work/base.jpg" "$rate" "$seconds" $dests

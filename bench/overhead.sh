#!/usr/bin/env bash
# Per-request overhead of the edgeimg host.
#
# 1. requests/s of a trivial component (the probe's `/echo?op=hello`, a fresh
#    instance per request) through `edgeimg up`, vs a plain hyper server
#    (host/examples/plain_hyper.rs) answering the same bytes; same wrk
#    settings, same run, alternating, best of ROUNDS each; prints the ratio.
# 2. mean instantiation time per request (edgeimg_instantiate_duration_seconds
#    from /metrics).
# 3. restart: time from spawning a second `edgeimg up` (warm compiled-code
#    cache) to its first answered request.
#
# Usage: bench/overhead.sh   (env: DURATION=10s CONNECTIONS=8 THREADS=2 ROUNDS=2)
. "$(dirname "$0")/lib.sh"
bench_init
cd "$repo"

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}

need wrk

cargo build --release -p edgeimg --example plain_hyper >&2
target/release/edgeimg build -f tests/probe/spin.toml >&2

rps() { # URL
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$1" | awk '/Requests\/sec/ {print $2}'
}

start_bg edgeimg "$EDGEIMG" up -f tests/probe/spin.toml --listen 127.0.0.1:0 --data-dir "$work/data"
edge_addr=$addr; edge_pid=$last_pid
start_bg plain target/release/examples/plain_hyper 127.0.0.1:0
plain_addr=$addr

edge_url="http://$edge_addr/echo?op=hello"
plain_url="http://$plain_addr/echo?op=hello"
[ "$(curl -s "$edge_url")" = "$(curl -s "$plain_url")" ] || { echo "responses differ" >&2; exit 1; }
wrk -t1 -c2 -d1s "$edge_url" >/dev/null   # warm up

best_edge=0; best_plain=0
for round in $(seq 1 "$ROUNDS"); do
    p=$(rps "$plain_url"); e=$(rps "$edge_url")
    echo "round $round: plain hyper $p req/s, edgeimg $e req/s" >&2
    best_plain=$(awk -v a="$best_plain" -v b="$p" 'BEGIN {print (b > a ? b : a)}')
    best_edge=$(awk -v a="$best_edge" -v b="$e" 'BEGIN {print (b > a ? b : a)}')
done

metrics=$(curl -s "http://$edge_addr/metrics")
inst_sum=$(echo "$metrics" | awk '/^edgeimg_instantiate_duration_seconds_sum/ {print $2}')
inst_count=$(echo "$metrics" | awk '/^edgeimg_instantiate_duration_seconds_count/ {print $2}')

kill "$edge_pid"; wait "$edge_pid" 2>/dev/null || true

# Restart with the compiled-code cache the first run filled.
t0=$(date +%s%N)
start_bg edgeimg2 "$EDGEIMG" up -f tests/probe/spin.toml --listen 127.0.0.1:0 --data-dir "$work/data"
tl=$(date +%s%N)
until curl -sf -o /dev/null "http://$addr/echo?op=hello"; do sleep 0.001; done
t1=$(date +%s%N)
grep -q "loaded from the compiled-code cache" "$work/edgeimg2.log" && cache=hit || cache=miss

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, best of $ROUNDS, $(nproc) cores"
echo "plain hyper:        $best_plain req/s"
echo "edgeimg (probe):    $best_edge req/s"
awk -v e="$best_edge" -v p="$best_plain" 'BEGIN {printf "ratio edgeimg/plain: %.3f\n", e / p}'
awk -v s="$inst_sum" -v c="$inst_count" 'BEGIN {printf "instantiation:      %.1f us mean over %d requests\n", s / c * 1e6, c}'
echo "restart: listening after $(( (tl - t0) / 1000000 )) ms, first response (a curl process) after $(( (t1 - t0) / 1000000 )) ms (compiled-code cache $cache)"

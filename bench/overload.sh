#!/usr/bin/env bash
# Cheap requests under a burst of cold transforms (issue 13): p50/p99 of
# /healthz and of a cached variant on an idle host, then while a burst of
# BURST distinct cold resizes of a 17.9 MP photo runs, same host, same run;
# and the burst's total time. With EDGEIMG_BEFORE=<another edgeimg binary>
# (e.g. one built from the commit before the execution pool) the same is
# measured on it too, for the before/after ratio.
#
# Usage: bench/overload.sh [PHOTO]   (default Elephants_5640x3172.jpg)
#   BURST (48), PROBE_SECONDS (4), EDGEIMG, EDGEIMG_BEFORE
# Target: p99 of the cheap requests under load within 10x of idle; the
# burst no slower than before.
. "$(dirname "$0")/lib.sh"
bench_init
need curl
photo=${1:-$(corpus_dir)/Elephants_5640x3172.jpg}
burst=${BURST:-48}
seconds=${PROBE_SECONDS:-4}

# pct NAME URL: 100 requests/s for $seconds (bench/probe.py); prints "p50 p99"
# in ms. A fixed rate, so probing takes the burst no CPU worth counting.
pct() {
  python3 "$repo/bench/probe.py" "$2" "$seconds" 100
}

# measure LABEL BINARY: one host, idle probes, then probes during the burst.
measure() {
  local label=$1 binary=$2
  EDGEIMG=$binary start_edgeimg "$label"
  local base="http://$addr" id cached
  id=$(upload "$addr" "$photo")
  cached="$base/resize/width=320/$id"
  curl -sf -o /dev/null "$cached"
  curl -sf -o /dev/null "$cached"
  read -r h50 h99 < <(pct healthz "$base/healthz")
  read -r c50 c99 < <(pct cached "$cached")
  echo "$label idle:  /healthz p50 ${h50} ms p99 ${h99} ms | cached variant p50 ${c50} ms p99 ${c99} ms" >&2

  local t0 t1
  t0=$(date +%s%N)
  seq 301 $((300 + burst)) | xargs -P "$burst" -I{} \
    curl -s -o /dev/null -w '%{http_code}\n' "$base/resize/width={},format=jpeg/$id" >"$work/$label.codes" &
  local burst_pid=$!
  sleep 0.3
  pct healthz "$base/healthz" >"$work/$label.h" &
  local hp=$!
  pct cached "$cached" >"$work/$label.c" &
  local cp=$!
  wait "$burst_pid"
  t1=$(date +%s%N)
  wait "$hp" "$cp"
  read -r lh50 lh99 <"$work/$label.h"
  read -r lc50 lc99 <"$work/$label.c"
  local ok
  ok=$(grep -c '^200$' "$work/$label.codes" || true)
  local burst_ms=$(( (t1 - t0) / 1000000 ))
  echo "$label burst: $ok/$burst answered 200 in $burst_ms ms" >&2
  echo "$label load:  /healthz p50 ${lh50} ms p99 ${lh99} ms | cached variant p50 ${lc50} ms p99 ${lc99} ms" >&2
  python3 - "$label" "$h99" "$lh99" "$c99" "$lc99" <<'PY' >&2
import sys
label, h, lh, c, lc = sys.argv[1], *map(float, sys.argv[2:])
print(f"{label}: p99 under load / idle: /healthz {lh / max(h, 0.01):.1f}x, cached variant {lc / max(c, 0.01):.1f}x (target <= 10x)")
PY
  kill "$last_pid"
  echo "$burst_ms" >"$work/$label.ms"
}

measure after "$EDGEIMG"
if [ -n "${EDGEIMG_BEFORE:-}" ]; then
  measure before "$EDGEIMG_BEFORE"
  python3 -c "import sys; print(f'burst time after / before: {int(sys.argv[1]) / int(sys.argv[2]):.2f}x (target <= 1.0)')" \
    "$(cat "$work/after.ms")" "$(cat "$work/before.ms")"
fi

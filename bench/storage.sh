#!/usr/bin/env bash
# Storage tiers side by side, in one run with the same wrk settings (issue 5):
#   - a cached 320 px variant served from the memory tier vs from the Redis
#     tier (a memory tier of 0 bytes, so every variant read goes to Redis);
#   - a hot original (GET /images/{id}) from the in-memory read cache vs
#     from the fs object store (read cache off).
#
# Usage: bench/storage.sh [PHOTO]
#   EDGEIMG   host binary (default: target/release/edgeimg; build it and the
#             components first: cargo build --release -p edgeimg &&
#             target/release/edgeimg build)
#   DURATION  wrk duration (default 10s), CONNECTIONS (default 32), THREADS (default 2)
# Needs wrk, curl and redis-server (apt-get install -y wrk curl redis-server).
# Prints req/s and p99 of each, and the ratios. Collapsed forwarding is off
# in all three hosts, so every request reaches the tier being measured.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
edgeimg=${EDGEIMG:-$repo/target/release/edgeimg}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
photo=${1:-$(bash "$repo/scripts/corpus.sh")/Elephants.jpg}

for tool in wrk curl redis-server; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y wrk curl redis-server" >&2; exit 1; }
done
[ -x "$edgeimg" ] || { echo "no host binary at $edgeimg (cargo build --release -p edgeimg)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >/dev/null &
pids+=($!)
for _ in $(seq 1 100); do [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && break; sleep 0.05; done

# Host "memory": the embedded defaults (fs + read cache, memory cache tier).
cat >"$work/memory.toml" <<CONF
[collapsed_forwarding]
enabled = false

[key_value_store.images]
type = "opendal"
root = "$work/memory/images"

[key_value_store.cache]
type = "cache"
CONF
# Host "redis": a 0-byte memory tier in front of Redis, so every variant
# read reaches Redis (the images store as above).
cat >"$work/redis.toml" <<CONF
[collapsed_forwarding]
enabled = false

[key_value_store.images]
type = "opendal"
root = "$work/redis/images"

[key_value_store.cache]
type = "cache"
capacity_bytes = 0

[[key_value_store.cache.tiers]]
type = "redis"
url = "redis://127.0.0.1:$redis_port"
CONF
# Host "fs": no read cache in front of fs, so every original read reaches fs.
cat >"$work/fs.toml" <<CONF
[collapsed_forwarding]
enabled = false

[key_value_store.images]
type = "opendal"
root = "$work/fs/images"
read_cache_bytes = 0

[key_value_store.cache]
type = "cache"
CONF

start() { # name -> prints addr
  "$edgeimg" up -f "$repo/spin.toml" --listen 127.0.0.1:0 --data-dir "$work/$1" \
    --runtime-config-file "$work/$1.toml" >"$work/$1.out" 2>"$work/$1.log" &
  pids+=($!)
  local addr=""
  for _ in $(seq 1 600); do
    addr=$(sed -n 's#^edgeimg listening on http://##p' "$work/$1.out" | head -1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "edgeimg ($1) did not start:" >&2; cat "$work/$1.log" >&2; exit 1; }
  echo "$addr"
}

prepare() { # addr -> prints id; uploads, fills the variant, checks it is cached
  local id
  id=$(curl -sf --data-binary @"$photo" -H 'content-type: application/octet-stream' "http://$1/upload" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf -o /dev/null "http://$1/resize/width=320/$id"
  local cache
  cache=$(curl -sf -D - -o /dev/null "http://$1/resize/width=320/$id" | tr -d '\r' | sed -n 's/^x-cache: //Ip')
  [ "$cache" = "hit" ] || { echo "the variant is not cached on $1 (x-cache: $cache)" >&2; exit 1; }
  curl -sf -o /dev/null "http://$1/images/$id"
  echo "$id"
}

run() { # name url -> prints req/s; logs the line
  local out rps p99
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$2")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-28s %10s req/s   p99 %8s\n' "$1" "$rps" "$p99" >&2
  echo "$rps"
}

memory=$(start memory)
redis=$(start redis)
fs=$(start fs)
id_m=$(prepare "$memory")
id_r=$(prepare "$redis")
id_f=$(prepare "$fs")
variant_bytes=$(curl -sf "http://$memory/resize/width=320/$id_m" | wc -c)
echo "photo $(basename "$photo") ($(stat -c %s "$photo") bytes), variant $variant_bytes bytes; wrk -t$threads -c$connections -d$duration" >&2

v_mem=$(run "variant, memory tier" "http://$memory/resize/width=320/$id_m")
v_redis=$(run "variant, redis tier" "http://$redis/resize/width=320/$id_r")
o_mem=$(run "original, read cache" "http://$memory/images/$id_m")
o_fs=$(run "original, fs" "http://$fs/images/$id_f")

metric() { curl -sf "http://$1/metrics" | sed -n "s/^$2 //p"; }
echo "check: redis-tier hits $(metric "$redis" 'edgeimg_kv_cache_hits_total{store="cache",tier="redis"}')," \
  "read-cache hits $(metric "$memory" 'edgeimg_kv_cache_hits_total{store="images",tier="read_cache"}')," \
  "fs reads without cache $(metric "$fs" 'edgeimg_kv_backend_reads_total{store="images",tier="fs"}')" >&2
python3 - "$v_mem" "$v_redis" "$o_mem" "$o_fs" <<'PY'
import sys
v_mem, v_redis, o_mem, o_fs = map(float, sys.argv[1:])
print(f"variant: memory tier / redis tier = {v_mem / v_redis:.2f}x")
print(f"original: read cache / fs = {o_mem / o_fs:.2f}x")
PY

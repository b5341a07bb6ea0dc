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
. "$(dirname "$0")/lib.sh"
bench_init
need wrk curl redis-server
photo=${1:-$(corpus_dir)/Elephants.jpg}

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >/dev/null &
bench_pids+=($!)
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

prepare() { # addr -> prints id; uploads, fills the variant, checks it is cached
  local id
  id=$(upload "$1" "$photo")
  curl -sf -o /dev/null "http://$1/resize/width=320/$id"
  local cache
  cache=$(curl -sf -D - -o /dev/null "http://$1/resize/width=320/$id" | tr -d '\r' | sed -n 's/^x-cache: //Ip')
  [ "$cache" = "hit" ] || { echo "the variant is not cached on $1 (x-cache: $cache)" >&2; exit 1; }
  curl -sf -o /dev/null "http://$1/images/$id"
  echo "$id"
}

start_edgeimg memory --runtime-config-file "$work/memory.toml"; memory=$addr
start_edgeimg redis --runtime-config-file "$work/redis.toml"; redis=$addr
start_edgeimg fs --runtime-config-file "$work/fs.toml"; fs=$addr
id_m=$(prepare "$memory")
id_r=$(prepare "$redis")
id_f=$(prepare "$fs")
variant_bytes=$(curl -sf "http://$memory/resize/width=320/$id_m" | wc -c)
echo "photo $(basename "$photo") ($(stat -c %s "$photo") bytes), variant $variant_bytes bytes; wrk -t$threads -c$connections -d$duration" >&2

v_mem=$(wrk_rps "variant, memory tier" "http://$memory/resize/width=320/$id_m")
v_redis=$(wrk_rps "variant, redis tier" "http://$redis/resize/width=320/$id_r")
o_mem=$(wrk_rps "original, read cache" "http://$memory/images/$id_m")
o_fs=$(wrk_rps "original, fs" "http://$fs/images/$id_f")

echo "check: redis-tier hits $(metric "$redis" 'edgeimg_kv_cache_hits_total{store="cache",tier="redis"}')," \
  "read-cache hits $(metric "$memory" 'edgeimg_kv_cache_hits_total{store="images",tier="read_cache"}')," \
  "fs reads without cache $(metric "$fs" 'edgeimg_kv_backend_reads_total{store="images",tier="fs"}')" >&2
python3 - "$v_mem" "$v_redis" "$o_mem" "$o_fs" <<'PY'
import sys
v_mem, v_redis, o_mem, o_fs = map(float, sys.argv[1:])
print(f"variant: memory tier / redis tier = {v_mem / v_redis:.2f}x")
print(f"original: read cache / fs = {o_mem / o_fs:.2f}x")
PY

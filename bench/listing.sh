#!/usr/bin/env bash
# The upload listing (issue 25): what a page costs with 20, 2,000 and
# 100,000 uploads. Each store is seeded straight on disk (the upload
# component's layout: original, metadata, index entry per upload; seeds are
# kept under $LISTING_SEEDS and reused), one host per store; then ROUNDS
# rounds, each timing 25 times per host the first two pages of
# GET /images?limit=10 (all of 20 uploads), hosts taking turns. Prints each host's median and its
# ratio to the 20-upload host. Target: 2,000 uploads <= 3x 20 uploads.
#
# Usage: bench/listing.sh   (SIZES="20 2000 100000" ROUNDS=3 LISTING_SEEDS=~/.cache/edgeimg-bench/listing)
. "$(dirname "$0")/lib.sh"
bench_init
sizes=${SIZES:-20 2000 100000}
seeds=${LISTING_SEEDS:-$HOME/.cache/edgeimg-bench/listing}
export EDGEIMG_COMPILED_CACHE_DIR=$work/compiled
export EDGEIMG_EAGER=off

hosts=()
for n in $sizes; do
  if [ ! -f "$seeds/$n/.seeded" ]; then
    echo "seeding $n uploads under $seeds/$n" >&2
    rm -rf "$seeds/$n"
    python3 "$repo/bench/listing.py" seed "$seeds/$n" "$n"
    touch "$seeds/$n/.seeded"
  fi
  start_bg "n$n" "$EDGEIMG" up -f "$repo/spin.toml" --listen 127.0.0.1:0 --data-dir "$seeds/$n"
  hosts+=("$n=http://$addr")
done
echo "$(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$repo/bench/listing.py" time "${ROUNDS:-3}" "${hosts[@]}"

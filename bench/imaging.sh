#!/usr/bin/env bash
# Thumbnail benchmark: the imaging pipeline natively and inside Wasmtime
# (wasm32-wasip2) against libvips' vipsthumbnail, on the photos of
# scripts/corpus.sh. Prints median ms, ratios to vipsthumbnail and peak memory.
# Usage: bench/imaging.sh   (BENCH_RUNS=N for more runs per measurement)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v vipsthumbnail >/dev/null; then
  apt-get update -qq && apt-get install -y -qq libvips-tools >/dev/null
fi
rustup target list --installed | grep -q wasm32-wasip2 || rustup target add wasm32-wasip2

export EDGEIMG_CORPUS="${EDGEIMG_CORPUS:-$(scripts/corpus.sh)}"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
cargo build --release --target wasm32-wasip2 -p edgeimg-imaging --example thumb
export IMAGING_THUMB_WASM="$target_dir/wasm32-wasip2/release/examples/thumb.wasm"
cargo bench -p edgeimg --bench imaging

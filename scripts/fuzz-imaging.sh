#!/usr/bin/env bash
# Fuzzes the imaging crate for a bounded time per target (not part of the
# default tests). Seeds: tiny images of every format, each after one byte that
# picks the options and output format (see fuzz_targets/transform.rs).
# Usage: scripts/fuzz-imaging.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/../components/imaging/fuzz"
seconds="${1:-60}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo-fuzz needs nightly flags; use a nightly toolchain if there is one,
# else let stable accept them.
if rustup toolchain list | grep -q nightly; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi

mkdir -p corpus/transform corpus/options
for seed in seeds/*; do
  [ -e "$seed" ] && cp -n "$seed" corpus/transform/
done
printf 'w=320,h=200,fit=cover,f=auto,q=80' > corpus/options/seed1
printf 'gravity=0.3x0.6,dpr=1.5,bg=%%23fff,metadata=keep' > corpus/options/seed2

# -O: built as the components are, without debug assertions (avif-parse
# debug-asserts on a parser state that release builds report as an error),
# but with overflow checks kept on for every crate.
export RUSTFLAGS="${RUSTFLAGS:-} -Coverflow-checks=on"
# One known leak outside our code (see the file).
export LSAN_OPTIONS="suppressions=$PWD/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for target in transform options; do
  echo "fuzzing $target for ${seconds}s"
  cargo "${toolchain[@]}" fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144
done

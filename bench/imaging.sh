#!/usr/bin/env bash
# Imaging benchmark, as a user sees it: edgeimg over HTTP (a running `edgeimg
# up`, cold variants) beside libvips in-process (sharp from npm), in one run.
#
#  1. Speed: 320 px JPEG q80 thumbnails of a baseline JPEG (Blinds.jpg,
#     1920x1200; also at 800 px, decoded at 1/2, and at 1280 px, decoded
#     whole: the widths pages ask for), the same photo progressive
#     (mozjpeg's scans, through sharp: decoded at 1/4), a large progressive one (Elephants_5640x3172.jpg,
#     17.9 MP: at 1/8), a PNG (Gulp.png), a 4096x4096 lossy WebP made
#     from Elephants and an 8.3 MP 4:2:0 AVIF (Elephants_3840x2160, by
#     libaom through sharp: AV1 decodes whole); median ms
#     and ratio edgeimg/libvips (target <= 1.0), and the SSIM of both
#     thumbnails against a full-resolution reference.
#  2. Bytes: JPEG, WebP and AVIF at quality 80 from photos and a mostly
#     transparent PNG (and JPEG at 1280 px from Dune.jpg); edgeimg's bytes
#     and SSIM beside the smallest libjpeg/libwebp/libaom output (through sharp) with no worse SSIM
#     (target: WebP and AVIF <= 1.15x).
#
# Usage: bench/imaging.sh      (BENCH_RUNS=N runs per speed case, default 7;
#                               BENCH_ONLY=speed or bytes runs one half)
#   EDGEIMG   host binary (default target/release/edgeimg; build it and the
#             components first: cargo build --release -p edgeimg &&
#             target/release/edgeimg build)
# Installs sharp 0.35 (bundles libvips 8.18) under ~/.cache/edgeimg-bench.
# host/benches/imaging.rs is the in-process profile (native vs Wasmtime) for
# finding where time goes; this script is the comparison that counts.
. "$(dirname "$0")/lib.sh"
bench_init
corpus=$(corpus_dir)

need_sharp

# Inputs the corpus lacks: a big lossy WebP, an AVIF, a mostly transparent PNG.
SHARP_PREFIX=$SHARP_PREFIX node --input-type=module - "$corpus" "$work" <<'JS'
import { createRequire } from "node:module";
const sharp = createRequire(process.env.SHARP_PREFIX + "/")("sharp");
const [corpus, work] = process.argv.slice(2);
await sharp(`${corpus}/Elephants_5640x3172.jpg`).resize(4096, 4096, { fit: "cover" })
  .webp({ quality: 80 }).toFile(`${work}/Elephants_4096x4096.webp`);
await sharp(`${corpus}/Elephants_3840x2160.jpg`).avif({ quality: 60, chromaSubsampling: "4:2:0" })
  .toFile(`${work}/Elephants_3840x2160.avif`);
await sharp(`${corpus}/Blinds.jpg`).jpeg({ quality: 90, progressive: true })
  .toFile(`${work}/Blinds_progressive.jpg`);
const photo = await sharp(`${corpus}/Blinds.jpg`).resize(480).png().toBuffer();
await sharp({ create: { width: 1920, height: 1200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
  .composite([{ input: photo, gravity: "centre" }]).png().toFile(`${work}/Transparent_1920x1200.png`);
JS

start_edgeimg edgeimg
inputs=(
  "speed $corpus/Blinds.jpg"
  "speed:800 $corpus/Blinds.jpg"
  "speed:1280 $corpus/Blinds.jpg"
  "speed $work/Blinds_progressive.jpg"
  "speed $corpus/Elephants_5640x3172.jpg"
  "speed $corpus/Gulp.png"
  "speed $work/Elephants_4096x4096.webp"
  "speed $work/Elephants_3840x2160.avif"
  "bytes $corpus/Dune.jpg"
  "bytes:1280 $corpus/Dune.jpg"
  "bytes $corpus/RainDrops.jpg"
  "bytes $corpus/Elephants.jpg"
  "bytes $work/Transparent_1920x1200.png"
)
{
  echo "["
  sep=""
  for entry in "${inputs[@]}"; do
    kind=${entry%% *} file=${entry#* } width=null
    # "speed:800", "bytes:1280": the output's width, when not 320 px.
    [[ $kind == *:* ]] && width=${kind#*:} kind=${kind%%:*}
    id=$(upload "$addr" "$file")
    printf '%s{"name":"%s","file":"%s","id":"%s","kind":"%s","width":%s}\n' "$sep" "$(basename "$file")" "$file" "$id" "$kind" "$width"
    sep=","
  done
  echo "]"
} >"$work/inputs.json"

node "$repo/bench/imaging.mjs" "$addr" "$work/inputs.json"

#!/usr/bin/env bash
# First views, as a browser meets them: upload a photo, and 2 s later ask
# for its srcset ladder (320/640/960/1280 px, format=auto) with Chrome's
# Accept, each URL for the first time, over HTTP from a running `edgeimg up`
# (eager variants on, as by default). Beside each, libvips (sharp,
# in-process, warm) making the WebP of that width from the same file in the
# same run. Prints every URL's time and format, then p50/p95 of both and of
# the ratio (target: p95 ratio <= 1.0), then waits until every URL answers
# AVIF.
#
# Inputs: corpus JPEGs and a PNG, plus what the corpus lacks (made here): a
# 3840x2160 RGB PNG render, a 1080x1920 RGBA PNG, a 4096x4096 lossy WebP and
# an 8.3 MP AVIF.
#
# Usage: bench/first-view.sh
#   EAGER=off   the same without eager variants (format=auto still never
#               waits for AVIF: the first view makes the WebP)
#   EDGEIMG     host binary (default target/release/edgeimg; build it and the
#               components first: cargo build --release -p edgeimg &&
#               target/release/edgeimg build)
. "$(dirname "$0")/lib.sh"
bench_init
need_sharp
corpus=$(corpus_dir)

node --input-type=module - "$corpus" "$work" <<'JS'
import { createRequire } from "node:module";
const sharp = createRequire(process.env.SHARP_PREFIX + "/")("sharp");
const [corpus, work] = process.argv.slice(2);
await sharp(`${corpus}/Elephants_3840x2160.jpg`).png().toFile(`${work}/Render_3840x2160.png`);
const portrait = await sharp(`${corpus}/Dune.jpg`).resize(1080, 1920, { fit: "cover" }).raw().toBuffer();
// An RGBA PNG: a photo under a soft vertical alpha ramp.
const rgba = Buffer.alloc(1080 * 1920 * 4);
for (let i = 0; i < 1080 * 1920; i++) {
  rgba.set(portrait.subarray(i * 3, i * 3 + 3), i * 4);
  rgba[i * 4 + 3] = Math.round(255 * (1 - Math.floor(i / 1080) / 1920 / 2));
}
await sharp(rgba, { raw: { width: 1080, height: 1920, channels: 4 } }).png().toFile(`${work}/Portrait_1080x1920_rgba.png`);
await sharp(`${corpus}/Elephants_5640x3172.jpg`).resize(4096, 4096, { fit: "cover" })
  .webp({ quality: 80 }).toFile(`${work}/Elephants_4096x4096.webp`);
await sharp(`${corpus}/Elephants_3840x2160.jpg`).avif({ quality: 60 }).toFile(`${work}/Elephants_3840x2160.avif`);
JS

files=(
  "$corpus/Blinds.jpg" "$corpus/Dune.jpg" "$corpus/Aqua.jpg" "$corpus/RainDrops.jpg"
  "$corpus/Elephants_5640x3172.jpg" "$corpus/Gulp.png" "$work/Render_3840x2160.png"
  "$work/Portrait_1080x1920_rgba.png" "$work/Elephants_4096x4096.webp" "$work/Elephants_3840x2160.avif"
)
EDGEIMG_EAGER=${EAGER:-on} start_edgeimg edgeimg
node "$repo/bench/first-view.mjs" "$addr" "${files[@]}"

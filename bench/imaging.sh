#!/usr/bin/env bash
# Imaging benchmark, as a user sees it: edgeimg over HTTP (a running `edgeimg
# up`, cold variants) beside libvips in-process (sharp from npm), in one run.
#
#  1. Speed: JPEG q80 variants at 320, 800 and 1280 px (the widths pages
#     ask for) of a baseline JPEG (Blinds.jpg, 1920x1200), a 5120x2880
#     baseline JPEG, the same photo progressive (mozjpeg's scans, through
#     sharp), a large progressive one (Elephants_5640x3172.jpg, 17.9 MP),
#     a 2560x1600 JPEG with an Adobe RGB profile, a PNG (Gulp.png), a
#     3840x2160 RGB PNG of a photo, a 1080x1920 RGBA PNG with a soft alpha
#     edge, a 4096x4096 lossy WebP made from Elephants and an 8.3 MP 4:2:0
#     AVIF (Elephants_3840x2160, by libaom through sharp); median ms and
#     ratio edgeimg/libvips (target <= 1.0), and the SSIM of both
#     thumbnails against a full-resolution reference. Neither enlarges (a
#     1280 px variant of the 1080 px wide PNG is re-encoded at 1080).
#  2. Bytes: JPEG, WebP and AVIF at quality 80 from photos and a mostly
#     transparent PNG (and JPEG at 1280 px from Dune.jpg); edgeimg's bytes
#     and SSIM beside the smallest libjpeg/libwebp/libaom output (through sharp) with no worse SSIM
#     (target: WebP and AVIF <= 1.15x).
#  3. Features (issue 26), each beside libvips doing the same operation:
#     gravity=auto (a 400 px square, fit=cover, of Blinds.jpg and of
#     Elephants_5640x3172.jpg) against sharp's `position: "attention"`,
#     each also against its own centre crop, so the saliency step's cost
#     shows; an SVG of 2,000 shapes and gradients drawn at 800 px, PNG and WebP
#     (sharp: librsvg at the density that gives 800 px); an animated GIF
#     (48 frames, 480x270, made from Blinds.jpg with Pillow) to a 240 px
#     animated WebP (sharp: `{animated: true}`), total and per frame.
#
# Usage: bench/imaging.sh      (BENCH_RUNS=N runs per speed case, default 7;
#                               BENCH_ONLY=speed, bytes or features runs one part)
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
import { writeFileSync } from "node:fs";
const sharp = createRequire(process.env.SHARP_PREFIX + "/")("sharp");
const [corpus, work] = process.argv.slice(2);
await sharp(`${corpus}/Elephants_5640x3172.jpg`).resize(4096, 4096, { fit: "cover" })
  .webp({ quality: 80 }).toFile(`${work}/Elephants_4096x4096.webp`);
await sharp(`${corpus}/Elephants_3840x2160.jpg`).avif({ quality: 60, chromaSubsampling: "4:2:0" })
  .toFile(`${work}/Elephants_3840x2160.avif`);
await sharp(`${corpus}/Blinds.jpg`).jpeg({ quality: 90, progressive: true })
  .toFile(`${work}/Blinds_progressive.jpg`);
// Inputs pages meet that the corpus lacks (issue 24): a large baseline JPEG,
// a 4K RGB PNG (a photo, so it inflates like one), a tall RGBA PNG with a
// soft alpha edge, and a JPEG with an embedded Adobe RGB profile.
await sharp(`${corpus}/Elephants_5640x3172.jpg`).resize(5120, 2880).jpeg({ quality: 90 })
  .toFile(`${work}/Elephants_5120x2880.jpg`);
await sharp(`${corpus}/Elephants_3840x2160.jpg`).png().toFile(`${work}/Elephants_3840x2160.png`);
{
  const { data, info } = await sharp(`${corpus}/Blinds.jpg`).resize(1080, 1920, { fit: "cover" })
    .ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++) {
      const [dx, dy] = [x / info.width - 0.5, y / info.height - 0.5];
      const a = Math.round(255 * (1.2 - 2.2 * Math.hypot(dx, dy)));
      data[(y * info.width + x) * 4 + 3] = Math.max(0, Math.min(255, a));
    }
  await sharp(data, { raw: info }).png().toFile(`${work}/Blinds_1080x1920_rgba.png`);
}
await sharp(`${corpus}/Elephants_5640x3172.jpg`).resize(2560, 1600)
  .withIccProfile("/usr/share/color/icc/colord/AdobeRGB1998.icc").jpeg({ quality: 90 })
  .toFile(`${work}/AdobeRGB_2560x1600.jpg`);
const photo = await sharp(`${corpus}/Blinds.jpg`).resize(480).png().toBuffer();
await sharp({ create: { width: 1920, height: 1200, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
  .composite([{ input: photo, gravity: "centre" }]).png().toFile(`${work}/Transparent_1920x1200.png`);
// An SVG of 2,000 shapes (a fixed pseudo-random sequence) with gradients.
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const shapes = [];
for (let i = 0; i < 2000; i++) {
  const [x, y, r] = [rnd() * 800, rnd() * 600, 4 + rnd() * 40];
  const fill = i % 7 === 0 ? `url(#g${i % 3})` : `hsl(${Math.floor(rnd() * 360)},70%,50%)`;
  shapes.push(i % 2
    ? `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${fill}" fill-opacity="0.7"/>`
    : `<path d="M${x.toFixed(1)} ${y.toFixed(1)} l${r.toFixed(1)} ${(r / 2).toFixed(1)} l${(-r / 3).toFixed(1)} ${r.toFixed(1)}z" fill="${fill}" stroke="#222" stroke-width="0.5"/>`);
}
const gradients = [0, 1, 2].map((g) =>
  `<linearGradient id="g${g}"><stop offset="0" stop-color="#f${g}0"/><stop offset="1" stop-color="#0${g}f"/></linearGradient>`).join("");
writeFileSync(`${work}/Shapes_800x600.svg`,
  `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600" viewBox="0 0 800 600"><defs>${gradients}</defs>${shapes.join("")}</svg>`);
JS
# An animated GIF: 48 frames of a 480x270 window panning across Blinds.jpg.
python3 - "$corpus/Blinds.jpg" "$work/Pan_480x270x48.gif" <<'PY'
import sys
from PIL import Image
src = Image.open(sys.argv[1]).convert("RGB").resize((960, 600))
frames = [src.crop((i * 10, i * 5, i * 10 + 480, i * 5 + 270)) for i in range(48)]
frames[0].save(sys.argv[2], save_all=True, append_images=frames[1:], duration=80, loop=0)
PY

# The background ladder is off: the uploads below would queue ~350 eager
# variants (AVIF among them) that run while the first cells are timed, on
# the same two cores as sharp and the timed requests.
EDGEIMG_EAGER=off start_edgeimg edgeimg
inputs=()
# The speed matrix: each input at the widths pages ask for.
for file in "$corpus/Blinds.jpg" "$work/Elephants_5120x2880.jpg" "$work/Blinds_progressive.jpg" \
  "$corpus/Elephants_5640x3172.jpg" "$work/AdobeRGB_2560x1600.jpg" "$corpus/Gulp.png" \
  "$work/Elephants_3840x2160.png" "$work/Blinds_1080x1920_rgba.png" \
  "$work/Elephants_4096x4096.webp" "$work/Elephants_3840x2160.avif"; do
  inputs+=("speed $file" "speed:800 $file" "speed:1280 $file")
done
inputs+=(
  "bytes $corpus/Dune.jpg"
  "bytes:1280 $corpus/Dune.jpg"
  "bytes $corpus/RainDrops.jpg"
  "bytes $corpus/Elephants.jpg"
  "bytes $work/Transparent_1920x1200.png"
  "saliency $corpus/Blinds.jpg"
  "saliency $corpus/Elephants_5640x3172.jpg"
  "svg $work/Shapes_800x600.svg"
  "anim $work/Pan_480x270x48.gif"
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

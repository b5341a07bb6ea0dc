// The measuring half of bench/imaging.sh (run it through that script).
//
// Speed: a cold JPEG thumbnail, 320 px or the input's `width` (a variant
// not made before: each run asks for a width not asked before) requested
// over HTTP from a running `edgeimg up`, beside libvips doing the same work in this process through
// sharp (cache off, its default thread pool, after a warm-up), interleaved
// run by run. Beside each, the SSIM of both thumbnails (the last run's width)
// against a full-resolution reference: sharp without shrink-on-load,
// lossless, so a faster decode that loses detail shows as a lower SSIM.
//
// Bytes: for JPEG, WebP and AVIF output at quality 80, edgeimg's bytes and
// SSIM against a lossless reference (edgeimg's own PNG of the same 320 px
// variant, so both encoders compress the very same pixels), beside the
// smallest libjpeg(-turbo API, mozjpeg build)/libwebp/libaom output, through
// sharp, whose SSIM is no worse (a quality sweep over the reference pixels).
//
// Features: the steps of issue 26 over HTTP, cold, beside libvips doing the
// same operation in-process, interleaved run by run: gravity=auto against
// sharp's attention crop (and each against its own centre crop: the
// difference is the saliency step's cost), SVG rasterised at 800 px
// (librsvg through sharp, at the density that draws it at that size), an
// animated GIF to an animated WebP (sharp `{animated: true}`), per frame.
//
// Usage: node bench/imaging.mjs ADDR INPUTS.json   (INPUTS: [{name, file, id, kind, width?}])
// kind: "speed", "bytes", "saliency", "svg" or "anim". BENCH_RUNS (default 7)
// runs per speed case. BENCH_ONLY=speed, bytes or features runs one part.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.SHARP_PREFIX + "/");
const sharp = require("sharp");
sharp.cache(false);

const [addr, inputsPath] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsPath, "utf8"));
const runs = Number(process.env.BENCH_RUNS || 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function get(path) {
  const res = await fetch(`http://${addr}${path}`);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body}`);
  return body;
}

// An input's name, with the output width when it is not the default 320 px.
const label = (input, width) => (input.width ? `${input.name} → ${width} px` : input.name);

async function time(f) {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

// Flattened onto white, as edgeimg's JPEG output is.
// Never enlarged, as edgeimg's default fit (scale-down) never enlarges.
const vipsThumb = (buf, width) =>
  sharp(buf).rotate().resize(width, null, { withoutEnlargement: true })
    .flatten({ background: "#ffffff" }).jpeg({ quality: 80 }).toBuffer();

async function speed(input) {
  const buf = readFileSync(input.file);
  const meta = await sharp(buf).metadata();
  // Warm-up: the component's compiled code, sharp's shared library.
  const base = input.width || 320;
  await get(`/resize/width=${base - 20},format=jpeg/${input.id}`);
  await vipsThumb(buf, base - 20);
  const e = [], v = [];
  for (let i = 0; i < runs; i++) {
    const width = base - i;
    e.push(await time(() => get(`/resize/width=${width},format=jpeg,quality=80/${input.id}`)));
    v.push(await time(() => vipsThumb(buf, width)));
  }
  const [me, mv] = [median(e), median(v)];
  const mp = ((meta.width * meta.height) / 1e6).toFixed(1);
  const width = base - (runs - 1);
  // The reference at each thumbnail's own size: the two round a height
  // differently at times (178 vs 177 rows).
  const against = async (thumb) => {
    const { width: w, height: h } = await sharp(thumb).metadata();
    const full = await sharp(buf, { failOn: "none" }).rotate()
      .resize(w, h, { fit: "fill", fastShrinkOnLoad: false }).flatten({ background: "#ffffff" }).png().toBuffer();
    return ssim(await planes(full), thumb);
  };
  const ours = await against(await get(`/resize/width=${width},format=jpeg,quality=80/${input.id}`));
  const theirs = await against(await vipsThumb(buf, width));
  console.log(
    `${label(input, base).padEnd(34)} ${mp.padStart(5)} ${me.toFixed(1).padStart(9)} ${mv.toFixed(1).padStart(9)} ` +
      `${(me / mv).toFixed(2).padStart(10)}x   ${ours.toFixed(4)} ${theirs.toFixed(4)}`,
  );
}

// SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5) on BT.601 luma.
// Images with alpha: mean of luma SSIM over mid grey and alpha SSIM.
async function planes(buf) {
  const { data, info } = await sharp(buf).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const luma = new Float64Array(n), alpha = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = data[i * 4 + 3] / 255;
    const y = 0.299 * data[i * 4] + 0.587 * data[i * 4 + 1] + 0.114 * data[i * 4 + 2];
    luma[i] = y * a + 128 * (1 - a);
    alpha[i] = data[i * 4 + 3];
  }
  return { w: info.width, h: info.height, luma, alpha, opaque: alpha.every((a) => a === 255) };
}

function blur(src, w, h) {
  const k = [];
  for (let i = -5; i <= 5; i++) k.push(Math.exp(-(i * i) / (2 * 1.5 * 1.5)));
  const s = k.reduce((a, b) => a + b);
  const g = k.map((x) => x / s);
  const tmp = new Float64Array(w * h), out = new Float64Array((w - 10) * (h - 10));
  for (let y = 0; y < h; y++)
    for (let x = 5; x < w - 5; x++) {
      let acc = 0;
      for (let i = 0; i < 11; i++) acc += g[i] * src[y * w + x - 5 + i];
      tmp[y * w + x] = acc;
    }
  for (let y = 5; y < h - 5; y++)
    for (let x = 5; x < w - 5; x++) {
      let acc = 0;
      for (let i = 0; i < 11; i++) acc += g[i] * tmp[(y - 5 + i) * w + x];
      out[(y - 5) * (w - 10) + x - 5] = acc;
    }
  return out;
}

function ssimPlane(a, b, w, h) {
  const mul = (p, q) => p.map((v, i) => v * q[i]);
  const [ma, mb] = [blur(a, w, h), blur(b, w, h)];
  const [saa, sbb, sab] = [blur(mul(a, a), w, h), blur(mul(b, b), w, h), blur(mul(a, b), w, h)];
  const c1 = (0.01 * 255) ** 2, c2 = (0.03 * 255) ** 2;
  let sum = 0;
  for (let i = 0; i < ma.length; i++) {
    const va = saa[i] - ma[i] * ma[i], vb = sbb[i] - mb[i] * mb[i], cov = sab[i] - ma[i] * mb[i];
    sum += ((2 * ma[i] * mb[i] + c1) * (2 * cov + c2)) / ((ma[i] ** 2 + mb[i] ** 2 + c1) * (va + vb + c2));
  }
  return sum / ma.length;
}

async function ssim(ref, buf) {
  const p = await planes(buf);
  if (p.w !== ref.w || p.h !== ref.h) throw new Error(`size ${p.w}x${p.h} vs ${ref.w}x${ref.h}`);
  const s = ssimPlane(ref.luma, p.luma, p.w, p.h);
  return ref.opaque ? s : (s + ssimPlane(ref.alpha, p.alpha, p.w, p.h)) / 2;
}

const encoders = {
  jpeg: (img, q) => img.jpeg({ quality: q }),
  webp: (img, q) => img.webp({ quality: q }),
  avif: (img, q) => img.avif({ quality: q }),
};

async function bytes(input) {
  const width = input.width || 320;
  const refPng = await get(`/resize/width=${width},format=png/${input.id}`);
  const ref = await planes(refPng);
  // At other widths JPEG only (AVIF sweeps of large images take minutes).
  for (const format of input.width ? ["jpeg"] : ["jpeg", "webp", "avif"]) {
    if (format === "jpeg" && !ref.opaque) continue;
    const ours = await get(`/resize/width=${width},format=${format},quality=80/${input.id}`);
    const s = await ssim(ref, ours);
    // The smallest reference output at no worse SSIM.
    let best = null;
    for (let q = 20; q <= 100; q += 2) {
      const out = await encoders[format](sharp(refPng), q).toBuffer();
      const so = await ssim(ref, out);
      if (so >= s && (!best || out.length < best.bytes)) best = { q, bytes: out.length, ssim: so };
    }
    const q80 = await encoders[format](sharp(refPng), 80).toBuffer();
    const s80 = await ssim(ref, q80);
    const ratio = best ? (ours.length / best.bytes).toFixed(2) + "x" : "none as good";
    console.log(
      `${label(input, width).padEnd(34)} ${format.padEnd(5)} ${String(ours.length).padStart(8)} ${s.toFixed(4)}  ` +
        `${best ? String(best.bytes).padStart(8) + " " + best.ssim.toFixed(4) + " q" + best.q : "".padStart(21)}  ` +
        `${ratio.padStart(8)}   (q80: ${q80.length} B, ${s80.toFixed(4)})`,
    );
  }
}

// Median ms of `runs` interleaved runs of each function of `fs`, which
// take the run's index (so each edgeimg request is a variant not made before).
async function interleaved(fs) {
  const times = fs.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, f] of fs.entries()) times[k].push(await time(() => f(i)));
  }
  return times.map(median);
}

const row = (name, ours, theirs, note = "") =>
  console.log(`${name.padEnd(44)} ${ours.toFixed(1).padStart(9)} ${theirs.toFixed(1).padStart(9)} ${(ours / theirs).toFixed(2).padStart(8)}x  ${note}`);

async function feature(input) {
  const buf = readFileSync(input.file);
  const path = (opts) => `/resize/${opts}/${input.id}`;
  if (input.kind === "saliency") {
    const crop = (w, position) => sharp(buf).rotate().resize(w, w, { fit: "cover", position }).jpeg({ quality: 80 }).toBuffer();
    await get(path("width=380,height=380,fit=cover,gravity=auto,format=jpeg"));
    await crop(380, "attention");
    const [auto, centre, vipsAuto, vipsCentre] = await interleaved([
      (i) => get(path(`width=${400 - i},height=${400 - i},fit=cover,gravity=auto,format=jpeg`)),
      (i) => get(path(`width=${400 - i},height=${400 - i},fit=cover,format=jpeg`)),
      (i) => crop(400 - i, "attention"),
      (i) => crop(400 - i, "centre"),
    ]);
    row(`${input.name} 400 px square, gravity=auto`, auto, vipsAuto,
      `saliency step: edgeimg +${(auto - centre).toFixed(1)} ms, libvips +${(vipsAuto - vipsCentre).toFixed(1)} ms over centre`);
  } else if (input.kind === "svg") {
    const meta = await sharp(buf).metadata();
    // PNG (lossless: the encoder's share is large) and WebP q80 (what
    // format=auto serves most browsers).
    for (const format of ["png", "webp"]) {
      const encode = (img) => (format === "png" ? img.png() : img.webp({ quality: 80 }));
      const draw = (w) => encode(sharp(buf, { density: (72 * w) / meta.width }).resize(w)).toBuffer();
      await get(path(`width=780,format=${format}`));
      await draw(780);
      const [ours, theirs] = await interleaved([
        (i) => get(path(`width=${800 - i},format=${format}`)),
        (i) => draw(800 - i),
      ]);
      row(`${input.name} → 800 px ${format.toUpperCase()}`, ours, theirs);
    }
  } else if (input.kind === "anim") {
    const meta = await sharp(buf, { animated: true }).metadata();
    const frames = meta.pages;
    const anim = (w) => sharp(buf, { animated: true }).resize(w).webp({ quality: 80 }).toBuffer();
    await get(path("width=220,format=webp"));
    await anim(220);
    const [ours, theirs] = await interleaved([
      (i) => get(path(`width=${240 - i},format=webp`)),
      (i) => anim(240 - i),
    ]);
    const out = await get(path(`width=240,format=webp`));
    const outFrames = (await sharp(out, { animated: true }).metadata()).pages;
    row(`${input.name} → 240 px animated WebP`, ours, theirs,
      `${frames} frames (out: ${outFrames}): ${(ours / frames).toFixed(2)} vs ${(theirs / frames).toFixed(2)} ms a frame`);
  }
}

console.log(`sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, libwebp ${sharp.versions.webp}, aom ${sharp.versions.aom}, ${sharp.concurrency()} libvips threads`);
const only = process.env.BENCH_ONLY;
if (only !== "bytes" && only !== "features") {
  console.log(`\n320 px (unless named) JPEG q80, cold variant over HTTP vs libvips in-process; median of ${runs}, ms;`);
  console.log(`SSIM of each thumbnail against a full-resolution reference`);
  console.log(`${"input".padEnd(34)} ${"MP".padStart(5)} ${"edgeimg".padStart(9)} ${"libvips".padStart(9)} ${"ratio".padStart(11)}   ${"SSIM ours".padStart(6)} ${"libvips"}`);
  for (const input of inputs.filter((i) => i.kind === "speed" || i.kind === "both")) await speed(input);
}
if (only !== "bytes" && only !== "speed") {
  console.log(`\nIssue 26 steps, cold over HTTP vs libvips in-process; median of ${runs}, ms`);
  console.log(`${"case".padEnd(44)} ${"edgeimg".padStart(9)} ${"libvips".padStart(9)} ${"ratio".padStart(9)}`);
  for (const input of inputs.filter((i) => ["saliency", "svg", "anim"].includes(i.kind))) await feature(input);
}
if (only === "speed" || only === "features") process.exit(0);
console.log(`\n320 px (unless named) at quality 80: edgeimg bytes and SSIM vs the smallest reference output with SSIM >= ours`);
console.log(`${"input".padEnd(34)} ${"fmt".padEnd(5)} ${"edgeimg B".padStart(8)} ${"SSIM".padStart(6)}  ${"ref B".padStart(8)} ${"SSIM".padStart(6)} ${"q".padEnd(5)}  ${"ratio".padStart(8)}`);
for (const input of inputs.filter((i) => i.kind === "bytes" || i.kind === "both")) await bytes(input);

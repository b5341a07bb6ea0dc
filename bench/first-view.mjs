// The measuring half of bench/first-view.sh (run it through that script).
//
// For each file: upload it over HTTP, wait 2 s, then ask for each width of
// the srcset ladder with format=auto and Chrome's Accept, once (a first
// view), timing the whole response; beside it, sharp (libvips, in-process,
// after a warm-up, cache off) making a q80 WebP of that width from the file.
// Then p50/p95 of both and of the per-URL ratio, and a wait until every
// URL answers AVIF (the background queue drained).
//
// Usage: node bench/first-view.mjs ADDR FILE...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";

const sharp = createRequire(process.env.SHARP_PREFIX + "/")("sharp");
sharp.cache(false);

const [addr, ...files] = process.argv.slice(2);
const WIDTHS = [320, 640, 960, 1280];
const CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function get(path) {
  const res = await fetch(`http://${addr}${path}`, { headers: { accept: CHROME } });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body}`);
  return { type: res.headers.get("content-type"), cache: res.headers.get("cache-control"), body };
}

async function time(f) {
  const t = performance.now();
  const out = await f();
  return [performance.now() - t, out];
}

const webp = (buf, width) => sharp(buf).rotate().resize(width).webp({ quality: 80 }).toBuffer();

// Warm-up: sharp's library and the host's compiled components.
const warm = readFileSync(files[0]);
await webp(warm, 300);
await fetch(`http://${addr}/healthz`);

console.log(`sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, libwebp ${sharp.versions.webp}`);
console.log(`${"input → width".padEnd(38)} ${"edgeimg ms".padStart(10)} ${"format".padEnd(10)} ${"libvips WebP ms".padStart(15)} ${"ratio".padStart(7)}`);
const ours = [], theirs = [], ratios = [], urls = [];
for (const file of files) {
  const buf = readFileSync(file);
  const res = await fetch(`http://${addr}/upload`, { method: "POST", body: buf });
  if (res.status !== 201 && res.status !== 200) throw new Error(`upload ${file}: ${res.status} ${await res.text()}`);
  const { id, width: original } = await res.json();
  await sleep(2000);
  for (const width of WIDTHS.filter((w) => w <= original)) {
    const path = `/resize/width=${width},format=auto/${id}`;
    const [ms, r] = await time(() => get(path));
    const [vms] = await time(() => webp(buf, width));
    ours.push(ms);
    theirs.push(vms);
    ratios.push(ms / vms);
    urls.push(path);
    const format = r.type.replace("image/", "") + (r.cache.includes("immutable") ? "" : " (60 s)");
    console.log(
      `${(basename(file) + " → " + width).padEnd(38)} ${ms.toFixed(1).padStart(10)} ${format.padEnd(10)} ` +
        `${vms.toFixed(1).padStart(15)} ${(ms / vms).toFixed(2).padStart(6)}x`,
    );
  }
}
const row = (name, xs, unit) =>
  console.log(`${name.padEnd(24)} p50 ${quantile(xs, 0.5).toFixed(2).padStart(8)}${unit}   p95 ${quantile(xs, 0.95).toFixed(2).padStart(8)}${unit}`);
console.log(`\n${urls.length} first views`);
row("edgeimg first view", ours, " ms");
row("libvips WebP in-process", theirs, " ms");
row("ratio edgeimg/libvips", ratios, "x");

// Every URL answers AVIF once its background job has run.
const started = performance.now();
let pending = urls;
while (pending.length > 0) {
  const still = [];
  for (const path of pending) if ((await get(path)).type !== "image/avif") still.push(path);
  pending = still;
  if (pending.length === 0) break;
  if (performance.now() - started > 600_000) throw new Error(`no AVIF after 10 min: ${pending.join(" ")}`);
  await sleep(1000);
}
console.log(`every URL answers AVIF ${((performance.now() - started) / 1000).toFixed(0)} s after the last first view`);

// edgeimg demo page: upload (file picker or drag and drop, with progress),
// a responsive gallery of uploads, and a form to try resize options.
// Plain JS, no dependencies, same-origin requests only.
'use strict';

/** Widths offered in each gallery image's srcset (capped at the original's):
 * the host's default eager ladder (`[eager] widths`), so every candidate is
 * made right after the upload, before a browser asks. */
const WIDTHS = [320, 640, 960, 1280];
/** Slot widths of the gallery columns; app.css lays them out the same way. */
const SIZES = '(min-width: 1000px) 300px, (min-width: 640px) 45vw, 92vw';
/** Images per gallery page. */
const PAGE = 12;
const TOKEN_KEY = 'edgeimg-upload-token';

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  next: null,
  images: [],
};

performance.setResourceTimingBufferSize(2000);

// ---------- helpers ----------

function authHeaders() {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = kind ? `status ${kind}` : 'status';
}

function needToken(message) {
  $('token-row').hidden = false;
  setStatus(message, 'error');
  $('token').focus();
}

function takeToken() {
  const typed = $('token').value.trim();
  if (typed) {
    state.token = typed;
    sessionStorage.setItem(TOKEN_KEY, typed);
  }
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function formatBytes(bytes) {
  if (!(bytes > 0)) return 'unknown size';
  const units = ['bytes', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${numberFormat.format(value)} ${units[unit]}`;
}

function errorMessage(body, status) {
  return (body && body.error && body.error.message) || `the server answered ${status}`;
}

function resizePath(id, options) {
  return `/resize/${options}/${id}`;
}

/** Timing entry of a URL this page loaded: transfer size and content type. */
function timingOf(url) {
  const absolute = new URL(url, location.href).href;
  const entries = performance.getEntriesByName(absolute);
  return entries.length ? entries[entries.length - 1] : null;
}

// ---------- upload ----------

function uploadOne(file, index, count) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    for (const [name, value] of Object.entries(authHeaders())) {
      xhr.setRequestHeader(name, value);
    }
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    const progress = $('progress');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) {
        progress.value = ((index + event.loaded / event.total) / count) * 100;
      }
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (_) {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error('the connection failed'));
    xhr.send(file);
  });
}

async function uploadFiles(files) {
  if (!files.length) {
    setStatus('Choose an image first.', 'error');
    $('file').focus();
    return;
  }
  takeToken();
  const button = $('upload-button');
  const progress = $('progress');
  button.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  let lastId = null;
  try {
    for (let i = 0; i < files.length; i += 1) {
      const file = files[i];
      setStatus(`Uploading ${file.name} (${i + 1} of ${files.length})…`);
      const reply = await uploadOne(file, i, files.length);
      if (reply.status === 401 || reply.status === 403) {
        needToken(reply.status === 401
          ? 'This server needs its upload token: enter it and upload again.'
          : 'That upload token is not valid: check it and upload again.');
        return;
      }
      if (reply.status !== 200 && reply.status !== 201) {
        setStatus(`${file.name}: ${errorMessage(reply.body, reply.status)}`, 'error');
        return;
      }
      lastId = reply.body.id;
    }
    progress.value = 100;
    setStatus(files.length === 1 ? `Uploaded ${files[0].name}.` : `Uploaded ${files.length} images.`, 'done');
    $('file').value = '';
    await loadGallery(true);
    if (lastId) {
      $('try-image').value = lastId;
      updateTry();
    }
  } catch (error) {
    setStatus(`Upload failed: ${error.message}`, 'error');
  } finally {
    button.disabled = false;
    progress.hidden = true;
  }
}

function setUpDropZone() {
  const zone = $('drop-zone');
  const over = (on) => (event) => {
    event.preventDefault();
    zone.classList.toggle('over', on);
  };
  zone.addEventListener('dragenter', over(true));
  zone.addEventListener('dragover', over(true));
  zone.addEventListener('dragleave', over(false));
  zone.addEventListener('drop', (event) => {
    over(false)(event);
    uploadFiles(Array.from(event.dataTransfer.files));
  });
  $('upload-form').addEventListener('submit', (event) => {
    event.preventDefault();
    uploadFiles(Array.from($('file').files));
  });
}

// ---------- gallery ----------

/** srcset widths for an image `width` pixels wide: none wider than it. */
function candidateWidths(width) {
  const widths = WIDTHS.filter((w) => w < width);
  if (width <= WIDTHS[WIDTHS.length - 1] || widths.length === 0) {
    widths.push(Math.min(width, WIDTHS[WIDTHS.length - 1]));
  }
  return widths;
}

function row(list, term, value) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  list.append(dt, dd);
  return dd;
}

/**
 * A ThumbHash (base64) drawn as a PNG data URL of at most 32 px, or null.
 * The decoder of evanw/thumbhash (MIT), as the `thumbhash` crate that made
 * the hash ports it: DCT factors of luminance, two chroma channels and alpha.
 */
function thumbHashDataURL(base64) {
  if (typeof base64 !== 'string' || !base64) return null;
  let hash;
  try {
    hash = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  if (hash.length < 5) return null;
  const header24 = hash[0] | (hash[1] << 8) | (hash[2] << 16);
  const header16 = hash[3] | (hash[4] << 8);
  const lDc = (header24 & 63) / 63;
  const pDc = ((header24 >> 6) & 63) / 31.5 - 1;
  const qDc = ((header24 >> 12) & 63) / 31.5 - 1;
  const lScale = ((header24 >> 18) & 31) / 31;
  const hasAlpha = header24 >> 23;
  const pScale = ((header16 >> 3) & 63) / 63;
  const qScale = ((header16 >> 9) & 63) / 63;
  const isLandscape = header16 >> 15;
  const lMax = hasAlpha ? 5 : 7;
  const lx = Math.max(3, isLandscape ? lMax : header16 & 7);
  const ly = Math.max(3, isLandscape ? header16 & 7 : lMax);
  const aDc = hasAlpha ? (hash[5] & 15) / 15 : 1;
  const aScale = (hash[5] >> 4) / 15;
  const ratio = (isLandscape ? lMax : header16 & 7) / (isLandscape ? header16 & 7 : lMax);
  let at = hasAlpha ? 6 : 5;
  let nibble = 0;
  const channel = (nx, ny, scale) => {
    const ac = [];
    for (let cy = 0; cy < ny; cy++) {
      for (let cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++, nibble++) {
        ac.push((((hash[at + (nibble >> 1)] >> ((nibble & 1) << 2)) & 15) / 7.5 - 1) * scale);
      }
    }
    return ac;
  };
  const lAc = channel(lx, ly, lScale);
  const pAc = channel(3, 3, pScale * 1.25);
  const qAc = channel(3, 3, qScale * 1.25);
  const aAc = hasAlpha ? channel(5, 5, aScale) : [];
  if (at + (nibble >> 1) > hash.length) return null;
  const w = Math.round(ratio > 1 ? 32 : 32 * ratio) || 1;
  const h = Math.round(ratio > 1 ? 32 / ratio : 32) || 1;
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext('2d');
  if (!context) return null;
  const image = context.createImageData(w, h);
  const fx = [];
  const fy = [];
  for (let y = 0, i = 0; y < h; y++) {
    for (let x = 0; x < w; x++, i += 4) {
      let l = lDc;
      let p = pDc;
      let q = qDc;
      let a = aDc;
      for (let c = 0; c < Math.max(lx, hasAlpha ? 5 : 3); c++) fx[c] = Math.cos((Math.PI / w) * (x + 0.5) * c);
      for (let c = 0; c < Math.max(ly, hasAlpha ? 5 : 3); c++) fy[c] = Math.cos((Math.PI / h) * (y + 0.5) * c);
      for (let cy = 0, j = 0; cy < ly; cy++) {
        for (let cx = cy ? 0 : 1; cx * ly < lx * (ly - cy); cx++, j++) l += lAc[j] * fx[cx] * fy[cy] * 2;
      }
      for (let cy = 0, j = 0; cy < 3; cy++) {
        for (let cx = cy ? 0 : 1; cx < 3 - cy; cx++, j++) {
          const f = fx[cx] * fy[cy] * 2;
          p += pAc[j] * f;
          q += qAc[j] * f;
        }
      }
      if (hasAlpha) {
        for (let cy = 0, j = 0; cy < 5; cy++) {
          for (let cx = cy ? 0 : 1; cx < 5 - cy; cx++, j++) a += aAc[j] * fx[cx] * fy[cy] * 2;
        }
      }
      const b = l - (2 / 3) * p;
      const r = (3 * l - b + q) / 2;
      const g = r - q;
      image.data.set([r, g, b, a].map((v) => Math.max(0, Math.min(1, v)) * 255), i);
    }
  }
  context.putImageData(image, 0, 0);
  return canvas.toDataURL();
}

function card(meta) {
  const item = document.createElement('li');
  item.className = 'card';
  item.dataset.id = meta.id;
  const figure = document.createElement('figure');
  const img = document.createElement('img');
  const widths = candidateWidths(meta.width);
  const format = meta.format.toUpperCase();
  img.alt = `Uploaded ${format} image, ${meta.width} × ${meta.height} pixels (id ${meta.id.slice(0, 8)})`;
  img.width = meta.width;
  img.height = meta.height;
  // Placeholders while the image loads: its dominant colour, and over it
  // the blurred ThumbHash, where the metadata has them; cleared on load so
  // a transparent image shows the page behind it.
  if (/^#[0-9a-f]{6}$/i.test(meta.dominant_color || '')) img.style.backgroundColor = meta.dominant_color;
  const sketch = thumbHashDataURL(meta.thumbhash);
  if (sketch) {
    img.style.backgroundImage = `url(${sketch})`;
    img.style.backgroundSize = '100% 100%';
  }
  img.addEventListener('load', () => {
    img.style.backgroundImage = '';
    img.style.backgroundColor = '';
  }, { once: true });
  img.loading = 'lazy';
  img.decoding = 'async';
  img.sizes = SIZES;
  img.srcset = widths.map((w) => `${resizePath(meta.id, `width=${w},format=auto`)} ${w}w`).join(', ');
  img.src = resizePath(meta.id, `width=${widths[Math.min(1, widths.length - 1)]},format=auto`);

  const caption = document.createElement('figcaption');
  const list = document.createElement('dl');
  row(list, 'Original', `${format}, ${meta.width} × ${meta.height}, ${formatBytes(meta.bytes)}`);
  row(list, 'Uploaded', new Date(meta.created).toLocaleString());
  const served = row(list, 'Served', 'loading…');
  const saved = row(list, 'Saved', '…');
  saved.className = 'saved';
  caption.append(list);
  figure.append(img, caption);
  item.append(figure);

  img.addEventListener('load', () => {
    const timing = timingOf(img.currentSrc);
    const type = timing && timing.contentType ? timing.contentType.replace('image/', '').toUpperCase() : 'cached';
    const bytes = timing ? timing.encodedBodySize : 0;
    // The srcset candidate's width: naturalWidth is in CSS pixels.
    const chosen = /width=(\d+)/.exec(img.currentSrc);
    const width = chosen ? chosen[1] : img.naturalWidth;
    served.textContent = `${type}, ${width} px wide, ${formatBytes(bytes)}`;
    saved.textContent = bytes > 0
      ? `${numberFormat.format(100 * (1 - bytes / meta.bytes))} % fewer bytes than the original`
      : 'shown from the browser cache';
    item.dataset.served = img.currentSrc;
  });
  img.addEventListener('error', () => {
    served.textContent = 'could not be loaded';
    saved.textContent = '';
  });
  return item;
}

async function loadGallery(reset) {
  const gallery = $('gallery');
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (!reset && state.next) params.set('after', state.next);
  gallery.setAttribute('aria-busy', 'true');
  try {
    const response = await fetch(`/images?${params}`, { headers: authHeaders(), cache: 'no-store' });
    if (response.status === 401 || response.status === 403) {
      needToken('Enter the upload token to see the gallery.');
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      setStatus(`The gallery could not be loaded: ${errorMessage(body, response.status)}`, 'error');
      return;
    }
    if (reset) {
      gallery.replaceChildren();
      state.images = [];
    }
    for (const meta of body.images) {
      gallery.append(card(meta));
      state.images.push(meta);
    }
    state.next = body.next;
    $('more').hidden = !body.next;
    $('gallery-empty').hidden = state.images.length > 0;
    fillTryImages();
  } finally {
    gallery.setAttribute('aria-busy', 'false');
  }
}

// ---------- try options ----------

function fillTryImages() {
  const select = $('try-image');
  const chosen = select.value;
  select.replaceChildren(...state.images.map((meta) => {
    const option = document.createElement('option');
    option.value = meta.id;
    option.textContent = `${meta.id.slice(0, 8)}… ${meta.format.toUpperCase()} ${meta.width} × ${meta.height}`;
    return option;
  }));
  if (chosen && state.images.some((meta) => meta.id === chosen)) select.value = chosen;
  updateTry();
}

function tryOptions() {
  const options = [];
  const auto = $('try-auto').checked;
  $('try-width').disabled = auto;
  const width = $('try-width').value.trim();
  if (auto) options.push('width=auto');
  else if (width) options.push(`width=${width}`);
  const fit = $('try-fit').value;
  if (fit !== 'scale-down') options.push(`fit=${fit}`);
  const quality = $('try-quality').value.trim();
  if (quality) options.push(`quality=${quality}`);
  options.push(`format=${$('try-format').value}`);
  return options.join(',');
}

function updateTry() {
  const id = $('try-image').value;
  const preview = $('try-preview');
  const info = $('try-info');
  if (!id) {
    $('try-url').value = '';
    preview.hidden = true;
    info.textContent = 'Upload an image to try options on it.';
    return;
  }
  const options = tryOptions();
  const path = resizePath(id, options);
  $('try-url').value = `${location.origin}${path}`;
  if (preview.getAttribute('src') === path) return;
  info.textContent = 'Loading…';
  preview.alt = `Preview of the image with ${options}`;
  preview.src = path;
}

function describePreview() {
  const preview = $('try-preview');
  const timing = timingOf(preview.currentSrc);
  const type = timing && timing.contentType ? timing.contentType : 'image';
  const bytes = timing ? formatBytes(timing.encodedBodySize) : 'cached';
  preview.hidden = false;
  $('try-info').textContent = `${type}, ${preview.naturalWidth} × ${preview.naturalHeight} pixels, ${bytes}`;
}

async function explainPreviewError() {
  const preview = $('try-preview');
  preview.hidden = true;
  const response = await fetch(preview.src).catch(() => null);
  const body = response ? await response.json().catch(() => null) : null;
  $('try-info').textContent = `No image: ${errorMessage(body, response ? response.status : 'nothing')}`;
}

function setUpTry() {
  let timer = null;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(updateTry, 300);
  };
  $('try-form').addEventListener('input', later);
  $('try-form').addEventListener('change', later);
  $('try-form').addEventListener('submit', (event) => event.preventDefault());
  $('try-preview').addEventListener('load', describePreview);
  $('try-preview').addEventListener('error', explainPreviewError);
  $('copy').addEventListener('click', async () => {
    const url = $('try-url');
    try {
      await navigator.clipboard.writeText(url.value);
      $('try-info').textContent = 'URL copied.';
    } catch (_) {
      url.select();
      $('try-info').textContent = 'Press Ctrl+C (or ⌘C) to copy the selected URL.';
    }
  });
}

// ---------- start ----------

setUpDropZone();
setUpTry();
$('more').addEventListener('click', () => loadGallery(false));
$('token').addEventListener('change', () => {
  takeToken();
  setStatus('');
  loadGallery(true);
});
if (state.token) $('token').value = state.token;
loadGallery(true).catch((error) => setStatus(`The gallery could not be loaded: ${error.message}`, 'error'));

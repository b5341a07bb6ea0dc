//! The demo page in a real browser (issue 11): Debian's headless chromium,
//! driven through chromedriver, opens `edgeimg up`'s page, uploads a corpus
//! photo through the form, waits for the gallery and checks what the browser
//! actually fetched: an AVIF or WebP variant at the width the image's
//! `srcset` and `sizes` call for on this screen, with the client hints the
//! page's `Accept-CH` asked for; then tries `width=auto` in the options form.
//! Saves a screenshot to `target/test-output/browser/gallery.png`. A second
//! test runs with an upload token: the page asks for it, takes it from the
//! keyboard, and uploads through the form and by drag and drop.
//!
//! Needs `chromium` and `chromium-driver` (scripts/install-deps installs
//! them) and the app built (`target/release/edgeimg build`).

#[path = "support/mod.rs"]
mod support;
#[path = "support/webdriver.rs"]
mod webdriver;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{app_manifest, corpus_path, repo_path, HostBuilder};
use webdriver::Browser;

/// The photo uploaded through the page.
const PHOTO: &str = "LadyBird.jpg";

/// In the page: the first gallery image's `srcset` candidates, the slot width
/// its `sizes` gives on this screen, and what it shows.
const INSPECT: &str = r#"
const img = document.querySelector('#gallery img');
let slot = null;
for (const part of img.sizes.split(',')) {
  const m = part.trim().match(/^(\(.*\))?\s*(\d+(?:\.\d+)?)(px|vw)$/);
  if (!m || (m[1] && !matchMedia(m[1]).matches)) continue;
  slot = m[3] === 'px' ? Number(m[2]) : Number(m[2]) * innerWidth / 100;
  break;
}
const card = img.closest('li');
return {
  srcset: img.srcset,
  slot,
  dpr: devicePixelRatio,
  currentSrc: img.currentSrc,
  naturalWidth: img.naturalWidth,
  drawnWidth: img.getBoundingClientRect().width,
  alt: img.alt,
  caption: card.querySelector('figcaption').innerText,
  status: document.querySelector('#status').innerText,
};
"#;

/// Controls without a label, and images without alt text.
const UNLABELLED: &str = r#"
const bad = [];
for (const el of document.querySelectorAll('input, select, button, textarea')) {
  const named = el.labels && el.labels.length > 0 || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent.trim());
  if (!named) bad.push(el.outerHTML);
}
for (const img of document.querySelectorAll('#gallery img')) {
  if (!img.alt) bad.push(img.outerHTML);
}
return bad;
"#;

/// Picks [`PHOTO`] in the file input, clicks Upload, and waits until the
/// gallery shows it.
fn upload_through_the_form(browser: &Browser) {
    let photo = corpus_path(PHOTO);
    browser.send_keys(&browser.find("#file"), photo.to_str().unwrap());
    browser.click(&browser.find("#upload-button"));
    browser.wait_for(
        "the uploaded image in the gallery, loaded",
        Duration::from_secs(120),
        "const img = document.querySelector('#gallery img'); \
         return img && img.complete && img.naturalWidth > 0 && img.closest('li').dataset.served;",
    );
}

#[test]
fn page_uploads_through_the_form_and_the_gallery_loads_a_modern_variant_at_the_srcset_width() {
    let started = Instant::now();
    let host = HostBuilder::new(app_manifest()).start();
    // 1200 CSS px wide at 2 device pixels per CSS pixel: the gallery's
    // 300px slots need 600 device pixels.
    let browser = Browser::start(1200, 1400, 2.0);
    browser.goto(&host.url("/"));
    assert_eq!(
        browser.eval("return document.title"),
        "edgeimg: upload once, resize anywhere"
    );
    let unlabelled = browser.eval(UNLABELLED);
    assert_eq!(unlabelled, Value::Array(vec![]), "controls without labels");
    browser.wait_for(
        "the empty gallery",
        Duration::from_secs(10),
        "return !document.querySelector('#gallery-empty').hidden",
    );

    upload_through_the_form(&browser);
    let seen = browser.eval(INSPECT);

    // The placeholders the page draws while an image loads (issue 26): the
    // metadata's ThumbHash decoded by the page itself into a sketch, and
    // both cleared once the image is in.
    let placeholder = browser.eval(
        "const card = document.querySelector('.card');
         const x = new XMLHttpRequest();
         x.open('GET', `/images/${card.dataset.id}/meta`, false);
         x.send();
         const meta = JSON.parse(x.responseText);
         const sketch = thumbHashDataURL(meta.thumbhash);
         const img = card.querySelector('img');
         return { dominant: meta.dominant_color, sketch: sketch && sketch.slice(0, 22),
                  sketchBytes: sketch ? sketch.length : 0,
                  loadedBackground: img.style.backgroundImage + img.style.backgroundColor };",
    );
    assert_eq!(
        placeholder["sketch"], "data:image/png;base64,",
        "{placeholder}"
    );
    assert!(
        placeholder["sketchBytes"].as_u64() > Some(100),
        "{placeholder}"
    );
    assert!(
        placeholder["dominant"]
            .as_str()
            .is_some_and(|c| c.len() == 7 && c.starts_with('#')),
        "{placeholder}"
    );
    assert_eq!(placeholder["loadedBackground"], "", "{placeholder}");

    // The variant srcset calls for on this screen.
    let candidates: Vec<(String, f64)> = seen["srcset"]
        .as_str()
        .unwrap()
        .split(", ")
        .map(|c| {
            let (url, w) = c.rsplit_once(' ').unwrap();
            (url.to_string(), w.trim_end_matches('w').parse().unwrap())
        })
        .collect();
    let need = seen["slot"].as_f64().unwrap() * seen["dpr"].as_f64().unwrap();
    assert_eq!(
        (seen["slot"].as_f64(), seen["dpr"].as_f64()),
        (Some(300.0), Some(2.0)),
        "{seen}"
    );
    let (expected, width) = candidates
        .iter()
        .find(|(_, w)| *w >= need)
        .or(candidates.last())
        .unwrap()
        .clone();
    assert_eq!(width, 640.0, "{candidates:?}");
    assert!(
        expected.starts_with("/resize/width=640,format=auto/"),
        "{expected}"
    );
    assert!(
        seen["currentSrc"].as_str().unwrap().ends_with(&expected),
        "{seen}"
    );
    // naturalWidth is in CSS pixels for a srcset choice: 640 / (640/300 per px).
    let natural = seen["naturalWidth"].as_f64().unwrap();
    assert!((natural - 300.0).abs() <= 1.0, "{seen}");
    assert_eq!(
        seen["drawnWidth"], 300,
        "the slot is what sizes says: {seen}"
    );

    // What the browser fetched, from its own network log.
    let log = browser.network_log();
    let response = log
        .iter()
        .filter(|e| e["method"] == "Network.responseReceived")
        .map(|e| &e["params"]["response"])
        .find(|r| r["url"].as_str().is_some_and(|u| u.ends_with(&expected)))
        .unwrap_or_else(|| panic!("the browser never fetched {expected}"));
    assert_eq!(response["status"], 200, "{response}");
    let mime = response["mimeType"].as_str().unwrap();
    assert!(
        mime == "image/avif" || mime == "image/webp",
        "fetched {mime}"
    );
    let header = |name: &str| {
        response["headers"]
            .as_object()
            .and_then(|h| h.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"));
    assert!(
        header("vary").is_some_and(|v| v.contains("Accept")),
        "{response}"
    );
    let srcset_widths: Vec<f64> = candidates.iter().map(|(_, w)| *w).collect();
    let other_widths: Vec<&str> = log
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .filter_map(|e| e["params"]["request"]["url"].as_str())
        .filter(|u| u.contains("/resize/") && !u.ends_with(&expected))
        .collect();
    assert!(
        other_widths.is_empty(),
        "only the one variant is fetched, not {other_widths:?} (srcset {srcset_widths:?})"
    );
    // Nothing asks for a token this server does not have.
    assert_eq!(
        browser.eval("return getComputedStyle(document.querySelector('#token-row')).display"),
        "none"
    );
    // Accept-CH on the page: the image request carried the hints it asked for.
    let request = log
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| &e["params"]["request"])
        .find(|r| r["url"].as_str().is_some_and(|u| u.ends_with(&expected)))
        .expect("the image request");
    assert_eq!(request["headers"]["sec-ch-dpr"], "2", "{request}");
    assert_eq!(
        request["headers"]["sec-ch-viewport-width"], "1200",
        "{request}"
    );

    // What the visitor reads under the image.
    let caption = seen["caption"].as_str().unwrap();
    assert!(
        caption.contains("AVIF") || caption.contains("WEBP"),
        "caption names the served format: {caption}"
    );
    assert!(
        caption.contains("fewer bytes than the original"),
        "{caption}"
    );
    assert!(
        seen["alt"].as_str().unwrap().contains("JPEG image"),
        "{seen}"
    );
    assert!(seen["status"].as_str().unwrap().contains(PHOTO), "{seen}");

    // The options form with width=auto: the browser's hints pick the width
    // (1200 CSS px × 2 = 2400, rounded up to 2560: the original's width).
    browser.click(&browser.find("#try-auto"));
    browser.click(&browser.find("#try-format option[value=webp]"));
    let url = browser.wait_for(
        "the width=auto preview",
        Duration::from_secs(60),
        "const p = document.querySelector('#try-preview'); \
         return !p.hidden && p.complete && p.currentSrc.includes('width=auto') \
           && document.querySelector('#try-info').textContent.includes('image/webp') && p.currentSrc;",
    );
    let url = url.as_str().unwrap().to_string();
    assert!(url.contains("/resize/width=auto,format=webp/"), "{url}");
    assert_eq!(
        browser.eval("return document.querySelector('#try-preview').naturalWidth"),
        2560
    );
    assert!(browser
        .eval("return document.querySelector('#try-url').value")
        .as_str()
        .is_some_and(|v| v == url));
    let log = browser.network_log();
    let preview = log
        .iter()
        .filter(|e| e["method"] == "Network.responseReceived")
        .map(|e| &e["params"]["response"])
        .find(|r| r["url"] == url.as_str())
        .expect("the preview response");
    assert_eq!(
        preview["headers"]["vary"],
        "Sec-CH-Width, Width, Sec-CH-Viewport-Width, Sec-CH-DPR, Save-Data",
        "no Sec-CH-Width without sizes: the viewport and DPR hints decided"
    );

    browser.eval("document.querySelector('#upload-title').scrollIntoView(); return true");
    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
    let out = repo_path("target/test-output/browser");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("gallery.png"), &png).unwrap();
    eprintln!(
        "browser test: {:?}, screenshot target/test-output/browser/gallery.png",
        started.elapsed()
    );
}

#[test]
fn with_an_upload_token_the_page_asks_for_it_and_uploads_by_keyboard_and_by_drop() {
    let host = HostBuilder::new(app_manifest())
        .env("SPIN_VARIABLE_UPLOAD_TOKEN", "s3cret")
        .start();
    let browser = Browser::start(1000, 900, 1.0);
    browser.goto(&host.url("/"));
    // The listing answered 401: the page shows the token field and puts the
    // keyboard focus in it.
    browser.wait_for(
        "the token field, focused",
        Duration::from_secs(10),
        "return getComputedStyle(document.querySelector('#token-row')).display !== 'none' \
           && document.activeElement.id === 'token' \
           && document.querySelector('#status').textContent.includes('token')",
    );
    // Typing the token and leaving the field with Tab loads the (empty) gallery.
    const TAB: &str = "\u{E004}";
    browser.send_keys(&browser.find("#token"), &format!("s3cret{TAB}"));
    browser.wait_for(
        "the empty gallery",
        Duration::from_secs(10),
        "return !document.querySelector('#gallery-empty').hidden \
           && document.querySelector('#status').textContent === ''",
    );
    upload_through_the_form(&browser);
    let listed = host.request("GET", "/images", &[("authorization", "Bearer s3cret")], b"");
    assert_eq!(listed.json()["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        browser.eval("return document.querySelectorAll('#gallery li').length"),
        1
    );

    // Drag and drop: a PNG drawn in the page, dropped on the drop zone.
    browser.eval(DROP_A_DRAWN_PNG);
    browser.wait_for(
        "the dropped image in the gallery",
        Duration::from_secs(60),
        "const items = document.querySelectorAll('#gallery li'); \
         return items.length === 2 && items[0].dataset.served;",
    );
    let newest = browser.eval("return document.querySelector('#gallery img').alt");
    assert!(
        newest.as_str().unwrap().contains("PNG image, 64 × 48"),
        "{newest}"
    );
}

/// Draws a 64×48 PNG on a canvas and drops it on the drop zone as a file.
const DROP_A_DRAWN_PNG: &str = r#"
const canvas = document.createElement('canvas');
canvas.width = 64;
canvas.height = 48;
const g = canvas.getContext('2d');
g.fillStyle = '#0b5fff';
g.fillRect(0, 0, 64, 48);
g.fillStyle = '#ffcc00';
g.fillRect(16, 12, 32, 24);
canvas.toBlob((blob) => {
  const files = new DataTransfer();
  files.items.add(new File([blob], 'drawn.png', { type: 'image/png' }));
  document.querySelector('#drop-zone').dispatchEvent(
    new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
}, 'image/png');
return true;
"#;

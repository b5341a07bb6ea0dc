//! Memory bounds, measured with a counting global allocator (its own test
//! binary, one test function so nothing else allocates concurrently).

use imaging::{transform, Format, Limits, Options};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), SeqCst) + layout.size();
        PEAK.fetch_max(now, SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now =
                CURRENT.fetch_add(new_size - layout.size(), SeqCst) + new_size - layout.size();
            PEAK.fetch_max(now, SeqCst);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `f`, above what was live before it.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(SeqCst);
    PEAK.store(base, SeqCst);
    let out = f();
    (out, PEAK.load(SeqCst) - base)
}

fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

fn jpeg(width: u16, height: u16) -> Vec<u8> {
    encode_jpeg(width, height, false)
}

fn encode_jpeg(width: u16, height: u16, progressive: bool) -> Vec<u8> {
    let rgb: Vec<u8> = (0..u32::from(width) * u32::from(height))
        .flat_map(|i| [(i % 251) as u8, (i / 7 % 253) as u8, (i % 13 * 19) as u8])
        .collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    encoder
        .encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

#[test]
fn memory_bounds() {
    let limits = Limits::default();
    let thumb: Options = "w=128".parse().unwrap();

    // Decompression bombs: a few bytes claiming gigapixels are refused from the
    // header, allocating nothing like a pixel buffer (4 × 10^10 bytes here).
    let mut gif = b"GIF89a\xff\xff\xff\xff\x00\x00\x00".to_vec();
    gif.extend_from_slice(b"\x2c\0\0\0\0\xff\xff\xff\xff\0\x02\x02\x44\x01\0;");
    let mut jpeg_bomb = jpeg(8, 8);
    let sof = jpeg_bomb
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .unwrap();
    jpeg_bomb[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xF0, 0xFF, 0xF0]);
    for (name, bomb) in [
        ("png", png_header(100_000, 100_000)),
        ("gif", gif),
        ("jpeg", jpeg_bomb),
    ] {
        let (result, peak) = peak_during(|| transform(&bomb, &thumb, Format::Jpeg, &limits));
        let err = result.expect_err(name);
        assert_eq!((err.status(), err.code()), (422, "pixel_limit"), "{name}");
        assert!(
            peak < 4096,
            "{name}: {peak} bytes allocated before rejecting"
        );
    }

    // A thumbnail of a 2048×1536 JPEG decodes at 1/8 scale, so its peak
    // (decode, resize, encode) stays below the 9.4 MB of the full-size RGB
    // image. A progressive file keeps only DC terms, a small fraction of it (a
    // general decoder would hold every coefficient: 2 bytes per sample). The
    // baseline bound is looser: natively, jpeg-decoder's worker threads may
    // queue rows of coefficients in flight.
    let full_rgb = 2048 * 1536 * 3;
    for (progressive, bound) in [(true, full_rgb / 8), (false, full_rgb)] {
        let photo = encode_jpeg(2048, 1536, progressive);
        let (out, peak) = peak_during(|| transform(&photo, &thumb, Format::Jpeg, &limits).unwrap());
        assert_eq!((out.width, out.height), (128, 96));
        assert!(
            peak < bound,
            "progressive {progressive}: peak {peak} bytes, bound {bound}"
        );
    }
}

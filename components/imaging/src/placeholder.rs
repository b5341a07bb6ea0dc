//! Placeholders a page shows while an image loads: a ThumbHash (a ~25-byte
//! blurred sketch with its aspect ratio and alpha, evanw/thumbhash) and a
//! dominant colour, both from one decode to at most 100 × 100 px, which for
//! JPEG and WebP is a reduced-scale decode (upload makes this decode anyway,
//! to refuse files that do not decode).

use crate::pipeline::{pixels, Image};
use crate::{Error, Format, Limits, Options};

/// Largest side thumbhash encodes (it asserts ≤ 100).
const SIDE: u32 = 100;

/// An image's placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// The ThumbHash bytes.
    pub thumbhash: Vec<u8>,
    /// The most common colour, 4 bits a channel bucketed, as that bucket's
    /// mean sRGB (alpha-weighted; transparent pixels do not count).
    pub dominant_color: [u8; 3],
}

impl Placeholder {
    /// The ThumbHash as standard base64 with padding, as its reference
    /// decoders take it.
    pub fn thumbhash_base64(&self) -> String {
        base64(&self.thumbhash)
    }

    /// `#rrggbb`.
    pub fn dominant_hex(&self) -> String {
        let [r, g, b] = self.dominant_color;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// Decodes `bytes` to at most 100 px a side and computes its placeholders;
/// the same limits and errors as [`crate::transform`].
pub fn placeholder(bytes: &[u8], limits: &Limits) -> Result<Placeholder, Error> {
    let options = Options {
        width: Some(SIDE),
        height: Some(SIDE),
        ..Options::default()
    };
    let image = pixels(bytes, &options, Format::Png, limits)?;
    let rgba = rgba(image);
    let (w, h) = (rgba.width as usize, rgba.height as usize);
    Ok(Placeholder {
        thumbhash: thumbhash::rgba_to_thumb_hash(w, h, &rgba.data),
        dominant_color: dominant(&rgba.data),
    })
}

fn rgba(image: Image) -> Image {
    if image.alpha {
        return image;
    }
    let data = image
        .data
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    Image {
        alpha: true,
        data,
        ..image
    }
}

/// The mean colour of the most populated 16-level-per-channel bucket,
/// each pixel weighted by its alpha; white for a wholly transparent image.
fn dominant(rgba: &[u8]) -> [u8; 3] {
    let mut weight = vec![0u64; 4096];
    let mut sums = vec![[0u64; 3]; 4096];
    for p in rgba.chunks_exact(4) {
        let a = u64::from(p[3]);
        let bucket =
            usize::from(p[0] >> 4) << 8 | usize::from(p[1] >> 4) << 4 | usize::from(p[2] >> 4);
        weight[bucket] += a;
        for c in 0..3 {
            sums[bucket][c] += a * u64::from(p[c]);
        }
    }
    let (best, &w) = weight
        .iter()
        .enumerate()
        .max_by_key(|&(i, w)| (*w, std::cmp::Reverse(i)))
        .unwrap_or((0, &0));
    if w == 0 {
        return [255, 255, 255];
    }
    sums[best].map(|s| ((s + w / 2) / w) as u8)
}

/// Standard base64 (RFC 4648) with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testimg;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input}");
        }
    }

    #[test]
    fn the_dominant_colour_is_the_largest_area_not_the_mean() {
        // Three quarters orange, one quarter blue: the mean would be a brown.
        let px = testimg::pixels(40, 40, |x, y| {
            if x < 20 && y < 20 {
                [20, 40, 200, 255]
            } else {
                [240, 130, 20, 255]
            }
        });
        let p = placeholder(&testimg::png(40, 40, &px), &Limits::default()).unwrap();
        assert_eq!(p.dominant_hex(), "#f08214");
        // The hash decodes to the same picture, blurred: orange where
        // orange was, blue-ish in the top-left.
        let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&p.thumbhash).unwrap();
        let at = |x: usize, y: usize| &rgba[(y * w + x) * 4..][..3];
        let bottom_right = at(w - 2, h - 2);
        assert!(
            bottom_right[0] > 180 && bottom_right[2] < 90,
            "{bottom_right:?}"
        );
        let top_left = at(1, 1);
        assert!(top_left[2] > top_left[0], "{top_left:?}");
    }

    #[test]
    fn transparent_pixels_do_not_count() {
        let px = testimg::pixels(30, 30, |x, _| {
            if x < 25 {
                [0, 0, 0, 0]
            } else {
                [0, 200, 0, 255]
            }
        });
        let p = placeholder(&testimg::png(30, 30, &px), &Limits::default()).unwrap();
        assert_eq!(p.dominant_hex(), "#00c800");
        let (_, _, _, alpha) = thumbhash::thumb_hash_to_average_rgba(&p.thumbhash).unwrap();
        assert!(alpha < 0.5, "mostly transparent: {alpha}");
    }

    #[test]
    fn every_format_gets_a_placeholder_of_its_colours() {
        for format in testimg::ALL {
            if format == Format::Avif {
                continue; // testimg's AVIF is ravif's, covered by the AVIF tests
            }
            let bytes = testimg::encode(format, 240, 160);
            let p =
                placeholder(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{format}: {e}"));
            let (r, g, b, a) = thumbhash::thumb_hash_to_average_rgba(&p.thumbhash).unwrap();
            // Quadrants of red, green, blue and white average to ~(0.5, 0.5, 0.5).
            for (c, v) in [("r", r), ("g", g), ("b", b)] {
                assert!((v - 0.5).abs() < 0.12, "{format}: {c} {v}");
            }
            assert!(a > 0.99, "{format}: alpha {a}");
        }
    }
}

//! AVIF via `ravif` (rav1e, pure Rust, no asm, single thread), 8-bit.
//!
//! Effort follows the output size: at equal SSIM, rav1e's speed 9 made files
//! 1.05–1.45× libaom's (sharp's default effort), speed 7 1.04–1.11×, speed 6
//! 1.02–1.06× (320 px photos and a mostly transparent image), at about 1×,
//! 2× and 2.4× the time. Thumbnails get the small files; large outputs keep
//! the fast preset so they finish within the execution deadline.

use crate::pipeline::Image;
use crate::{Error, Format};
use ravif::{BitDepth, Encoder, Img, RGB8, RGBA8};

/// rav1e speed preset (1 slowest … 10 fastest) for an output of `pixels`.
pub fn speed(pixels: u64) -> u8 {
    match pixels {
        0..=250_000 => 6,
        250_001..=1_000_000 => 7,
        _ => 9,
    }
}

pub(super) fn encode(image: &Image, quality: u8) -> Result<Vec<u8>, Error> {
    let encoder = Encoder::new()
        .with_quality(f32::from(quality))
        .with_alpha_quality(f32::from(quality))
        .with_speed(speed(u64::from(image.width) * u64::from(image.height)))
        .with_bit_depth(BitDepth::Eight)
        .with_num_threads(Some(1));
    let (w, h) = (image.width as usize, image.height as usize);
    let encoded = if image.alpha {
        let px: Vec<RGBA8> = image
            .data
            .chunks_exact(4)
            .map(|p| RGBA8::new(p[0], p[1], p[2], p[3]))
            .collect();
        encoder.encode_rgba(Img::new(&px[..], w, h))
    } else {
        let px: Vec<RGB8> = image
            .data
            .chunks_exact(3)
            .map(|p| RGB8::new(p[0], p[1], p[2]))
            .collect();
        encoder.encode_rgb(Img::new(&px[..], w, h))
    };
    encoded
        .map(|e| e.avif_file)
        .map_err(|e| Error::encode(Format::Avif, e))
}

//! AVIF via `ravif` (rav1e, pure Rust, no asm, single thread). Speed is
//! capped high and depth kept at 8 bits so a 1280 px image encodes in seconds
//! even inside Wasmtime.

use crate::pipeline::Image;
use crate::{Error, Format};
use ravif::{BitDepth, Encoder, Img, RGB8, RGBA8};

/// rav1e speed preset (1 slowest … 10 fastest).
pub const SPEED: u8 = 9;

pub(super) fn encode(image: &Image, quality: u8) -> Result<Vec<u8>, Error> {
    let encoder = Encoder::new()
        .with_quality(f32::from(quality))
        .with_alpha_quality(f32::from(quality))
        .with_speed(SPEED)
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

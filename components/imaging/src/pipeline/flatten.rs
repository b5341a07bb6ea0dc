//! Step: drop the alpha channel when the output cannot carry it (JPEG, blended
//! onto `background`, white by default) or when every pixel is opaque.

use super::{pad, Image, Job};
use crate::{Error, Format};

pub(crate) fn apply(job: &Job<'_>, image: Image) -> Result<Image, Error> {
    if !image.alpha {
        return Ok(image);
    }
    let opaque = image.data.chunks_exact(4).all(|p| p[3] == 255);
    if job.output != Format::Jpeg && !opaque {
        return Ok(image);
    }
    let mut data = vec![0u8; image.data.len() / 4 * 3];
    let pixels = data.chunks_exact_mut(3).zip(image.data.chunks_exact(4));
    if opaque {
        pixels.for_each(|(out, p)| out.copy_from_slice(&p[..3]));
    } else {
        let bg = pad::background(job);
        let bg = [bg.r, bg.g, bg.b].map(u32::from);
        // One plain loop: as an iterator of arrays it did not inline in
        // wasm and took 12 ns a pixel.
        for (out, p) in pixels {
            let a = u32::from(p[3]);
            let blend = |i: usize| ((u32::from(p[i]) * a + bg[i] * (255 - a) + 127) / 255) as u8;
            out[0] = blend(0);
            out[1] = blend(1);
            out[2] = blend(2);
        }
    }
    Ok(Image {
        data,
        alpha: false,
        ..image
    })
}

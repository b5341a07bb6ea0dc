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
    let bg = pad::background(job);
    let bg = [bg.r, bg.g, bg.b].map(u32::from);
    let data = image
        .data
        .chunks_exact(4)
        .flat_map(|p| {
            let a = u32::from(p[3]);
            [0, 1, 2].map(|i| ((u32::from(p[i]) * a + bg[i] * (255 - a) + 127) / 255) as u8)
        })
        .collect();
    Ok(Image {
        data,
        alpha: false,
        ..image
    })
}

//! Step: for `fit=pad`, place the resized image on a canvas of the requested
//! size filled with `background` (transparent by default where the output
//! format has alpha, white for JPEG).

use super::{Image, Job};
use crate::{Color, Error, Format};

pub(crate) fn apply(job: &Job<'_>, image: Image) -> Result<Image, Error> {
    let (cw, ch) = job.plan.canvas;
    if (cw, ch) == image.size() {
        return Ok(image);
    }
    let bg = background(job);
    let alpha = image.alpha || bg.a < 255;
    let c = if alpha { 4 } else { 3 };
    let fill = [bg.r, bg.g, bg.b, bg.a];
    let mut data: Vec<u8> = fill[..c]
        .iter()
        .copied()
        .cycle()
        .take(cw as usize * ch as usize * c)
        .collect();
    let (ox, oy) = (job.plan.offset.0 as usize, job.plan.offset.1 as usize);
    let ic = image.channels();
    for (y, row) in image
        .data
        .chunks_exact(image.width as usize * ic)
        .enumerate()
    {
        for (x, px) in row.chunks_exact(ic).enumerate() {
            let at = ((oy + y) * cw as usize + ox + x) * c;
            data[at..at + 3].copy_from_slice(&px[..3]);
            if alpha {
                data[at + 3] = if ic == 4 { px[3] } else { 255 };
            }
        }
    }
    Ok(Image {
        width: cw,
        height: ch,
        alpha,
        data,
    })
}

/// The requested background, or the default for the output format.
pub(crate) fn background(job: &Job<'_>) -> Color {
    job.options
        .background
        .unwrap_or(if job.output == Format::Jpeg {
            Color::WHITE
        } else {
            Color::TRANSPARENT
        })
}

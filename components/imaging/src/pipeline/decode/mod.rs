//! Step: decode to 8-bit RGB(A), in stored orientation. JPEG decodes at the
//! smallest DCT scale (1/8, 1/4, 1/2) that still covers the planned output,
//! and WebP scales to the same size while decoding, so a thumbnail never
//! holds the full-size photo.

mod gif;
mod jpeg;
mod jpeg_dc;
mod jpeg_planes;
mod jpeg_scaled;
mod jpeg_skip;
mod jpeg_syntax;
mod png;
mod webp;

use super::{Image, Job};
use crate::{Error, Format};

pub(crate) fn decode(bytes: &[u8], job: &Job<'_>) -> Result<Image, Error> {
    let header = &job.header;
    let image = match header.format {
        Format::Jpeg => jpeg::decode(bytes, job, shrink(job)),
        Format::Png => png::decode(bytes, box_factor(job)),
        Format::Gif => gif::decode(bytes),
        Format::Webp => webp::decode(bytes, header, shrink(job)),
        Format::Avif => Err(Error::Unsupported {
            reason: "AVIF input is not decoded (no pure-Rust AV1 decoder)".into(),
        }),
    }?;
    let scaled = matches!(header.format, Format::Jpeg | Format::Webp | Format::Png);
    if (image.width, image.height) != (header.width, header.height) && !scaled {
        return Err(Error::decode(
            header.format,
            "frame size differs from header",
        ));
    }
    Ok(image)
}

/// The largest power-of-two shrink (≤ 8) after which the planned source region
/// still has at least as many pixels as the resized output in each direction.
fn shrink(job: &Job<'_>) -> u32 {
    let region = job.plan.region;
    let (rw, rh) = job.plan.resized;
    [8, 4, 2]
        .into_iter()
        .find(|&d| {
            region.width / f64::from(d) >= f64::from(rw)
                && region.height / f64::from(d) >= f64::from(rh)
        })
        .unwrap_or(1)
}

/// The box factor that leaves at least twice the planned output in each
/// direction (as libvips' shrink-then-reduce), for decoders that average
/// blocks while decoding. Capped so a block's sums stay small.
fn box_factor(job: &Job<'_>) -> u32 {
    let region = job.plan.region;
    let (rw, rh) = job.plan.resized;
    let ratio = (region.width / f64::from(rw)).min(region.height / f64::from(rh));
    (ratio / 2.0).floor().clamp(1.0, 64.0) as u32
}

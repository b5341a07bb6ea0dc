//! Step: decode to 8-bit RGB(A), in stored orientation. JPEG decodes at the
//! smallest DCT scale (1/8, 1/4, 1/2) that still leaves the Lanczos step a
//! 1.2× reduction, and WebP scales to the planned output's size while decoding, so a thumbnail never
//! holds the full-size photo. A PNG, or a GIF's first frame, is box-averaged
//! while decoding, into 16-bit linear light that goes straight to the
//! Lanczos step. AVIF decodes whole (AV1 has no reduced-scale decoding) and
//! is box-averaged as its rows are converted, like PNG. An SVG is drawn at
//! the planned size; TIFF, BMP, ICO and QOI decode whole (`crate::raster`).

mod avif;
pub(super) mod frames;
mod gif;
mod jpeg;
mod jpeg_huffman;
mod jpeg_idct;
mod jpeg_idct8;
mod jpeg_planes;
mod jpeg_progressive;
mod jpeg_scaled;
mod jpeg_skip;
mod jpeg_syntax;
#[cfg(test)]
mod jpeg_test_support;
mod png;
mod svg;
mod webp;
mod yuv;

use super::box_average;
use super::decoded::Decoded;
use super::Job;
use crate::{Error, Format};

pub(crate) fn decode(bytes: &[u8], job: &Job<'_>) -> Result<Decoded, Error> {
    let header = &job.header;
    let stored = (header.width, header.height);
    match header.format {
        Format::Jpeg => {
            let d = shrink(job, JPEG_MARGIN);
            jpeg::decode(bytes, job, d).map(|image| Decoded::from(image).in_blocks_of(d, stored))
        }
        Format::Png => {
            let d = box_factor(job);
            png::decode(bytes, d).map(|decoded| decoded.in_blocks_of(d, stored))
        }
        Format::Gif => {
            let d = box_factor(job);
            gif::decode(bytes, d).map(|decoded| decoded.in_blocks_of(d, stored))
        }
        // libwebp rescales the whole source onto exactly the size it is asked for.
        Format::Webp => webp::decode(bytes, header, shrink(job, 1.0)).map(Decoded::from),
        Format::Avif => {
            let d = box_factor(job);
            avif::decode(bytes, header, job.limits, d)
                .map(|decoded| decoded.in_blocks_of(d, stored))
        }
        // Drawn at the size the plan needs: nothing left to reduce.
        Format::Svg => svg::decode(bytes, job).map(Decoded::from),
        // Decoded whole; the resize step box-averages a large one first.
        Format::Tiff | Format::Bmp | Format::Ico | Format::Qoi => {
            crate::raster::decode(bytes, header.format, job.limits).map(Decoded::from)
        }
    }
}

/// How many times the output a JPEG's DCT-scaled decode must still be. A
/// reduced-size inverse DCT aliases and softens, and a Lanczos reduction
/// after it hides that only if it has room: 5120 → 1280 px straight from a
/// 1/4-scale decode scored SSIM 0.896 against libvips' 0.928, and 5640 →
/// 1280 px from 1/4 (1.1× left) 0.912 against 0.926, where 1920 → 800 px
/// from 1/2 (1.2× left) matched libvips (`bench/imaging.sh`). libvips
/// leaves 2×, which costs a 1920 → 800 px variant a full-size decode.
const JPEG_MARGIN: f64 = 1.2;

/// The largest power-of-two shrink (≤ 8) after which the planned source region
/// still has at least `margin` times the resized output's pixels in each
/// direction.
fn shrink(job: &Job<'_>, margin: f64) -> u32 {
    let region = job.plan.region;
    let (rw, rh) = job.plan.resized;
    [8, 4, 2]
        .into_iter()
        .find(|&d| {
            region.width / f64::from(d) >= margin * f64::from(rw)
                && region.height / f64::from(d) >= margin * f64::from(rh)
        })
        .unwrap_or(1)
}

/// The box factor for the planned region and output ([`box_average::factor`]),
/// for decoders that average blocks while decoding.
fn box_factor(job: &Job<'_>) -> u32 {
    let region = job.plan.region;
    let (rw, rh) = job.plan.resized;
    box_average::factor((region.width / f64::from(rw)).min(region.height / f64::from(rh)))
}

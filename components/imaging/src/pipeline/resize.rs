//! Step: crop and resize in one Lanczos3 pass, in linear light so fine
//! detail does not darken, with alpha premultiplied during resampling
//! (16-bit: [`lanczos`](super::lanczos); 8-bit sRGB: `fast_image_resize`).
//!
//! A source decoded at full size (an interlaced GIF, an animated WebP's
//! first frame) that is more than four times the output is first
//! box-averaged in linear light by the integer factor that leaves at least
//! twice the output (as libvips' shrink-then-reduce does), straight from its
//! 8-bit pixels: Lanczos then runs on the small image. A PNG or GIF arrives
//! already averaged, in linear light.
//! Sources that stay above [`LINEAR_MAX_PIXELS`] (a large output) are
//! resampled in sRGB to keep memory bounded, and so are opaque images the
//! decoder already reduced (JPEG's DCT scaling and WebP's scaled decoding
//! average in gamma space): what is left is a step under 2×, where linear
//! light changes little and 8-bit resampling costs half as much.

use super::box_average::{self, BoxAverage};
use super::decoded::{Decoded, Extent, Pixels};
use super::lanczos::{self, Crop, Source};
use super::linear::Linear;
use super::{Image, Job};
use crate::Error;
use fast_image_resize::{self as fr, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Largest source (after decode) resampled in 16-bit linear light.
pub const LINEAR_MAX_PIXELS: u64 = 4_000_000;

/// The planned crop in the decoded image's pixels: (left, top, width,
/// height). The decoded image may be smaller than the source the plan
/// refers to, and show it in only its `extent`.
fn region(job: &Job<'_>, extent: Extent, (w, h): (u32, u32)) -> Crop {
    let plan = &job.plan;
    let kx = extent.width / f64::from(job.source.0);
    let ky = extent.height / f64::from(job.source.1);
    let (left, top) = (
        extent.left + plan.region.x * kx,
        extent.top + plan.region.y * ky,
    );
    // Scaling can overshoot the decoded size by a rounding error (113 * 15/113
    // = 15.000000000000002), which fast_image_resize rejects: clamp.
    let width = (plan.region.width * kx).min(f64::from(w) - left);
    let height = (plan.region.height * ky).min(f64::from(h) - top);
    (left, top, width, height)
}

/// `fast_image_resize`'s Lanczos3 over `crop`, for the 8-bit sRGB path.
fn srgb_options((left, top, width, height): Crop) -> ResizeOptions {
    ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(left, top, width, height)
}

pub(crate) fn apply(job: &Job<'_>, decoded: Decoded) -> Result<Image, Error> {
    let crop = region(job, decoded.extent, decoded.size());
    let image = match decoded.pixels {
        Pixels::Linear(linear) => return resample_linear(job, &linear, crop),
        Pixels::Srgb(image) => image,
    };
    let (left, top, width, height) = crop;
    let whole = left == 0.0
        && top == 0.0
        && width == f64::from(image.width)
        && height == f64::from(image.height);
    if whole && job.plan.resized == image.size() {
        return Ok(image);
    }
    let (dw, dh) = job.plan.resized;
    let err = |e: &dyn std::fmt::Display| Error::decode(job.header.format, format!("resize: {e}"));
    let factor = box_average::factor((width / f64::from(dw)).min(height / f64::from(dh)));
    let boxed = |v: u32| u64::from(v.div_ceil(factor));
    if factor >= 2 && boxed(image.width) * boxed(image.height) <= LINEAR_MAX_PIXELS {
        let mut average = BoxAverage::new(image.width, image.height, image.channels(), factor);
        for row in image
            .data
            .chunks_exact(image.width as usize * image.channels())
        {
            average.add_row(row);
        }
        drop(image);
        let src = average
            .finish()
            .ok_or_else(|| err(&"box average: missing rows"))?;
        let f = f64::from(factor);
        let (l, t) = (left / f, top / f);
        let w = (width / f).min(f64::from(src.width) - l);
        let h = (height / f).min(f64::from(src.height) - t);
        return resample_linear(job, &src, (l, t, w, h));
    }
    let options = srgb_options((left, top, width, height));
    // Alpha stays in 16-bit premultiplied light even then: 8-bit
    // premultiplication leaves noisy colour in faint edge pixels.
    let reduced = (image.width, image.height) != job.source && !image.alpha;
    let linear = !reduced && u64::from(image.width) * u64::from(image.height) <= LINEAR_MAX_PIXELS;
    if linear {
        // Converted (and premultiplied) row by row as the resampler reads it.
        let crop = (left, top, width, height);
        return Ok(lanczos::resample(&Source::Srgb(&image), crop, job.plan.resized).to_srgb());
    }
    let pixel_type = if image.alpha {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let (w, h) = image.size();
    let src = fr::images::Image::from_vec_u8(w, h, image.data, pixel_type).map_err(|e| err(&e))?;
    let mut dst = fr::images::Image::new(dw, dh, pixel_type);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| err(&e))?;
    Ok(Image {
        width: dw,
        height: dh,
        alpha: image.alpha,
        data: dst.into_vec(),
    })
}

/// Lanczos3 over the `crop` of a linear image to the planned size, back to
/// 8-bit sRGB (straight copy when nothing is to be done).
fn resample_linear(job: &Job<'_>, src: &Linear, crop: Crop) -> Result<Image, Error> {
    let (dw, dh) = job.plan.resized;
    let whole = crop == (0.0, 0.0, f64::from(src.width), f64::from(src.height));
    if whole && (dw, dh) == (src.width, src.height) {
        return Ok(src.to_srgb());
    }
    Ok(lanczos::resample(&Source::Linear(src), crop, (dw, dh)).to_srgb())
}

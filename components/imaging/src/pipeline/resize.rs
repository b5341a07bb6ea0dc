//! Step: crop and resize in one `fast_image_resize` pass (Lanczos3, SIMD incl.
//! wasm simd128), in linear light so fine detail does not darken, with alpha
//! premultiplied during resampling.
//!
//! A source decoded at full size (PNG, GIF) that is more than four times the
//! output is first box-averaged in linear light by the integer factor that
//! leaves at least twice the output (as libvips' shrink-then-reduce does),
//! straight from its 8-bit pixels: Lanczos then runs on the small image.
//! Sources that stay above [`LINEAR_MAX_PIXELS`] (a large output) are
//! resampled in sRGB to keep memory bounded, and so are opaque images the
//! decoder already reduced (JPEG's DCT scaling and WebP's scaled decoding
//! average in gamma space): what is left is a step under 2×, where linear
//! light changes little and 8-bit resampling costs half as much.

use super::{Image, Job};
use crate::Error;
use fast_image_resize::{self as fr, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use linear::{box_shrink, to_linear, to_srgb, MAX_BOX};

mod linear;

/// Largest source (after decode) resampled in 16-bit linear light.
pub const LINEAR_MAX_PIXELS: u64 = 4_000_000;

pub(crate) fn apply(job: &Job<'_>, image: Image) -> Result<Image, Error> {
    let plan = &job.plan;
    // The decoded image may be smaller than the source the plan refers to.
    let kx = f64::from(image.width) / f64::from(job.source.0);
    let ky = f64::from(image.height) / f64::from(job.source.1);
    let (left, top) = (plan.region.x * kx, plan.region.y * ky);
    // Scaling can overshoot the decoded size by a rounding error (113 * 15/113
    // = 15.000000000000002), which fast_image_resize rejects: clamp.
    let width = (plan.region.width * kx).min(f64::from(image.width) - left);
    let height = (plan.region.height * ky).min(f64::from(image.height) - top);
    let whole = left == 0.0
        && top == 0.0
        && width == f64::from(image.width)
        && height == f64::from(image.height);
    if whole && plan.resized == image.size() {
        return Ok(image);
    }
    let (dw, dh) = plan.resized;
    let err = |e: &dyn std::fmt::Display| Error::decode(job.header.format, format!("resize: {e}"));
    let lanczos = |left: f64, top: f64, width: f64, height: f64| {
        ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .crop(left, top, width, height)
    };
    let factor = ((width / f64::from(dw)).min(height / f64::from(dh)) / 2.0)
        .floor()
        .clamp(1.0, f64::from(MAX_BOX)) as u32;
    let boxed = |v: u32| u64::from(v.div_ceil(factor));
    if factor >= 2 && boxed(image.width) * boxed(image.height) <= LINEAR_MAX_PIXELS {
        let src = box_shrink(&image.data, image.width, image.height, image.alpha, factor);
        drop(image.data);
        let f = f64::from(factor);
        let (l, t) = (left / f, top / f);
        let w = (width / f).min(f64::from(src.width()) - l);
        let h = (height / f).min(f64::from(src.height()) - t);
        let mut dst = fr::images::Image::new(dw, dh, src.pixel_type());
        Resizer::new()
            .resize(&src, &mut dst, &lanczos(l, t, w, h).use_alpha(false))
            .map_err(|e| err(&e))?;
        return Ok(Image {
            width: dw,
            height: dh,
            alpha: image.alpha,
            data: to_srgb(&dst, image.alpha),
        });
    }
    let options = lanczos(left, top, width, height);
    // Alpha stays in 16-bit premultiplied light even then: 8-bit
    // premultiplication leaves noisy colour in faint edge pixels.
    let reduced = (kx < 1.0 || ky < 1.0) && !image.alpha;
    let linear = !reduced && u64::from(image.width) * u64::from(image.height) <= LINEAR_MAX_PIXELS;
    let data = if linear {
        // Premultiplied here (in linear light), so the resizer needs no copy of its own.
        let src = to_linear(image.data, image.width, image.height, image.alpha);
        let mut dst = fr::images::Image::new(dw, dh, src.pixel_type());
        Resizer::new()
            .resize(&src, &mut dst, &options.use_alpha(false))
            .map_err(|e| err(&e))?;
        drop(src);
        to_srgb(&dst, image.alpha)
    } else {
        let pixel_type = if image.alpha {
            PixelType::U8x4
        } else {
            PixelType::U8x3
        };
        let (w, h) = image.size();
        let src =
            fr::images::Image::from_vec_u8(w, h, image.data, pixel_type).map_err(|e| err(&e))?;
        let mut dst = fr::images::Image::new(dw, dh, pixel_type);
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| err(&e))?;
        dst.into_vec()
    };
    Ok(Image {
        width: dw,
        height: dh,
        alpha: image.alpha,
        data,
    })
}

//! Step: crop and resize in one `fast_image_resize` pass (Lanczos3, SIMD incl.
//! wasm simd128), in linear light so fine detail does not darken, with alpha
//! premultiplied during resampling.
//!
//! Images above [`LINEAR_MAX_PIXELS`] (large PNG/GIF/WebP inputs, which cannot
//! be decoded at reduced scale) are resampled in sRGB to keep memory bounded.

use super::{Image, Job};
use crate::Error;
use fast_image_resize::{self as fr, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use std::sync::OnceLock;

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
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(left, top, width, height);
    let linear = u64::from(image.width) * u64::from(image.height) <= LINEAR_MAX_PIXELS;
    let (dw, dh) = plan.resized;
    let err = |e: &dyn std::fmt::Display| Error::decode(job.header.format, format!("resize: {e}"));
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

/// sRGB u8 → linear u16 per colour channel, premultiplied by alpha (scaled
/// to 16 bits). Consumes the 8-bit pixels so they are freed before resizing.
fn to_linear(data: Vec<u8>, width: u32, height: u32, alpha: bool) -> fr::images::Image<'static> {
    let pixel_type = if alpha {
        PixelType::U16x4
    } else {
        PixelType::U16x3
    };
    let mut out = fr::images::Image::new(width, height, pixel_type);
    let lut = &tables().to_linear;
    let c = if alpha { 4 } else { 3 };
    for (px, dst) in data
        .chunks_exact(c)
        .zip(out.buffer_mut().chunks_exact_mut(c * 2))
    {
        let a = if alpha { u32::from(px[3]) } else { 255 };
        for i in 0..3 {
            let v = (u32::from(lut[usize::from(px[i])]) * a + 127) / 255;
            dst[i * 2..i * 2 + 2].copy_from_slice(&(v as u16).to_ne_bytes());
        }
        if alpha {
            dst[6..8].copy_from_slice(&(a as u16 * 257).to_ne_bytes());
        }
    }
    out
}

/// Linear premultiplied u16 → straight sRGB u8, via a 4096-entry table
/// (12 bits of linear precision).
fn to_srgb(image: &fr::images::Image<'_>, alpha: bool) -> Vec<u8> {
    let lut = &tables().to_srgb;
    let c = if alpha { 4 } else { 3 };
    let mut out = Vec::with_capacity(image.width() as usize * image.height() as usize * c);
    for px in image.buffer().chunks_exact(c * 2) {
        let v = |i: usize| u32::from(u16::from_ne_bytes([px[i * 2], px[i * 2 + 1]]));
        let a = if alpha { v(3) } else { 65535 };
        for i in 0..3 {
            let straight = (v(i) * 65535).checked_div(a).map_or(0, |s| s.min(65535));
            out.push(lut[(straight >> 4) as usize]);
        }
        if alpha {
            out.push(((a + 128) / 257) as u8);
        }
    }
    out
}

struct Tables {
    to_linear: [u16; 256],
    to_srgb: Vec<u8>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut to_linear = [0u16; 256];
        for (i, v) in to_linear.iter_mut().enumerate() {
            *v = (srgb_to_linear(i as f32 / 255.0) * 65535.0).round() as u16;
        }
        let to_srgb = (0..4096)
            .map(|i| (linear_to_srgb((i as f32 + 0.5) / 4096.0) * 255.0).round() as u8)
            .collect();
        Tables { to_linear, to_srgb }
    })
}

fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

//! Colour management: an embedded ICC profile (or, for CMYK without one, a
//! standard press profile) is applied and every output is sRGB — what a
//! browser assumes of an untagged image — whatever `metadata` says.
//!
//! `moxcms` (pure Rust, the CMS the `image` crate uses) does the maths. The
//! transforms run on the reduced image: RGB and grey ones after resizing,
//! CMYK right after the (already DCT-scaled) decode, since the resizer does
//! not carry four ink channels. A profile that does not parse, or that
//! `moxcms` cannot build a transform for, is ignored as browsers do.

mod cmyk;
mod embedded;

pub(crate) use cmyk::cmyk_to_srgb;
pub(crate) use embedded::{icc, jpeg_has_adobe};

use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformOptions};
use std::sync::OnceLock;

/// A parsed embedded profile, or `None` for a malformed or unusable one.
pub(crate) fn parse(icc: &[u8]) -> Option<ColorProfile> {
    ColorProfile::new_from_slice(icc).ok()
}

/// libvips' default intent; for matrix-shaper profiles (almost every RGB
/// camera or display profile) all intents give the same result.
fn options() -> TransformOptions {
    TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    }
}

fn srgb() -> &'static ColorProfile {
    static SRGB: OnceLock<ColorProfile> = OnceLock::new();
    SRGB.get_or_init(ColorProfile::new_srgb)
}

/// Converts interleaved RGB(A) or grey pixels in `profile`'s space to sRGB
/// RGB(A) in place. Returns false (pixels untouched) when the profile does not
/// describe such pixels or is effectively sRGB already.
pub(crate) fn rgb_to_srgb(data: &mut [u8], alpha: bool, profile: &ColorProfile) -> bool {
    let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
    let src_layout = match profile.color_space {
        DataColorSpace::Rgb if is_srgb(profile) => return false,
        DataColorSpace::Rgb => layout,
        // Grey was expanded to RGB at decode: read one channel back.
        DataColorSpace::Gray if alpha => Layout::GrayAlpha,
        DataColorSpace::Gray => Layout::Gray,
        _ => return false,
    };
    let Ok(transform) = profile.create_transform_8bit(src_layout, srgb(), layout, options()) else {
        return false;
    };
    let channels = layout.channels();
    let src: Vec<u8> = match src_layout {
        Layout::Gray => data.iter().step_by(3).copied().collect(),
        Layout::GrayAlpha => data.chunks_exact(4).flat_map(|p| [p[0], p[3]]).collect(),
        _ => data.to_vec(),
    };
    debug_assert_eq!(data.len() % channels, 0);
    transform.transform(&src, data).is_ok()
}

/// Whether a matrix-shaper RGB profile matches sRGB closely enough that
/// converting would change no 8-bit value: same primaries (D50-adapted
/// colorants) and the same tone curve at every eighth code value.
fn is_srgb(profile: &ColorProfile) -> bool {
    let reference = srgb();
    if !profile.is_matrix_shaper() {
        return false;
    }
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() < 2e-3 && (a.y - b.y).abs() < 2e-3 && (a.z - b.z).abs() < 2e-3
    };
    if !close(profile.red_colorant, reference.red_colorant)
        || !close(profile.green_colorant, reference.green_colorant)
        || !close(profile.blue_colorant, reference.blue_colorant)
    {
        return false;
    }
    let Some(srgb_trc) = reference.red_trc.as_ref() else {
        return false;
    };
    let Ok(want) = srgb_trc.make_linear_evaluator() else {
        return false;
    };
    [&profile.red_trc, &profile.green_trc, &profile.blue_trc]
        .into_iter()
        .all(|trc| {
            let Some(Ok(got)) = trc.as_ref().map(|t| t.make_linear_evaluator()) else {
                return false;
            };
            (0..=32).all(|i| {
                let v = (i * 8).min(255) as f32 / 255.0;
                (got.evaluate_value(v) - want.evaluate_value(v)).abs() < 1e-3
            })
        })
}

#[cfg(test)]
mod tests;

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
use embedded::icc;
pub(crate) use embedded::jpeg_has_adobe;

use crate::Format;
use moxcms::{
    CicpColorPrimaries, CicpProfile, ColorProfile, DataColorSpace, Layout, MatrixCoefficients,
    RenderingIntent, TransferCharacteristics, TransformOptions,
};
use std::sync::OnceLock;

/// A parsed embedded profile, or `None` for a malformed or unusable one.
pub(crate) fn parse(icc: &[u8]) -> Option<ColorProfile> {
    ColorProfile::new_from_slice(icc).ok()
}

/// The colour space a file declares: its ICC profile, or for an AVIF
/// without one its `nclx` code points (Display P3, BT.2020, ...). `None`
/// when it declares sRGB, nothing, or something unusable.
pub(crate) fn embedded_profile(bytes: &[u8], format: Format) -> Option<ColorProfile> {
    if format != Format::Avif {
        return parse(&icc(bytes, format)?);
    }
    // One walk of the container gives both of the primary item's `colr` kinds.
    let primary = crate::probe::avif::primary(bytes)?;
    match (primary.icc, primary.nclx) {
        (Some(icc), _) => parse(icc),
        (None, Some(nclx)) => from_code_points(nclx.primaries, nclx.transfer),
        // Without `colr`, the AV1 sequence header's code points apply, as
        // libavif reads them. (avif-parse reserves what a box declares, so
        // the boxes are checked first, as the decoder does.)
        (None, None) => {
            if !crate::probe::avif::boxes_fit(bytes) {
                return None;
            }
            let data = avif_parse::read_avif(&mut std::io::Cursor::new(bytes)).ok()?;
            let (primaries, transfer) = crate::av1::sequence_colour(&data.primary_item)?;
            from_code_points(
                u16::try_from(primaries).ok()?,
                u16::try_from(transfer).ok()?,
            )
        }
    }
}

/// A profile for H.273 primaries and transfer; `None` for sRGB (BT.709
/// primaries, sRGB or unspecified transfer) or codes `moxcms` cannot model.
fn from_code_points(primaries: u16, transfer: u16) -> Option<ColorProfile> {
    const BT709: u16 = 1;
    const UNSPECIFIED: u16 = 2;
    const SRGB: u16 = 13;
    let primaries = if primaries == UNSPECIFIED {
        BT709
    } else {
        primaries
    };
    let transfer = if transfer == UNSPECIFIED {
        SRGB
    } else {
        transfer
    };
    if primaries == BT709 && transfer == SRGB {
        return None;
    }
    let cicp = CicpProfile {
        color_primaries: CicpColorPrimaries::try_from(u8::try_from(primaries).ok()?).ok()?,
        transfer_characteristics: TransferCharacteristics::try_from(u8::try_from(transfer).ok()?)
            .ok()?,
        matrix_coefficients: MatrixCoefficients::Bt709,
        full_range: true,
    };
    let profile = ColorProfile::new_from_cicp(cicp);
    profile.red_trc.is_some().then_some(profile)
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

//! CMYK JPEG → sRGB. With the embedded CMYK profile when there is one, else
//! [`DEFAULT_CMYK`], a FOGRA39 (ISO coated v2) profile made with ArgyllCMS'
//! `colprof -ql -b n` from the FOGRA39L characterization data in Debian's
//! `icc-profiles-free` (A2B tables only; no copyright claimed). libvips falls
//! back to a standard press profile the same way.

use super::{options, srgb};
use moxcms::{ColorProfile, DataColorSpace, Layout};
use std::sync::OnceLock;

/// The profile assumed for CMYK without an embedded one.
pub(crate) const DEFAULT_CMYK: &[u8] = include_bytes!("default_cmyk.icc");

fn default_profile() -> &'static ColorProfile {
    static DEFAULT: OnceLock<ColorProfile> = OnceLock::new();
    // A unit test proves it parses; an empty profile would fail the transform cleanly.
    DEFAULT.get_or_init(|| ColorProfile::new_from_slice(DEFAULT_CMYK).unwrap_or_default())
}

/// `cmyk` holds 4 bytes a pixel, 0 = no ink, 255 = full ink. Returns RGB.
/// A non-CMYK or unusable embedded profile falls back to [`DEFAULT_CMYK`].
pub(crate) fn cmyk_to_srgb(
    cmyk: &[u8],
    embedded: Option<&ColorProfile>,
) -> Result<Vec<u8>, String> {
    let build =
        |p: &ColorProfile| p.create_transform_8bit(Layout::Rgba, srgb(), Layout::Rgb, options());
    let transform = embedded
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| build(p).ok())
        .map_or_else(|| build(default_profile()), Ok)
        .map_err(|e| format!("CMYK profile: {e}"))?;
    let mut rgb = vec![0; cmyk.len() / 4 * 3];
    transform
        .transform(cmyk, &mut rgb)
        .map_err(|e| format!("CMYK transform: {e}"))?;
    Ok(rgb)
}

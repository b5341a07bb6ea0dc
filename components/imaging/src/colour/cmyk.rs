//! CMYK JPEG → sRGB. With the embedded CMYK profile when there is one, else
//! [`DEFAULT_CMYK`], a FOGRA39 (ISO coated v2) profile made with ArgyllCMS'
//! `colprof -ql -b n` from the FOGRA39L characterization data in Debian's
//! `icc-profiles-free` (A2B tables only; no copyright claimed). libvips falls
//! back to a standard press profile the same way.
//!
//! Press profiles are applied at perceptual intent with black point
//! compensation, as libvips and LittleCMS do (LittleCMS forces it for a
//! perceptual transform into a v4 sRGB profile): the darkest ink the press
//! makes becomes the screen's black instead of a washed-out grey. `moxcms`
//! does not detect a CMYK profile's black point, so it is done here, in the
//! PCS: the profile's A2B tables give 16-bit XYZ (relative to D50 white),
//! each channel is scaled so the black of all four inks full lands on zero
//! and white stays, and a matrix and one table make 8-bit sRGB of that.

use super::{options, srgb};
use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, ToneReprCurve, Xyzd};
use std::sync::OnceLock;

/// The profile assumed for CMYK without an embedded one.
pub(crate) const DEFAULT_CMYK: &[u8] = include_bytes!("default_cmyk.icc");

/// Pixels converted per call of the transform (bounds the 16-bit buffers).
const STRIP: usize = 4096;

fn default_profile() -> &'static ColorProfile {
    static DEFAULT: OnceLock<ColorProfile> = OnceLock::new();
    // A unit test proves it parses; an empty profile would fail the transform cleanly.
    DEFAULT.get_or_init(|| ColorProfile::new_from_slice(DEFAULT_CMYK).unwrap_or_default())
}

/// PCS white (D50), the XYZ every reflective profile maps paper to.
const D50: [f64; 3] = [0.9642, 1.0, 0.8249];

/// A "device" whose channels are X, Y and Z over D50's: CMYK through it
/// gives PCS values, where black point compensation is a per-channel scale.
fn pcs_xyz() -> &'static ColorProfile {
    static XYZ: OnceLock<ColorProfile> = OnceLock::new();
    XYZ.get_or_init(|| {
        let mut profile = srgb().clone();
        let linear = Some(ToneReprCurve::Parametric(vec![1.0]));
        profile.red_trc = linear.clone();
        profile.green_trc = linear.clone();
        profile.blue_trc = linear;
        profile.red_colorant = Xyzd::new(D50[0], 0.0, 0.0);
        profile.green_colorant = Xyzd::new(0.0, D50[1], 0.0);
        profile.blue_colorant = Xyzd::new(0.0, 0.0, D50[2]);
        // Else moxcms would take sRGB's transfer from the code points.
        profile.cicp = None;
        profile
    })
}

/// `cmyk` holds 4 bytes a pixel, 0 = no ink, 255 = full ink. Returns RGB.
/// A non-CMYK or unusable embedded profile falls back to [`DEFAULT_CMYK`].
pub(crate) fn cmyk_to_srgb(
    cmyk: &[u8],
    embedded: Option<&ColorProfile>,
) -> Result<Vec<u8>, String> {
    let perceptual = moxcms::TransformOptions {
        rendering_intent: RenderingIntent::Perceptual,
        ..options()
    };
    let build = |p: &ColorProfile| {
        p.create_transform_16bit(Layout::Rgba, pcs_xyz(), Layout::Rgb, perceptual)
    };
    let transform = embedded
        .filter(|p| p.color_space == DataColorSpace::Cmyk)
        .and_then(|p| build(p).ok())
        .map_or_else(|| build(default_profile()), Ok)
        .map_err(|e| format!("CMYK profile: {e}"))?;
    let run = |ink: &[u16], xyz: &mut [u16]| {
        transform
            .transform(ink, xyz)
            .map_err(|e| format!("CMYK transform: {e}"))
    };
    let mut black = [0u16; 3];
    run(&[u16::MAX; 4], &mut black)?;
    let to_srgb = Compensated::new(black);

    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    let (mut ink, mut xyz) = (vec![0u16; STRIP * 4], vec![0u16; STRIP * 3]);
    for strip in cmyk.chunks(STRIP * 4) {
        let pixels = strip.len() / 4;
        ink.iter_mut()
            .zip(strip)
            .for_each(|(wide, &v)| *wide = u16::from(v) * 257);
        run(&ink[..pixels * 4], &mut xyz[..pixels * 3])?;
        out.extend(
            xyz[..pixels * 3]
                .chunks_exact(3)
                .flat_map(|p| to_srgb.pixel(p)),
        );
    }
    Ok(out)
}

/// PCS XYZ (over D50, 16-bit) → 8-bit sRGB, with a black point compensated.
struct Compensated {
    /// Per channel: `(v / 65535 − black) / (1 − black)` is `v * scale + offset`.
    scale: [f32; 3],
    offset: [f32; 3],
    /// Compensated XYZ over D50 → linear sRGB.
    matrix: [[f32; 3]; 3],
    /// 16-bit linear light `>> 4` → 8-bit sRGB (the resizer's table).
    encode: &'static [u8; 4096],
}

impl Compensated {
    /// `black`: the PCS XYZ of the profile's black (all four inks full), no
    /// lighter than L* 50, as LittleCMS' "darker colorant" detection.
    fn new(black: [u16; 3]) -> Self {
        let mut black = black.map(|v| f32::from(v) / 65535.0);
        // L* 50 is Y 0.1842.
        if black[1] > 0.184_186 {
            let k = 0.184_186 / black[1];
            black = black.map(|v| v * k);
        }
        let scale = black.map(|b| 1.0 / (65535.0 * (1.0 - b)));
        let offset = black.map(|b| -b / (1.0 - b));
        Self {
            scale,
            offset,
            matrix: xyz_to_linear_srgb(),
            encode: &crate::pipeline::srgb::tables().to_srgb,
        }
    }

    fn pixel(&self, xyz: &[u16]) -> [u8; 3] {
        let c: [f32; 3] =
            std::array::from_fn(|i| (f32::from(xyz[i]) * self.scale[i] + self.offset[i]).max(0.0));
        self.matrix.map(|row| {
            let linear = row[0] * c[0] + row[1] * c[1] + row[2] * c[2];
            self.encode[(linear.clamp(0.0, 1.0) * 65535.0 + 0.5) as usize >> 4]
        })
    }
}

/// The matrix from XYZ over D50 (each channel 1 at white) to linear sRGB:
/// [`pcs_xyz`]'s colorants, then the inverse of sRGB's.
fn xyz_to_linear_srgb() -> [[f32; 3]; 3] {
    pcs_xyz()
        .transform_matrix(srgb())
        .v
        .map(|row| row.map(|v| v as f32))
}

//! Transform options: one typed value per request, parsed from Cloudflare-style
//! `width=320,fit=cover,f=webp` and printed back in one canonical form (the cache key).

mod error;
mod parse;
mod values;

#[cfg(test)]
mod tests;

pub use error::OptionError;
pub use values::{Color, Dpr, Fit, Flip, FormatChoice, Gravity, Metadata, Rotate};

use crate::Format;
use std::fmt;

/// Every transform option of a request. `Default` is "no change": the original
/// size, format and orientation, metadata stripped.
///
/// Sizes are in CSS pixels; [`Options::dpr`] multiplies them. Fractional values
/// (gravity focal point, dpr, blur, sharpen) are stored in fixed point so that
/// equal requests compare equal and print identically.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Options {
    /// Target width before `dpr` (1..=16384).
    pub width: Option<u32>,
    /// Target height before `dpr` (1..=16384).
    pub height: Option<u32>,
    /// Device pixel ratio, multiplies width and height.
    pub dpr: Dpr,
    /// How width and height are interpreted.
    pub fit: Fit,
    /// Which part is kept when cropping, or where the image sits when padding.
    pub gravity: Gravity,
    /// Clockwise rotation, applied after EXIF orientation and before resizing
    /// (so width and height refer to the rotated image).
    pub rotate: Rotate,
    /// Mirroring, applied after `rotate`.
    pub flip: Flip,
    /// Gaussian blur sigma in tenths of a pixel of the output (1..=2500).
    pub blur: Option<u16>,
    /// Unsharp-mask strength in tenths (1..=100, i.e. 0.1..=10).
    pub sharpen: Option<u16>,
    /// Fill for `fit=pad` and for alpha flattened into JPEG (default white for
    /// JPEG, transparent for padding formats with alpha).
    pub background: Option<Color>,
    /// Encoder quality 1..=100 for JPEG, WebP and AVIF (format default if unset).
    pub quality: Option<u8>,
    /// Output format choice; `Original` by default.
    pub format: FormatChoice,
    /// Which metadata survives; stripped by default.
    pub metadata: Metadata,
    /// `anim=false`: an animated source gives its first frame, whatever
    /// the format. By default an animation stays animated as WebP.
    pub still: bool,
}

impl Options {
    /// The requested output format choice (resolve it with [`crate::negotiate`]).
    pub fn format(&self) -> FormatChoice {
        self.format
    }

    /// A copy with the format fixed to `f`; its `Display` is the variant cache key.
    pub fn with_format(&self, f: Format) -> Options {
        Options {
            format: FormatChoice::Fixed(f),
            ..self.clone()
        }
    }

    /// The options as applied to a vector source, which has no native
    /// resolution to stay within: `scale-down` works as `contain`, `crop`
    /// as `cover`.
    pub(crate) fn for_vector(&self) -> Options {
        let fit = match self.fit {
            Fit::ScaleDown => Fit::Contain,
            Fit::Crop => Fit::Cover,
            other => other,
        };
        Options {
            fit,
            ..self.clone()
        }
    }

    /// Width and height in device pixels (`width`/`height` times `dpr`, rounded).
    pub fn device_size(&self) -> (Option<u32>, Option<u32>) {
        let scale = |v: u32| ((u64::from(v) * u64::from(self.dpr.hundredths()) + 50) / 100) as u32;
        (self.width.map(scale), self.height.map(scale))
    }
}

impl fmt::Display for Options {
    /// The canonical form: fixed option order, long names, defaults omitted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut put = |f: &mut fmt::Formatter<'_>, name: &str, value: &dyn fmt::Display| {
            let r = write!(f, "{sep}{name}={value}");
            sep = ",";
            r
        };
        if let Some(w) = self.width {
            put(f, "width", &w)?;
        }
        if let Some(h) = self.height {
            put(f, "height", &h)?;
        }
        if self.dpr != Dpr::default() {
            put(f, "dpr", &self.dpr)?;
        }
        if self.fit != Fit::default() {
            put(f, "fit", &self.fit)?;
        }
        if self.gravity != Gravity::default() {
            put(f, "gravity", &self.gravity)?;
        }
        if self.rotate != Rotate::default() {
            put(f, "rotate", &self.rotate)?;
        }
        if self.flip != Flip::default() {
            put(f, "flip", &self.flip)?;
        }
        if let Some(b) = self.blur {
            put(f, "blur", &values::Tenths(b))?;
        }
        if let Some(s) = self.sharpen {
            put(f, "sharpen", &values::Tenths(s))?;
        }
        if let Some(c) = self.background {
            put(f, "background", &c)?;
        }
        if let Some(q) = self.quality {
            put(f, "quality", &q)?;
        }
        if self.format != FormatChoice::default() {
            put(f, "format", &self.format)?;
        }
        if self.metadata != Metadata::default() {
            put(f, "metadata", &self.metadata)?;
        }
        if self.still {
            put(f, "anim", &false)?;
        }
        Ok(())
    }
}

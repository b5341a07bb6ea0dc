//! The typed values of individual options and their canonical spelling.

use crate::Format;
use std::fmt;

/// How `width` and `height` are applied. All modes keep the aspect ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Fit {
    /// Like `contain`, but never enlarges (the default).
    #[default]
    ScaleDown,
    /// As large as possible within width × height.
    Contain,
    /// Fills width × height exactly, cropping the excess around `gravity`.
    Cover,
    /// Like `cover`, but never enlarges: a smaller image is only cropped.
    Crop,
    /// Like `contain`, then padded to exactly width × height with `background`.
    Pad,
}

impl Fit {
    pub(crate) const ALL: [(Fit, &'static str); 5] = [
        (Fit::ScaleDown, "scale-down"),
        (Fit::Contain, "contain"),
        (Fit::Cover, "cover"),
        (Fit::Crop, "crop"),
        (Fit::Pad, "pad"),
    ];
}

/// Where to anchor a crop or a padded image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Gravity {
    #[default]
    Center,
    North,
    South,
    East,
    West,
    NorthEast,
    NorthWest,
    SouthEast,
    SouthWest,
    /// A focal point in thousandths of width and height (0..=1000 each),
    /// written `0.3x0.6`; the crop is centred on it as far as the edges allow.
    Focal {
        x: u16,
        y: u16,
    },
    /// Saliency (`auto`): the crop of `fit=cover`/`crop` goes where edges,
    /// skin tones and saturated colour are, as libvips' `attention` does;
    /// centred for `fit=pad` and when nothing stands out.
    Auto,
}

impl Gravity {
    pub(crate) const NAMED: [(Gravity, &'static str); 10] = [
        (Gravity::Center, "center"),
        (Gravity::North, "north"),
        (Gravity::South, "south"),
        (Gravity::East, "east"),
        (Gravity::West, "west"),
        (Gravity::NorthEast, "northeast"),
        (Gravity::NorthWest, "northwest"),
        (Gravity::SouthEast, "southeast"),
        (Gravity::SouthWest, "southwest"),
        (Gravity::Auto, "auto"),
    ];

    /// The anchor as fractions of the free space (0 = left/top, 1 = right/bottom).
    pub(crate) fn anchor(self) -> (f64, f64) {
        match self {
            Gravity::Center => (0.5, 0.5),
            Gravity::North => (0.5, 0.0),
            Gravity::South => (0.5, 1.0),
            Gravity::East => (1.0, 0.5),
            Gravity::West => (0.0, 0.5),
            Gravity::NorthEast => (1.0, 0.0),
            Gravity::NorthWest => (0.0, 0.0),
            Gravity::SouthEast => (1.0, 1.0),
            Gravity::SouthWest => (0.0, 1.0),
            Gravity::Focal { x, y } => (f64::from(x) / 1000.0, f64::from(y) / 1000.0),
            // Planned centred; the saliency step moves the crop once decoded.
            Gravity::Auto => (0.5, 0.5),
        }
    }
}

/// The `format` option before negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum FormatChoice {
    /// Best format the client accepts: AVIF > WebP > the original's family.
    Auto,
    /// The original's format (GIF is written as PNG). The default.
    #[default]
    Original,
    /// Exactly this format.
    Fixed(Format),
}

/// Clockwise rotation in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Rotate {
    #[default]
    R0,
    R90,
    R180,
    R270,
}

impl Rotate {
    pub fn degrees(self) -> u16 {
        match self {
            Rotate::R0 => 0,
            Rotate::R90 => 90,
            Rotate::R180 => 180,
            Rotate::R270 => 270,
        }
    }
}

/// Mirroring: horizontal (left ↔ right), vertical (top ↔ bottom), or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Flip {
    #[default]
    None,
    H,
    V,
    HV,
}

/// Which metadata is kept in the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Metadata {
    /// Everything removed (the default): no location or camera leaks.
    #[default]
    Strip,
    /// Only the EXIF copyright and artist (JPEG output; others strip).
    Copyright,
    /// The EXIF block is kept, orientation reset to 1 (JPEG output; others strip).
    Keep,
}

/// Device pixel ratio in hundredths, 100..=400 (`dpr=1.5` is 150).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dpr(pub(crate) u16);

impl Dpr {
    pub const MIN: u16 = 100;
    pub const MAX: u16 = 400;

    /// `None` outside 100..=400.
    pub fn from_hundredths(h: u16) -> Option<Dpr> {
        (Self::MIN..=Self::MAX).contains(&h).then_some(Dpr(h))
    }

    pub fn hundredths(self) -> u16 {
        self.0
    }
}

impl Default for Dpr {
    fn default() -> Self {
        Dpr(100)
    }
}

/// An sRGB color with alpha, written as 6 or 8 lowercase hex digits (no `#`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Color {
    pub const WHITE: Color = Color {
        r: 255,
        g: 255,
        b: 255,
        a: 255,
    };
    pub const TRANSPARENT: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 0,
    };
}

/// Prints a fixed-point number stored in 1/`SCALE` units, trailing zeros trimmed.
pub(crate) struct Fixed<const SCALE: u32>(pub u32);

/// Tenths (blur, sharpen).
pub(crate) struct Tenths(pub u16);

impl fmt::Display for Tenths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fixed::<10>(u32::from(self.0)).fmt(f)
    }
}

impl<const SCALE: u32> fmt::Display for Fixed<SCALE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / SCALE;
        let frac = self.0 % SCALE;
        if frac == 0 {
            return write!(f, "{int}");
        }
        let width = SCALE.ilog10() as usize;
        let digits = format!("{frac:0width$}");
        write!(f, "{int}.{}", digits.trim_end_matches('0'))
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Fit::ALL.iter().find(|(v, _)| v == self).map(|(_, n)| *n);
        f.write_str(name.unwrap_or_default())
    }
}

impl fmt::Display for Gravity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gravity::Focal { x, y } => {
                write!(
                    f,
                    "{}x{}",
                    Fixed::<1000>(u32::from(*x)),
                    Fixed::<1000>(u32::from(*y))
                )
            }
            named => {
                let name = Gravity::NAMED
                    .iter()
                    .find(|(v, _)| v == named)
                    .map(|(_, n)| *n);
                f.write_str(name.unwrap_or_default())
            }
        }
    }
}

impl fmt::Display for FormatChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatChoice::Auto => f.write_str("auto"),
            FormatChoice::Original => f.write_str("original"),
            FormatChoice::Fixed(format) => f.write_str(format.as_str()),
        }
    }
}

impl fmt::Display for Rotate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.degrees())
    }
}

impl fmt::Display for Flip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flip::None => "none",
            Flip::H => "h",
            Flip::V => "v",
            Flip::HV => "hv",
        })
    }
}

impl fmt::Display for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metadata::Strip => "strip",
            Metadata::Copyright => "copyright",
            Metadata::Keep => "keep",
        })
    }
}

impl fmt::Display for Dpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Fixed::<100>(u32::from(self.0)).fmt(f)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{:02x}{:02x}", self.r, self.g, self.b)?;
        if self.a != 255 {
            write!(f, "{:02x}", self.a)?;
        }
        Ok(())
    }
}

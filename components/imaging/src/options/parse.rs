//! `FromStr` for [`Options`]: one match maps long and short names to small
//! `apply_*` functions; unknown names, bad values and out-of-range values are
//! distinct errors that name the option.

use super::values::{Color, Dpr, Fit, Flip, FormatChoice, Gravity, Metadata, Rotate};
use super::{OptionError, Options};
use crate::Format;
use std::str::FromStr;

/// Largest width or height accepted by the parser (before `dpr`); the
/// configured [`crate::Limits::max_output_side`] is checked at transform time.
pub const MAX_SIZE: u32 = 16384;

impl FromStr for Options {
    type Err = OptionError;

    /// Parses `name=value` pairs separated by `,`. Empty segments are ignored;
    /// giving the same option twice (under any alias) is a bad value.
    fn from_str(s: &str) -> Result<Options, OptionError> {
        let mut options = Options::default();
        let mut seen: Vec<&'static str> = Vec::new();
        for pair in s.split(',').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let canonical = canonical_name(name).ok_or_else(|| OptionError::Unknown {
                option: name.to_string(),
            })?;
            let bad = || OptionError::BadValue {
                option: name.to_string(),
                value: value.to_string(),
            };
            let range = || OptionError::OutOfRange {
                option: name.to_string(),
                value: value.to_string(),
            };
            if seen.contains(&canonical) {
                return Err(bad());
            }
            seen.push(canonical);
            apply(&mut options, canonical, value).map_err(|e| match e {
                Invalid::Bad => bad(),
                Invalid::Range => range(),
            })?;
        }
        Ok(options)
    }
}

/// Why a value did not apply; the caller adds the option name and value.
enum Invalid {
    Bad,
    Range,
}

type Applied = Result<(), Invalid>;

fn canonical_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "width" | "w" => "width",
        "height" | "h" => "height",
        "fit" => "fit",
        "gravity" | "g" => "gravity",
        "format" | "f" => "format",
        "quality" | "q" => "quality",
        "dpr" => "dpr",
        "rotate" => "rotate",
        "flip" => "flip",
        "blur" => "blur",
        "sharpen" => "sharpen",
        "background" | "bg" => "background",
        "metadata" => "metadata",
        "anim" => "anim",
        _ => return None,
    })
}

fn apply(o: &mut Options, name: &'static str, v: &str) -> Applied {
    match name {
        "width" => apply_size(&mut o.width, v),
        "height" => apply_size(&mut o.height, v),
        "fit" => apply_fit(o, v),
        "gravity" => apply_gravity(o, v),
        "format" => apply_format(o, v),
        "quality" => apply_quality(o, v),
        "dpr" => apply_dpr(o, v),
        "rotate" => apply_rotate(o, v),
        "flip" => apply_flip(o, v),
        "blur" => apply_tenths(&mut o.blur, v, 2500),
        "sharpen" => apply_tenths(&mut o.sharpen, v, 100),
        "background" => apply_background(o, v),
        "metadata" => apply_metadata(o, v),
        "anim" => apply_anim(o, v),
        _ => unreachable!("canonical_name returned {name}"),
    }
}

fn apply_size(slot: &mut Option<u32>, v: &str) -> Applied {
    let n = parse_uint(v)?;
    if !(1..=u64::from(MAX_SIZE)).contains(&n) {
        return Err(Invalid::Range);
    }
    *slot = Some(n as u32);
    Ok(())
}

fn apply_fit(o: &mut Options, v: &str) -> Applied {
    o.fit = Fit::ALL
        .iter()
        .find(|(_, n)| *n == v)
        .map(|(f, _)| *f)
        .ok_or(Invalid::Bad)?;
    Ok(())
}

fn apply_gravity(o: &mut Options, v: &str) -> Applied {
    if let Some((x, y)) = v.split_once('x') {
        let x = parse_fixed(x, 1000)?;
        let y = parse_fixed(y, 1000)?;
        if x > 1000 || y > 1000 {
            return Err(Invalid::Range);
        }
        o.gravity = Gravity::Focal {
            x: x as u16,
            y: y as u16,
        };
        return Ok(());
    }
    let alias = match v {
        "centre" => "center",
        "top" | "n" => "north",
        "bottom" | "s" => "south",
        "right" | "e" => "east",
        "left" | "w" => "west",
        "ne" => "northeast",
        "nw" => "northwest",
        "se" => "southeast",
        "sw" => "southwest",
        other => other,
    };
    o.gravity = Gravity::NAMED
        .iter()
        .find(|(_, n)| *n == alias)
        .map(|(g, _)| *g)
        .ok_or(Invalid::Bad)?;
    Ok(())
}

fn apply_format(o: &mut Options, v: &str) -> Applied {
    o.format = match v {
        "auto" => FormatChoice::Auto,
        "original" => FormatChoice::Original,
        "jpeg" | "jpg" => FormatChoice::Fixed(Format::Jpeg),
        "png" => FormatChoice::Fixed(Format::Png),
        "webp" => FormatChoice::Fixed(Format::Webp),
        "avif" => FormatChoice::Fixed(Format::Avif),
        _ => return Err(Invalid::Bad),
    };
    Ok(())
}

fn apply_quality(o: &mut Options, v: &str) -> Applied {
    let q = parse_uint(v)?;
    if !(1..=100).contains(&q) {
        return Err(Invalid::Range);
    }
    o.quality = Some(q as u8);
    Ok(())
}

fn apply_dpr(o: &mut Options, v: &str) -> Applied {
    let h = parse_fixed(v, 100)?;
    o.dpr = u16::try_from(h)
        .ok()
        .and_then(Dpr::from_hundredths)
        .ok_or(Invalid::Range)?;
    Ok(())
}

fn apply_rotate(o: &mut Options, v: &str) -> Applied {
    o.rotate = match parse_uint(v)? {
        0 => Rotate::R0,
        90 => Rotate::R90,
        180 => Rotate::R180,
        270 => Rotate::R270,
        _ => return Err(Invalid::Range),
    };
    Ok(())
}

fn apply_flip(o: &mut Options, v: &str) -> Applied {
    o.flip = match v {
        "none" => Flip::None,
        "h" => Flip::H,
        "v" => Flip::V,
        "hv" | "vh" => Flip::HV,
        _ => return Err(Invalid::Bad),
    };
    Ok(())
}

/// Blur and sharpen: a decimal in tenths; 0 means "off" (the default).
fn apply_tenths(slot: &mut Option<u16>, v: &str, max_tenths: u32) -> Applied {
    let t = parse_fixed(v, 10)?;
    if t > max_tenths {
        return Err(Invalid::Range);
    }
    *slot = (t > 0).then_some(t as u16);
    Ok(())
}

fn apply_background(o: &mut Options, v: &str) -> Applied {
    o.background = Some(parse_color(v)?);
    Ok(())
}

fn apply_metadata(o: &mut Options, v: &str) -> Applied {
    o.metadata = match v {
        "strip" | "none" => Metadata::Strip,
        "copyright" => Metadata::Copyright,
        "keep" | "all" => Metadata::Keep,
        _ => return Err(Invalid::Bad),
    };
    Ok(())
}

fn apply_anim(o: &mut Options, v: &str) -> Applied {
    o.still = match v {
        "true" => false,
        "false" => true,
        _ => return Err(Invalid::Bad),
    };
    Ok(())
}

/// Hex `rgb`, `rrggbb` or `rrggbbaa`, optionally after `#` or `%23`; or a name.
fn parse_color(v: &str) -> Result<Color, Invalid> {
    match v {
        "white" => return Ok(Color::WHITE),
        "black" => {
            return Ok(Color {
                r: 0,
                g: 0,
                b: 0,
                a: 255,
            })
        }
        "transparent" => return Ok(Color::TRANSPARENT),
        _ => {}
    }
    let hex = v
        .strip_prefix('#')
        .or_else(|| v.strip_prefix("%23"))
        .unwrap_or(v);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Invalid::Bad);
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).unwrap_or(0);
    let byte = |i: usize| digit(i) * 16 + digit(i + 1);
    Ok(match hex.len() {
        3 => Color {
            r: digit(0) * 17,
            g: digit(1) * 17,
            b: digit(2) * 17,
            a: 255,
        },
        6 => Color {
            r: byte(0),
            g: byte(2),
            b: byte(4),
            a: 255,
        },
        8 => Color {
            r: byte(0),
            g: byte(2),
            b: byte(4),
            a: byte(6),
        },
        _ => return Err(Invalid::Bad),
    })
}

/// A plain decimal integer (no sign, no spaces); too many digits is out of range.
fn parse_uint(v: &str) -> Result<u64, Invalid> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if v.starts_with('-') && v.len() > 1 {
            Invalid::Range
        } else {
            Invalid::Bad
        });
    }
    v.parse().map_err(|_| Invalid::Range)
}

/// A non-negative decimal like `1.5` in units of 1/`scale`, rounded to nearest.
fn parse_fixed(v: &str, scale: u32) -> Result<u32, Invalid> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if v.starts_with('-') && v.len() > 1 && digits(&int[1..]) && digits(frac) {
        return Err(Invalid::Range);
    }
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(Invalid::Bad);
    }
    let int: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| Invalid::Range)?
    };
    let mut value = int.checked_mul(u64::from(scale)).ok_or(Invalid::Range)?;
    // Fractional digits, rounded half up to the scale's precision.
    let mut unit = u64::from(scale);
    let mut rest = frac.bytes();
    while unit > 1 {
        unit /= 10;
        let digit = u64::from(rest.next().map_or(0, |b| b - b'0'));
        value = value.checked_add(digit * unit).ok_or(Invalid::Range)?;
    }
    if rest.next().is_some_and(|b| b >= b'5') {
        value = value.checked_add(1).ok_or(Invalid::Range)?;
    }
    u32::try_from(value).map_err(|_| Invalid::Range)
}

//! Where pixels go: from the (oriented) source size and the options to the
//! source region to read, the size to resize it to, and the output canvas.
//! Pure arithmetic, so every fit and gravity case is checked exactly in tests.

use crate::{Error, Fit, Gravity, Limits, Options};

/// A region of the source in source pixels (fractional, as resampling allows).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The geometry of one transform.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// The part of the source that ends up in the output.
    pub region: Region,
    /// The size `region` is resampled to.
    pub resized: (u32, u32),
    /// The output size; larger than `resized` only for `fit=pad`.
    pub canvas: (u32, u32),
    /// Where the resized image sits on the canvas.
    pub offset: (u32, u32),
}

/// Plans the transform of a `source`-sized image (after orientation and rotation).
pub fn plan(source: (u32, u32), options: &Options, limits: &Limits) -> Result<Plan, Error> {
    let (sw, sh) = (f64::from(source.0), f64::from(source.1));
    let whole = Region {
        x: 0.0,
        y: 0.0,
        width: sw,
        height: sh,
    };
    let (w, h) = options.device_size();
    let enlarge = matches!(options.fit, Fit::Contain | Fit::Cover | Fit::Pad);
    let clamp = |s: f64| if enlarge { s } else { s.min(1.0) };
    let size = |s: f64| (round(sw * s), round(sh * s));

    let plan = match (w, h) {
        (None, None) => Plan {
            region: whole,
            resized: source,
            canvas: source,
            offset: (0, 0),
        },
        (Some(w), None) => simple(whole, size(clamp(f64::from(w) / sw))),
        (None, Some(h)) => simple(whole, size(clamp(f64::from(h) / sh))),
        (Some(w), Some(h)) => {
            let (fw, fh) = (f64::from(w), f64::from(h));
            let contain = (fw / sw).min(fh / sh);
            let cover = (fw / sw).max(fh / sh);
            match options.fit {
                Fit::ScaleDown | Fit::Contain => simple(whole, size(clamp(contain))),
                Fit::Cover | Fit::Crop => {
                    let s = clamp(cover);
                    let resized = (w.min(round(sw * s)), h.min(round(sh * s)));
                    let region = crop_region(source, resized, s, options.gravity);
                    simple(region, resized)
                }
                Fit::Pad => {
                    let resized = size(contain);
                    let (ax, ay) = options.gravity.anchor();
                    let offset = (
                        ((f64::from(w - resized.0.min(w))) * ax).round() as u32,
                        ((f64::from(h - resized.1.min(h))) * ay).round() as u32,
                    );
                    Plan {
                        region: whole,
                        resized,
                        canvas: (w, h),
                        offset,
                    }
                }
            }
        }
    };
    limits.check_output(plan.canvas.0, plan.canvas.1)?;
    Ok(plan)
}

fn simple(region: Region, resized: (u32, u32)) -> Plan {
    Plan {
        region,
        resized,
        canvas: resized,
        offset: (0, 0),
    }
}

/// The source region that, scaled by `s`, gives `resized`, placed so the
/// gravity point is as central as the edges allow.
fn crop_region(source: (u32, u32), resized: (u32, u32), s: f64, gravity: Gravity) -> Region {
    let (sw, sh) = (f64::from(source.0), f64::from(source.1));
    let width = (f64::from(resized.0) / s).min(sw);
    let height = (f64::from(resized.1) / s).min(sh);
    let (gx, gy) = gravity.anchor();
    let x = (gx * sw - width / 2.0).clamp(0.0, sw - width);
    let y = (gy * sh - height / 2.0).clamp(0.0, sh - height);
    Region {
        x,
        y,
        width,
        height,
    }
}

fn round(v: f64) -> u32 {
    (v.round() as u32).max(1)
}

#[cfg(test)]
mod tests;

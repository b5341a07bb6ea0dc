//! Client hints: `width=auto` and `dpr=auto` resolved from the request's
//! `Sec-CH-Width` (or legacy `Width`), `Sec-CH-Viewport-Width` and
//! `Sec-CH-DPR`, snapped to a few widths and ratios so that caches stay
//! useful, with the exact list of hint headers the answer depended on (for
//! `Vary`).
//!
//! Browsers send these hints only to origins that asked for them with
//! `Accept-CH` (the demo page does); without hints `width=auto` falls back
//! to a configured width.

use edgeimg_common::{ApiError, RequestParts};
use imaging::{Dpr, Options};

/// Widths (device pixels) a hinted width is rounded up to; larger hints get
/// the last one.
pub const WIDTHS: &[u32] = &[
    64, 128, 256, 320, 480, 640, 768, 960, 1080, 1280, 1440, 1600, 1920, 2048, 2560, 3200, 3840,
];

/// Device pixel ratios (hundredths) a hinted ratio is rounded up to.
pub const DPRS: &[u16] = &[100, 150, 200, 300, 400];

/// Which options asked for a value from hints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Auto {
    /// `width=auto` (or `w=auto`).
    pub width: bool,
    /// `dpr=auto`.
    pub dpr: bool,
}

impl Auto {
    /// Takes `width=auto`, `w=auto` and `dpr=auto` out of a written option
    /// list (imaging's parser knows only numbers), returning the rest.
    pub fn split(written: &str) -> (Auto, String) {
        let mut auto = Auto::default();
        let mut rest = Vec::new();
        for item in written.split(',') {
            match item.trim() {
                "width=auto" | "w=auto" => auto.width = true,
                "dpr=auto" => auto.dpr = true,
                _ => rest.push(item),
            }
        }
        (auto, rest.join(","))
    }

    /// Refuses combinations that leave the result ill-defined: `auto` next
    /// to a number for the same option, and a height next to `width=auto`
    /// (the hinted width is in device pixels; a fixed height would change
    /// the shape with the screen).
    pub fn check(self, options: &Options) -> Result<(), ApiError> {
        let conflict = |msg: &str| Err(ApiError::bad_request("bad_option_value", msg));
        if self.width && options.width.is_some() {
            return conflict("`width` is given twice (auto and a number)");
        }
        if self.width && options.height.is_some() {
            return conflict("width=auto cannot be combined with height");
        }
        if self.dpr && options.dpr != Dpr::default() {
            return conflict("`dpr` is given twice (auto and a number)");
        }
        Ok(())
    }

    /// The canonical option string with the `auto` items in their places:
    /// `width=auto` first, `dpr=auto` after the sizes, as `Options` orders
    /// width, height and dpr. This is what a signature covers.
    pub fn canonical(self, options: &Options) -> String {
        let printed = options.to_string();
        let mut items: Vec<&str> = printed.split(',').filter(|s| !s.is_empty()).collect();
        if self.dpr {
            let at = items
                .iter()
                .take_while(|i| i.starts_with("width=") || i.starts_with("height="))
                .count();
            items.insert(at, "dpr=auto");
        }
        if self.width {
            items.insert(0, "width=auto");
        }
        items.join(",")
    }
}

/// Concrete options for this request and the hint headers they depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub options: Options,
    /// Header names for `Vary`, in the order they were consulted.
    pub vary: Vec<&'static str>,
}

/// Replaces `auto` values by what the request's hints say. Every hint header
/// looked at, present or not, is named in `vary`: the answer depends on it.
/// `fallback_width` (device pixels) is used when no width hint is sent.
pub fn resolve(
    options: &Options,
    auto: Auto,
    parts: &RequestParts,
    fallback_width: u32,
) -> Resolved {
    let mut vary = Vec::new();
    let mut options = options.clone();
    let mut consult = |name: &'static str| {
        vary.push(name);
        parts.header(&name.to_ascii_lowercase()).and_then(positive)
    };
    if auto.width {
        let hinted = match consult("Sec-CH-Width") {
            Some(w) => Some(w),
            None => consult("Width"),
        };
        let device = match hinted {
            // Sec-CH-Width is already in device pixels.
            Some(w) => w,
            None => match consult("Sec-CH-Viewport-Width") {
                Some(css) => {
                    let ratio = if auto.dpr || options.dpr == Dpr::default() {
                        consult("Sec-CH-DPR").unwrap_or(1.0)
                    } else {
                        f64::from(options.dpr.hundredths()) / 100.0
                    };
                    css * ratio
                }
                None => f64::from(fallback_width),
            },
        };
        options.width = Some(snap_width(device));
        // The ratio is folded into the width.
        options.dpr = Dpr::default();
    } else if auto.dpr {
        options.dpr = snap_dpr(consult("Sec-CH-DPR").unwrap_or(1.0));
    }
    Resolved { options, vary }
}

/// A positive finite number from a hint header (`800`, `2.625`).
fn positive(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// The smallest of [`WIDTHS`] at least `device` wide (the largest beyond).
pub fn snap_width(device: f64) -> u32 {
    let last = WIDTHS[WIDTHS.len() - 1];
    WIDTHS
        .iter()
        .copied()
        .find(|&w| f64::from(w) >= device.ceil())
        .unwrap_or(last)
}

/// The smallest of [`DPRS`] at least `ratio` (the largest beyond).
pub fn snap_dpr(ratio: f64) -> Dpr {
    let hundredths = (ratio * 100.0).round();
    let snapped = DPRS
        .iter()
        .copied()
        .find(|&d| f64::from(d) >= hundredths)
        .unwrap_or(DPRS[DPRS.len() - 1]);
    Dpr::from_hundredths(snapped).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> RequestParts {
        RequestParts::new("GET", "", headers)
    }

    fn auto_options(written: &str) -> (Options, Auto) {
        let (auto, rest) = Auto::split(written);
        let options: Options = rest.parse().unwrap();
        auto.check(&options).unwrap();
        (options, auto)
    }

    #[test]
    fn splits_and_prints_auto_items_in_canonical_places() {
        let (options, auto) = auto_options("f=webp,w=auto,dpr=auto,q=70");
        assert_eq!(
            auto,
            Auto {
                width: true,
                dpr: true
            }
        );
        assert_eq!(
            auto.canonical(&options),
            "width=auto,dpr=auto,quality=70,format=webp"
        );
        let (options, auto) = auto_options("height=100,dpr=auto,fit=cover");
        assert_eq!(auto.canonical(&options), "height=100,dpr=auto,fit=cover");
        for bad in [
            "width=auto,width=3",
            "width=auto,height=5",
            "dpr=auto,dpr=2",
        ] {
            let (auto, rest) = Auto::split(bad);
            let options: Options = rest.parse().unwrap();
            assert_eq!(auto.check(&options).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn snaps_up_to_a_few_widths_and_ratios() {
        let cases = [
            (1.0, 64),
            (64.0, 64),
            (64.5, 128),
            (600.0, 640),
            (641.0, 768),
            (9000.0, 3840),
        ];
        for (device, want) in cases {
            assert_eq!(snap_width(device), want, "{device}");
        }
        let ratios = [
            (0.5, 100),
            (1.0, 100),
            (1.25, 150),
            (2.0, 200),
            (2.625, 300),
            (9.0, 400),
        ];
        for (ratio, want) in ratios {
            assert_eq!(snap_dpr(ratio).hundredths(), want, "{ratio}");
        }
    }

    #[test]
    fn width_comes_from_the_first_hint_present_and_vary_names_each_consulted() {
        let (options, auto) = auto_options("width=auto,format=auto");
        type Case<'a> = (&'a [(&'a str, &'a str)], u32, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                &[
                    ("sec-ch-width", "600"),
                    ("width", "100"),
                    ("sec-ch-dpr", "3"),
                ],
                640,
                &["Sec-CH-Width"],
            ),
            (&[("width", "100")], 128, &["Sec-CH-Width", "Width"]),
            (
                &[("sec-ch-viewport-width", "400"), ("sec-ch-dpr", "2")],
                960,
                &[
                    "Sec-CH-Width",
                    "Width",
                    "Sec-CH-Viewport-Width",
                    "Sec-CH-DPR",
                ],
            ),
            (
                &[("sec-ch-viewport-width", "400")],
                480,
                &[
                    "Sec-CH-Width",
                    "Width",
                    "Sec-CH-Viewport-Width",
                    "Sec-CH-DPR",
                ],
            ),
            (
                &[("sec-ch-width", "nonsense"), ("sec-ch-dpr", "2")],
                1280,
                &["Sec-CH-Width", "Width", "Sec-CH-Viewport-Width"],
            ),
        ];
        for (headers, width, vary) in cases {
            let r = resolve(&options, auto, &parts(headers), 1200);
            assert_eq!(r.options.width, Some(*width), "{headers:?}");
            assert_eq!(r.options.dpr, Dpr::default());
            assert_eq!(r.vary, *vary, "{headers:?}");
        }
        let (fixed_dpr, auto) = auto_options("width=auto,dpr=1.5");
        let r = resolve(
            &fixed_dpr,
            auto,
            &parts(&[("sec-ch-viewport-width", "400"), ("sec-ch-dpr", "3")]),
            1200,
        );
        assert_eq!(r.options.width, Some(640), "a written dpr beats the hint");
        assert!(!r.vary.contains(&"Sec-CH-DPR"));
    }

    #[test]
    fn dpr_auto_reads_sec_ch_dpr_and_plain_options_read_no_hint() {
        let (options, auto) = auto_options("width=320,dpr=auto");
        let r = resolve(&options, auto, &parts(&[("sec-ch-dpr", "1.75")]), 1200);
        assert_eq!(
            (r.options.width, r.options.dpr.hundredths()),
            (Some(320), 200)
        );
        assert_eq!(r.vary, vec!["Sec-CH-DPR"]);
        let (plain, auto) = auto_options("width=320");
        let r = resolve(&plain, auto, &parts(&[("sec-ch-width", "900")]), 1200);
        assert_eq!((r.options, r.vary), (plain, vec![]));
    }
}

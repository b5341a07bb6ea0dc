//! Resolves the `format` option to the one format we encode.

use crate::{Format, FormatChoice, Options};

/// The output format, and whether it depended on `Accept` (so the response
/// must carry `Vary: Accept`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub format: Format,
    pub vary_accept: bool,
}

/// Picks the output format.
///
/// - `Fixed(f)`: `f`, or the nearest format we encode ([`Format::encodable`]:
///   GIF → PNG, and AVIF → WebP when built without the `avif` feature).
/// - `Original`: the original's format, likewise (a GIF becomes a PNG of its
///   first frame: lossless and keeps transparency).
/// - `Auto`: AVIF if `Accept` allows `image/avif` (and AVIF is built in), else WebP if it allows
///   `image/webp`, else the original's family: JPEG for JPEG, WebP and AVIF
///   originals (browsers without WebP support are photo-heavy legacy clients),
///   PNG for PNG and GIF. `*/*` or `image/*` alone never picks AVIF or WebP.
///   TIFF is in JPEG's family; SVG, BMP, ICO and QOI in PNG's.
pub fn negotiate(options: &Options, accept: Option<&str>, original: Format) -> Negotiated {
    negotiate_animated(options, accept, original, false)
}

/// [`negotiate`] for an original that may be an animation: then
/// `format=auto` picks WebP (which keeps it animated) over AVIF when
/// `Accept` allows it, unless `anim=false` asks for a still.
pub fn negotiate_animated(
    options: &Options,
    accept: Option<&str>,
    original: Format,
    animated: bool,
) -> Negotiated {
    let keep_animation = animated && !options.still;
    match options.format() {
        FormatChoice::Auto if keep_animation && accepts(accept.unwrap_or(""), "image/webp") => {
            Negotiated {
                format: Format::Webp,
                vary_accept: true,
            }
        }
        FormatChoice::Fixed(format) => Negotiated {
            format: format.encodable(),
            vary_accept: false,
        },
        FormatChoice::Original => Negotiated {
            format: original.encodable(),
            vary_accept: false,
        },
        FormatChoice::Auto => {
            let accept = accept.unwrap_or("");
            let format = if Format::Avif.can_encode() && accepts(accept, "image/avif") {
                Format::Avif
            } else if accepts(accept, "image/webp") {
                Format::Webp
            } else {
                family(original)
            };
            Negotiated {
                format,
                vary_accept: true,
            }
        }
    }
}

/// What `format=auto` gives while the AVIF [`negotiate`] picked is not
/// made yet: WebP if `Accept` allows it, else the original's family.
pub fn without_avif(accept: Option<&str>, original: Format) -> Format {
    if accepts(accept.unwrap_or(""), "image/webp") {
        Format::Webp
    } else {
        family(original)
    }
}

fn family(original: Format) -> Format {
    match original {
        Format::Jpeg | Format::Webp | Format::Avif | Format::Tiff => Format::Jpeg,
        Format::Png | Format::Gif | Format::Svg | Format::Bmp | Format::Ico | Format::Qoi => {
            Format::Png
        }
    }
}

/// Whether an `Accept` header lists `media_type` explicitly with a non-zero q.
fn accepts(accept: &str, media_type: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let matches = parts
            .next()
            .is_some_and(|t| t.eq_ignore_ascii_case(media_type));
        matches
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_animation_prefers_webp_to_avif_unless_a_still_is_asked_for() {
        const CHROME: &str = "image/avif,image/webp,*/*";
        let auto: Options = "w=10,f=auto".parse().unwrap();
        let still: Options = "w=10,f=auto,anim=false".parse().unwrap();
        let webp = Negotiated {
            format: Format::Webp,
            vary_accept: true,
        };
        assert_eq!(
            negotiate_animated(&auto, Some(CHROME), Format::Gif, true),
            webp
        );
        assert_eq!(
            negotiate_animated(&auto, Some("image/avif,*/*"), Format::Gif, true).format,
            if Format::Avif.can_encode() {
                Format::Avif
            } else {
                Format::Png
            }
        );
        assert_eq!(
            negotiate_animated(&still, Some(CHROME), Format::Gif, true),
            negotiate(&still, Some(CHROME), Format::Gif)
        );
        assert_eq!(
            negotiate_animated(&auto, Some(CHROME), Format::Gif, false),
            negotiate(&auto, Some(CHROME), Format::Gif)
        );
    }

    #[test]
    fn without_avif_is_the_next_best_format() {
        const CHROME: &str = "image/avif,image/webp,image/apng,*/*;q=0.8";
        assert_eq!(without_avif(Some(CHROME), Format::Jpeg), Format::Webp);
        assert_eq!(
            without_avif(Some("image/avif,*/*"), Format::Jpeg),
            Format::Jpeg
        );
        assert_eq!(without_avif(Some("image/avif"), Format::Gif), Format::Png);
        assert_eq!(without_avif(None, Format::Avif), Format::Jpeg);
    }

    #[test]
    fn resolves_format_choices() {
        const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        const OLD_FIREFOX: &str = "image/webp,*/*";
        const SAFARI_OLD: &str = "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
        let avif_or = |other| {
            if Format::Avif.can_encode() {
                Format::Avif
            } else {
                other
            }
        };
        let cases: &[(&str, Option<&str>, Format, Format, bool)] = &[
            (
                "f=auto",
                Some(CHROME),
                Format::Jpeg,
                avif_or(Format::Webp),
                true,
            ),
            (
                "f=auto",
                Some(OLD_FIREFOX),
                Format::Jpeg,
                Format::Webp,
                true,
            ),
            ("f=auto", Some(SAFARI_OLD), Format::Jpeg, Format::Jpeg, true),
            ("f=auto", Some(SAFARI_OLD), Format::Png, Format::Png, true),
            ("f=auto", Some(SAFARI_OLD), Format::Gif, Format::Png, true),
            ("f=auto", Some(SAFARI_OLD), Format::Webp, Format::Jpeg, true),
            ("f=auto", None, Format::Jpeg, Format::Jpeg, true),
            ("f=auto", Some("*/*"), Format::Png, Format::Png, true),
            (
                "f=auto",
                Some("image/avif;q=0, image/webp"),
                Format::Png,
                Format::Webp,
                true,
            ),
            (
                "f=auto",
                Some("IMAGE/AVIF ; q=0.5"),
                Format::Png,
                avif_or(Format::Png),
                true,
            ),
            ("f=avif", None, Format::Png, avif_or(Format::Webp), false),
            ("", Some(CHROME), Format::Jpeg, Format::Jpeg, false),
            ("", Some(CHROME), Format::Gif, Format::Png, false),
            (
                "f=original",
                Some(CHROME),
                Format::Webp,
                Format::Webp,
                false,
            ),
            ("f=png", Some(CHROME), Format::Jpeg, Format::Png, false),
            ("format=webp", None, Format::Jpeg, Format::Webp, false),
        ];
        for (opts, accept, original, want, vary) in cases {
            let options: Options = opts.parse().unwrap();
            let got = negotiate(&options, *accept, *original);
            assert_eq!(
                got,
                Negotiated {
                    format: *want,
                    vary_accept: *vary
                },
                "{opts} {accept:?} {original:?}"
            );
        }
    }
}

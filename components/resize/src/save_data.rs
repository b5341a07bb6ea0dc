//! `Save-Data: on`: the visitor asked to save data, so lossy output is
//! encoded at a lower quality (by the configured amount).
//!
//! Like the other client hints it applies to URLs that ask for hints
//! (`width=auto`, `dpr=auto`), which vary on hint headers anyway. A URL with
//! fixed sizes stays one response per URL (and `Accept` class), cacheable by
//! any CDN, including ones that ignore `Vary`.

use edgeimg_common::RequestParts;
use imaging::{Format, Options};

/// The quality imaging encodes with when none is given (its encoder default,
/// checked by a test below so the two cannot drift apart).
pub const DEFAULT_QUALITY: u8 = 80;

/// The lowest quality Save-Data takes an image to.
pub const MIN_QUALITY: u8 = 10;

/// Lowers `options.quality` by `drop` when the URL uses client hints
/// (`hinted`), the request says `Save-Data: on` and `format` is lossy.
/// Returns whether the header was consulted, i.e. whether the answer must
/// `Vary: Save-Data` (a lossless format or a zero `drop` does not depend on it).
pub fn apply(
    options: &mut Options,
    format: Format,
    parts: &RequestParts,
    hinted: bool,
    drop: u8,
) -> bool {
    let lossy = matches!(format, Format::Jpeg | Format::Webp | Format::Avif);
    if !hinted || drop == 0 || !lossy {
        return false;
    }
    let on = parts
        .header("save-data")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("on"));
    if on {
        let quality = options.quality.unwrap_or(DEFAULT_QUALITY);
        options.quality = Some(quality.saturating_sub(drop).max(MIN_QUALITY));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeimg_common::testdata::png_with;

    fn parts(save_data: Option<&str>) -> RequestParts {
        RequestParts {
            headers: save_data
                .map(|v| vec![("save-data".to_string(), v.to_string())])
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn lowers_lossy_quality_only_when_asked() {
        let cases = [
            (None, Format::Webp, Some("on"), 20, Some(60), true),
            (Some(90), Format::Jpeg, Some(" ON "), 20, Some(70), true),
            (
                Some(15),
                Format::Avif,
                Some("on"),
                20,
                Some(MIN_QUALITY),
                true,
            ),
            (None, Format::Jpeg, None, 20, None, true),
            (None, Format::Jpeg, Some("off"), 20, None, true),
            (None, Format::Png, Some("on"), 20, None, false),
            (None, Format::Jpeg, Some("on"), 0, None, false),
        ];
        for (quality, format, header, drop, want, consulted) in cases {
            let mut options = Options {
                quality,
                ..Options::default()
            };
            let used = apply(&mut options, format, &parts(header), true, drop);
            assert_eq!(
                (options.quality, used),
                (want, consulted),
                "{quality:?} {format:?} {header:?}"
            );
        }
        let mut fixed = Options::default();
        assert!(!apply(
            &mut fixed,
            Format::Jpeg,
            &parts(Some("on")),
            false,
            20
        ));
        assert_eq!(fixed.quality, None, "URLs without hints ignore Save-Data");
    }

    #[test]
    fn default_quality_is_imagings() {
        let png = png_with(40, 30, true);
        let limits = imaging::Limits::default();
        let encode = |quality| {
            let options = Options {
                quality,
                ..Options::default()
            };
            imaging::transform(&png, &options, Format::Jpeg, &limits)
                .unwrap()
                .bytes
        };
        assert_eq!(encode(None), encode(Some(DEFAULT_QUALITY)));
    }
}

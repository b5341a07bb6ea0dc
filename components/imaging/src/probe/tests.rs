use super::*;
use crate::testimg;

#[test]
fn reads_dimensions_of_every_format_from_the_header() {
    for format in testimg::ALL {
        for (w, h) in [(1, 1), (37, 20), (300, 401)] {
            if format == Format::Ico && w > 256 {
                continue; // ICO entries are at most 256 px a side
            }
            let bytes = testimg::encode(format, w, h);
            let info =
                probe(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(
                info,
                ImageInfo {
                    format,
                    width: w,
                    height: h,
                    frames: if format == Format::Gif { 2 } else { 1 },
                },
                "{format} {w}x{h}"
            );
        }
    }
}

#[test]
fn reports_displayed_size_after_exif_orientation() {
    let px = testimg::quadrants(40, 20);
    for o in 1..=8u16 {
        let bytes = testimg::jpeg(40, 20, &px, Some(o));
        let info = probe(&bytes, &Limits::default()).unwrap();
        let want = if o >= 5 { (20, 40) } else { (40, 20) };
        assert_eq!((info.width, info.height), want, "orientation {o}");
    }
}

#[test]
fn checks_limits_from_the_header() {
    let bytes = testimg::encode(Format::Png, 300, 200);
    let cases: &[(Limits, u16, &str)] = &[
        (
            Limits {
                max_input_bytes: 10,
                ..Limits::default()
            },
            413,
            "too_large",
        ),
        (
            Limits {
                max_pixels: 300 * 200 - 1,
                ..Limits::default()
            },
            422,
            "pixel_limit",
        ),
        (
            Limits {
                max_side: 299,
                ..Limits::default()
            },
            422,
            "pixel_limit",
        ),
    ];
    for (limits, status, code) in cases {
        let err = probe(&bytes, limits).unwrap_err();
        assert_eq!((err.status(), err.code()), (*status, *code), "{limits:?}");
    }
    let exact = Limits {
        max_pixels: 300 * 200,
        max_side: 300,
        ..Limits::default()
    };
    assert!(probe(&bytes, &exact).is_ok());
}

/// Tiny files claiming huge dimensions, in every format.
#[test]
fn rejects_decompression_bombs_from_the_header() {
    let mut png = testimg::encode(Format::Png, 1, 1);
    png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let mut gif = testimg::encode(Format::Gif, 1, 1);
    gif[6..10].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let mut jpeg = testimg::encode(Format::Jpeg, 8, 8);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xF0, 0xFF, 0xF0]);
    let webp = [&b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0"[..], &[0xFF; 6]].concat();
    let avif = testimg::avif(200_000, 200_000);
    let mut bmp = testimg::encode(Format::Bmp, 2, 2);
    bmp[18..26].copy_from_slice(&[0x60, 0xEA, 0, 0, 0xA0, 0x15, 0xFF, 0xFF]); // 60000 × -60000
    let mut qoi = testimg::encode(Format::Qoi, 2, 2);
    qoi[4..12].copy_from_slice(&[0, 1, 0, 0, 0, 1, 0, 0]);
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="1e6" height="10"/>"#.to_vec();
    for (name, bytes) in [
        ("bmp", bmp),
        ("qoi", qoi),
        ("svg", svg),
        ("png", png),
        ("gif", gif),
        ("jpeg", jpeg),
        ("webp", webp),
        ("avif", avif),
    ] {
        let err = probe(&bytes, &Limits::default()).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (422, "pixel_limit"),
            "{name}: {err}"
        );
    }
}

#[test]
fn rejects_unknown_and_malformed_headers() {
    let cases: &[(&[u8], u16)] = &[
        (b"", 415),
        (b"hello world", 415),
        (b"<html><svg xmlns='http://www.w3.org/2000/svg'/>", 415),
        (b"<svg xmlns='http://www.w3.org/2000/svg'", 422),
        (b"II*\0\x08\0\0\0\x01\0", 422),
        (b"MM\0*\0\0\0\x08", 422),
        (b"BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01", 422),
        (b"\0\0\x01\0\x01\0\x10\x10\0\0", 422),
        (b"qoif\0\0", 422),
        (b"\xFF\xD8\xFF", 422),
        (b"\xFF\xD8\xFF\xE0\x00\x02", 422),
        (b"\x89PNG\r\n\x1a\n", 422),
        (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDX\0\0\0\x01\0\0\0\x01", 422),
        (b"GIF89a\x01", 422),
        (b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\0\0\0", 422),
        (b"RIFF\0\0\0\0WEBPXXXX", 422),
        (b"\0\0\0\x10ftypavif\0\0\0\0", 422),
    ];
    for (bytes, status) in cases {
        let err = probe(bytes, &Limits::default()).unwrap_err();
        assert_eq!(err.status(), *status, "{bytes:?}: {err}");
    }
}

#[test]
fn truncated_headers_never_panic() {
    for format in testimg::ALL {
        let bytes = testimg::encode(format, 30, 20);
        for len in 0..bytes.len().min(400) {
            let _ = probe(&bytes[..len], &Limits::default());
        }
    }
}

#[test]
fn avif_display_transforms_map_to_the_exif_orientation_that_looks_the_same() {
    use crate::pipeline::Orientation;
    // irot n is n quarter turns anti-clockwise: EXIF 8, 3, 6 for one to three.
    let turns = [1, 8, 3, 6].map(Orientation::from_exif);
    // imir 0 exchanges top and bottom (EXIF 4), 1 left and right (EXIF 2).
    let mirrors = [(None, 1), (Some(0), 4), (Some(1), 2)];
    for (rotation, turn) in (0u8..).zip(turns) {
        for (mirror, exif) in mirrors {
            let want = turn.then(Orientation::from_exif(exif));
            let got = avif::exif_orientation(rotation, mirror);
            assert_eq!(
                Orientation::from_exif(got),
                want,
                "irot {rotation} imir {mirror:?}"
            );
        }
    }
}

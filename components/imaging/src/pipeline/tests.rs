use super::*;
use crate::{probe, testimg, Format, Limits};

const R: [u8; 3] = [255, 0, 0];
const G: [u8; 3] = [0, 255, 0];
const B: [u8; 3] = [0, 0, 255];
const W: [u8; 3] = [255, 255, 255];

/// Colours at the top-left, top-right, bottom-left and bottom-right.
type Corners = [[u8; 3]; 4];

fn run(bytes: &[u8], opts: &str, format: Format) -> Output {
    transform(bytes, &opts.parse().unwrap(), format, &Limits::default())
        .unwrap_or_else(|e| panic!("{opts}: {e}"))
}

/// Decodes an output back to RGBA for inspection.
fn pixels(out: &Output) -> Vec<u8> {
    let header = probe::read_header(&out.bytes, &Limits::default()).unwrap();
    let job = Job {
        header,
        options: &Options::default(),
        output: Format::Png,
        orientation: Orientation::default(),
        plan: geometry::plan(
            (header.width, header.height),
            &Options::default(),
            &Limits::default(),
        )
        .unwrap(),
        source: (header.width, header.height),
        profile: None,
        limits: &Limits::default(),
    };
    let img = decode::decode(&out.bytes, &job).unwrap().into_srgb();
    if img.alpha {
        img.data
    } else {
        img.data
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    }
}

fn at(out: &Output, px: &[u8], x: u32, y: u32) -> [u8; 4] {
    let i = ((y * out.width + x) * 4) as usize;
    px[i..i + 4].try_into().unwrap()
}

fn assert_near(got: [u8; 4], want: [u8; 3], what: &str) {
    let close = got[..3].iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 40);
    assert!(close, "{what}: got {got:?}, want {want:?}");
}

/// Colours at the four corners (inset by 20%).
fn corners(out: &Output) -> [[u8; 4]; 4] {
    let px = pixels(out);
    let (x0, x1) = (out.width / 5, out.width - 1 - out.width / 5);
    let (y0, y1) = (out.height / 5, out.height - 1 - out.height / 5);
    [
        at(out, &px, x0, y0),
        at(out, &px, x1, y0),
        at(out, &px, x0, y1),
        at(out, &px, x1, y1),
    ]
}

fn assert_corners(out: &Output, want: Corners, what: &str) {
    for (i, (got, want)) in corners(out).into_iter().zip(want).enumerate() {
        assert_near(got, want, &format!("{what} corner {i}"));
    }
}

#[test]
fn exif_orientations_1_to_8_come_out_upright() {
    let px = testimg::quadrants(64, 32);
    let cases: [(u16, (u32, u32), Corners); 8] = [
        (1, (64, 32), [R, G, B, W]),
        (2, (64, 32), [G, R, W, B]),
        (3, (64, 32), [W, B, G, R]),
        (4, (64, 32), [B, W, R, G]),
        (5, (32, 64), [R, B, G, W]),
        (6, (32, 64), [B, R, W, G]),
        (7, (32, 64), [W, G, B, R]),
        (8, (32, 64), [G, W, R, B]),
    ];
    for (o, size, want) in cases {
        let jpeg = testimg::jpeg(64, 32, &px, Some(o));
        let out = run(&jpeg, "", Format::Png);
        assert_eq!((out.width, out.height), size, "orientation {o}");
        assert_corners(&out, want, &format!("orientation {o}"));
    }
}

#[test]
fn crops_keep_the_right_pixels() {
    let png = testimg::encode(Format::Png, 400, 200);
    // (options, size, corners TL TR BL BR)
    let cases: &[(&str, (u32, u32), Corners)] = &[
        (
            "w=100,h=100,fit=cover,gravity=west",
            (100, 100),
            [R, R, B, B],
        ),
        (
            "w=100,h=100,fit=cover,gravity=east",
            (100, 100),
            [G, G, W, W],
        ),
        ("w=100,h=100,fit=cover", (100, 100), [R, G, B, W]),
        ("w=100,h=100,fit=crop,gravity=0x0", (100, 100), [R, R, B, B]),
        (
            "w=100,h=20,fit=cover,gravity=north",
            (100, 20),
            [R, G, R, G],
        ),
        (
            "w=100,h=20,fit=cover,gravity=south",
            (100, 20),
            [B, W, B, W],
        ),
        (
            "w=40,h=40,fit=cover,gravity=southeast",
            (40, 40),
            [G, G, W, W],
        ),
        (
            "w=150,h=300,fit=crop,gravity=east",
            (150, 200),
            [G, G, W, W],
        ),
        (
            "w=150,h=300,fit=crop,gravity=west",
            (150, 200),
            [R, R, B, B],
        ),
        ("w=200", (200, 100), [R, G, B, W]),
        ("w=200,rotate=90", (200, 400), [B, R, W, G]),
        ("w=200,flip=h", (200, 100), [G, R, W, B]),
    ];
    for (opts, size, want) in cases {
        let out = run(&png, opts, Format::Png);
        assert_eq!((out.width, out.height), *size, "{opts}");
        assert_corners(&out, *want, opts);
    }
}

#[test]
fn pad_fills_with_background() {
    let png = testimg::encode(Format::Png, 400, 200);
    let out = run(&png, "w=100,h=100,fit=pad,background=000000", Format::Jpeg);
    assert_eq!((out.width, out.height), (100, 100));
    let px = pixels(&out);
    assert_near(at(&out, &px, 50, 5), [0, 0, 0], "top band");
    assert_near(at(&out, &px, 10, 35), R, "image");
    assert_near(at(&out, &px, 50, 95), [0, 0, 0], "bottom band");
    // Default: white for JPEG, transparent for PNG.
    let out = run(&png, "w=100,h=100,fit=pad", Format::Jpeg);
    assert_near(at(&out, &pixels(&out), 50, 5), W, "jpeg default");
    let out = run(&png, "w=100,h=100,fit=pad", Format::Png);
    assert_eq!(
        at(&out, &pixels(&out), 50, 5)[3],
        0,
        "png default is transparent"
    );
}

#[test]
fn alpha_png_to_jpeg_uses_the_background() {
    let rgba = testimg::pixels(64, 32, |x, _| {
        if x < 32 {
            [10, 20, 30, 0]
        } else {
            [255, 0, 0, 255]
        }
    });
    let png = testimg::png(64, 32, &rgba);
    let cases: &[(&str, [u8; 3])] = &[("", W), ("background=00ff00", G), ("bg=000", [0, 0, 0])];
    for (opts, bg) in cases {
        let out = run(&png, opts, Format::Jpeg);
        assert_eq!(out.format, Format::Jpeg);
        let px = pixels(&out);
        assert_near(at(&out, &px, 8, 16), *bg, opts);
        assert_near(at(&out, &px, 56, 16), R, opts);
    }
    // PNG and WebP keep the transparency.
    for format in [Format::Png, Format::Webp] {
        let out = run(&png, "w=32", format);
        assert_eq!(at(&out, &pixels(&out), 2, 8)[3], 0, "{format}");
    }
}

#[test]
fn every_input_to_every_output() {
    for input in testimg::ALL {
        let bytes = testimg::encode(input, 120, 80);
        for output in [
            Format::Jpeg,
            Format::Png,
            Format::Webp,
            Format::Avif,
            Format::Gif,
        ] {
            let out = run(&bytes, "w=60", output);
            assert_eq!(out.format, output.encodable(), "{input} -> {output}");
            assert_eq!(out.content_type(), out.format.content_type());
            assert_eq!(out.byte_size(), out.bytes.len());
            let info = probe(&out.bytes, &Limits::default()).unwrap();
            assert_eq!(
                (info.format, info.width, info.height),
                (out.format, 60, 40),
                "{input} -> {output}"
            );
            assert_corners(&out, [R, G, B, W], &format!("{input} -> {output}"));
        }
    }
}

#[test]
fn webp_is_lossy_with_a_separate_alpha_plane_when_transparent() {
    let opaque = run(&testimg::encode(Format::Png, 64, 64), "", Format::Webp);
    assert_eq!(&opaque.bytes[12..16], b"VP8 ");
    let rgba = testimg::pixels(64, 64, |x, _| [200, 100, 50, if x < 32 { 0 } else { 255 }]);
    let transparent = run(&testimg::png(64, 64, &rgba), "", Format::Webp);
    let chunks = |b: &[u8], name: &[u8]| b.windows(4).any(|w| w == name);
    assert_eq!(&transparent.bytes[12..16], b"VP8X");
    assert!(chunks(&transparent.bytes, b"ALPH") && chunks(&transparent.bytes, b"VP8 "));
    let px = pixels(&transparent);
    let alpha = |x: usize, y: usize| px[(y * 64 + x) * 4 + 3];
    assert_eq!(
        (alpha(0, 0), alpha(20, 40), alpha(40, 20), alpha(63, 63)),
        (0, 0, 255, 255)
    );
    let opaque_px = &px[(10 * 64 + 50) * 4..][..3];
    assert!(
        opaque_px
            .iter()
            .zip([200, 100, 50])
            .all(|(a, b)| a.abs_diff(b) < 8),
        "{opaque_px:?}"
    );
}

#[test]
fn avif_without_image_data_is_a_decode_error_not_a_crash() {
    let err = transform(
        &testimg::avif(10, 10),
        &Options::default(),
        Format::Jpeg,
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "decode_failed"), "{err}");
}

#[test]
fn malformed_and_truncated_inputs_are_errors_not_panics() {
    let options: Options = "w=16".parse().unwrap();
    for format in testimg::ALL {
        let bytes = testimg::encode(format, 48, 32);
        let step = (bytes.len() / 60).max(1);
        for len in (0..bytes.len()).step_by(step) {
            let result = transform(&bytes[..len], &options, Format::Jpeg, &Limits::default());
            if let Err(e) = result {
                assert!(
                    matches!(e.status(), 415 | 422),
                    "{format} cut at {len}: {e}"
                );
            }
        }
        let mut corrupt = bytes.clone();
        for i in (20..corrupt.len()).step_by(7) {
            corrupt[i] ^= 0x5A;
        }
        if let Err(e) = transform(&corrupt, &options, Format::Jpeg, &Limits::default()) {
            assert!(matches!(e.status(), 415 | 422), "{format} corrupted: {e}");
        }
    }
}

#[test]
fn avif_whose_bitstream_is_larger_than_its_header_says_is_refused_before_decoding() {
    let mut bytes = testimg::encode(Format::Avif, 64, 48);
    // Shrink `ispe` (what the limits are checked against) to 16x12.
    let at = bytes.windows(4).position(|w| w == b"ispe").unwrap() + 8;
    bytes[at..at + 8].copy_from_slice(&[0, 0, 0, 16, 0, 0, 0, 12]);
    let err = transform(&bytes, &Options::default(), Format::Png, &Limits::default()).unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "decode_failed"));
    assert!(err.to_string().contains("64x48"), "{err}");
}

#[test]
fn avif_box_claiming_more_than_the_file_is_refused_before_allocating() {
    let mut bytes = testimg::encode(Format::Avif, 64, 48);
    // The fuzzer's case: `mdat` claims 2 GB, which the container parser would reserve.
    let at = bytes.windows(4).position(|w| w == b"mdat").unwrap() - 4;
    bytes[at..at + 4].copy_from_slice(&0x7FFF_FFF0u32.to_be_bytes());
    let err = transform(&bytes, &Options::default(), Format::Png, &Limits::default()).unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "decode_failed"), "{err}");
    assert!(err.to_string().contains("past its container"), "{err}");
}

#[test]
fn avif_that_needs_more_memory_than_the_pixel_limit_allows_is_refused_before_decoding() {
    let limits = Limits {
        max_pixels: 64 * 48,
        ..Limits::default()
    };
    // 8-bit 4:4:4, opaque, decoded whole: about 9 bytes a pixel, as for PNG.
    let opaque = testimg::avif_of(64, 48, &testimg::quadrants(64, 48), 8);
    let out = transform(&opaque, &Options::default(), Format::Png, &limits).unwrap();
    assert_eq!((out.width, out.height), (64, 48));
    // 10-bit 4:4:4 with a 10-bit alpha plane: twice that.
    let rgba = testimg::pixels(64, 48, |x, _| [200, 100, 50, if x < 32 { 0 } else { 255 }]);
    let deep = testimg::avif_of(64, 48, &rgba, 10);
    let err = transform(&deep, &Options::default(), Format::Png, &limits).unwrap_err();
    assert_eq!((err.status(), err.code()), (422, "pixel_limit"), "{err}");
    assert!(err.to_string().contains("10-bit with alpha"), "{err}");
}

#[test]
fn avif_alpha_survives_as_alpha() {
    let rgba = testimg::pixels(64, 64, |x, _| [200, 100, 50, if x < 32 { 0 } else { 255 }]);
    let avif = testimg::avif_of(64, 64, &rgba, 10);
    let out = run(&avif, "w=32", Format::Png);
    let px = pixels(&out);
    let alpha = |x: usize, y: usize| px[(y * 32 + x) * 4 + 3];
    assert_eq!((alpha(2, 10), alpha(29, 10)), (0, 255));
    let colour = &px[(10 * 32 + 29) * 4..][..3];
    assert!(
        colour
            .iter()
            .zip([200, 100, 50])
            .all(|(a, b)| a.abs_diff(b) <= 3),
        "{colour:?}"
    );
}

/// Inputs the fuzzer found (components/imaging/fuzz), minus its selector byte.
#[test]
fn fuzz_regressions() {
    let cases: &[&[u8]] = &[
        // GIF whose first frame starts far right of the logical screen.
        b"GIF89a\x14\x00\x0b\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00!\xf9\x04\x05\x00\x00\x00\x00,\x00\xaf\x00\x00\x14\x00\x0b\x00\x00\x02\x0d\x84\x8f\xa9\xcb\xed\x0f\xa3\x9c\xb4\xda\x8b)]\x01\x00;",
    ];
    let run = |bytes: &[u8], options: &str| {
        transform(
            bytes,
            &options.parse().unwrap(),
            Format::Jpeg,
            &Limits::default(),
        )
    };
    for bytes in cases {
        for options in ["", "w=8"] {
            let _ = run(bytes, options);
        }
    }
    // AVIFs (tests/fuzz-regressions): corrupt tile data made rav1d abort
    // (vendor/rav1d/PATCHED.md), leftover box content tripped avif-parse's
    // debug assertion, and an `mdat` claiming 2 GB made it reserve 2 GB.
    let avifs: [&[u8]; 3] = [
        include_bytes!("../../tests/fuzz-regressions/avif-corrupt-tile-aborted-rav1d.avif"),
        include_bytes!("../../tests/fuzz-regressions/avif-unread-box-content.avif"),
        include_bytes!("../../tests/fuzz-regressions/avif-mdat-claims-2gb.avif"),
    ];
    for bytes in avifs {
        for options in ["", "w=8"] {
            let err = run(bytes, options).unwrap_err();
            assert_eq!(err.status(), 422, "{err}");
        }
    }
    let corrupt = transform(
        avifs[0],
        &Options::default(),
        Format::Jpeg,
        &Limits::default(),
    );
    let message = corrupt.unwrap_err().to_string();
    assert!(message.contains("invalid or corrupt AV1 data"), "{message}");
}

#[test]
fn gif_uses_the_first_frame() {
    let out = run(&testimg::encode(Format::Gif, 40, 40), "", Format::Gif);
    assert_eq!(out.format, Format::Png);
    assert_corners(&out, [R, G, B, W], "first frame");
}

#[test]
fn metadata_is_stripped_unless_asked() {
    let px = testimg::quadrants(32, 32);
    let jpeg = testimg::jpeg(32, 32, &px, Some(6));
    let exif_of = |out: &Output| {
        probe::read_header(&out.bytes, &Limits::default())
            .unwrap()
            .exif
            .map(<[u8]>::to_vec)
    };
    assert_eq!(exif_of(&run(&jpeg, "", Format::Jpeg)), None);
    assert_eq!(
        exif_of(&run(&jpeg, "metadata=copyright", Format::Jpeg)),
        None,
        "nothing to keep"
    );
    let kept = exif_of(&run(&jpeg, "metadata=keep", Format::Jpeg)).expect("kept");
    assert_eq!(
        crate::exif::orientation(&kept),
        Some(1),
        "orientation reset after rotating"
    );
}

#[test]
fn effects_change_pixels_but_not_size() {
    let rgba = testimg::pixels(64, 64, |x, y| {
        [
            (x * 4) as u8,
            (y * 4) as u8,
            if (x / 8 + y / 8) % 2 == 0 { 60 } else { 200 },
            255,
        ]
    });
    let png = testimg::png(64, 64, &rgba);
    let plain = pixels(&run(&png, "", Format::Png));
    for opts in ["blur=3", "sharpen=2"] {
        let out = run(&png, opts, Format::Png);
        assert_eq!((out.width, out.height), (64, 64), "{opts}");
        assert!(pixels(&out) != plain, "{opts} changed nothing");
    }
}

#[test]
fn large_jpeg_outputs_are_baseline() {
    // The encoder's progressive files were 3-15 % larger for the same pixels.
    let jpeg = testimg::encode(Format::Jpeg, 1400, 900);
    let out = run(&jpeg, "width=1200", Format::Jpeg);
    assert_eq!((out.width, out.height), (1200, 771));
    // Segment by segment from after SOI to the frame header (SOF0/1/2).
    let (b, mut at) = (&out.bytes, 2);
    let frame = loop {
        let marker = b[at + 1];
        if matches!(marker, 0xC0..=0xC2) {
            break marker;
        }
        assert_ne!(marker, 0xDA, "no frame header before the scan");
        at += 2 + usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
    };
    assert_eq!(frame, 0xC0, "frame type SOF{}", frame - 0xC0);
}

#[test]
fn thumbnails_do_not_darken_fine_detail() {
    // One-pixel black/white stripes average to 50% light: sRGB ~188, not 128.
    let rgba = testimg::pixels(64, 64, |x, _| {
        if x % 2 == 0 {
            [0, 0, 0, 255]
        } else {
            [255, 255, 255, 255]
        }
    });
    let out = run(&testimg::png(64, 64, &rgba), "w=16", Format::Png);
    let v = at(&out, &pixels(&out), 8, 8)[0];
    assert!((175..=200).contains(&v), "mean grey {v}");
}

#[test]
fn output_side_limit_applies() {
    let png = testimg::encode(Format::Png, 40, 40);
    let limits = Limits {
        max_output_side: 100,
        ..Limits::default()
    };
    let err = transform(
        &png,
        &"w=200,fit=contain".parse().unwrap(),
        Format::Png,
        &limits,
    )
    .unwrap_err();
    assert_eq!(err.status(), 422);
}

#[test]
fn reduced_scale_jpeg_with_odd_sides_resizes() {
    // 200×113 decodes at 1/8 as 25×15; the crop box scaled back is 15.000000000000002 high.
    let jpeg = testimg::encode(Format::Jpeg, 200, 113);
    let out = run(&jpeg, "width=16,height=16,fit=scale-down", Format::Png);
    assert_eq!((out.width, out.height), (16, 9));
}

#[test]
fn rotating_a_png_reduced_while_decoding_keeps_the_quadrants() {
    // 400×200 to 50 px: the PNG is box-averaged while decoding, so the
    // rotation and flip apply to its linear-light pixels before resizing.
    let png = testimg::png(400, 200, &testimg::quadrants(400, 200));
    let cases: [(&str, (u32, u32), Corners); 4] = [
        ("width=50", (50, 25), [R, G, B, W]),
        ("height=50,rotate=90", (25, 50), [B, R, W, G]),
        ("width=50,rotate=180", (50, 25), [W, B, G, R]),
        ("height=50,rotate=270,flip=h", (25, 50), [W, G, B, R]),
    ];
    for (opts, size, want) in cases {
        let out = run(&png, opts, Format::Png);
        assert_eq!((out.width, out.height), size, "{opts}");
        assert_corners(&out, want, opts);
    }
}

#[test]
fn reduced_decodes_keep_the_geometry_of_sides_that_are_not_whole_blocks() {
    // 321×257 is 40⅛ × 32⅛ blocks of 8: decoded at 1/8 (a progressive JPEG's
    // DC scans), 1/4 (a baseline JPEG's DCT scaling) or box-averaged (a PNG),
    // the last block of each side covers one source pixel. Red rises left to
    // right and green top to bottom, so every output pixel's colour tells
    // where in the source it was taken from.
    let (w, h) = (321u32, 257u32);
    let ramp = |p: f64, n: u32| (p - 0.5) * 255.0 / f64::from(n - 1);
    let rgba = testimg::pixels(w, h, |x, y| {
        [
            ramp(f64::from(x) + 0.5, w).round() as u8,
            ramp(f64::from(y) + 0.5, h).round() as u8,
            128,
            255,
        ]
    });
    let jpeg = |progressive: bool| {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 100);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
        enc.set_progressive(progressive);
        let rgb: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        enc.encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    };
    let inputs = [
        // JPEG's 8-bit YCbCr round trip alone is off by up to ~2 levels;
        // stretching over the whole last block was off by up to 7.
        ("progressive JPEG", jpeg(true), 40, 3.0),
        ("baseline JPEG", jpeg(false), 80, 3.0),
        // Lossless: within 0.6 (0.9 rotated); stretched, 1.2.
        ("PNG", testimg::png(w, h, &rgba), 80, 1.0),
    ];
    // Output pixel centre (u, v), in the oriented source, back to the stored image.
    type Back = fn(f64, f64, f64, f64) -> (f64, f64);
    let orientations: [(&str, Back); 4] = [
        ("", |u, v, _, _| (u, v)),
        ("flip=h", |u, v, w, _| (w - u, v)),
        ("flip=v", |u, v, _, h| (u, h - v)),
        ("rotate=90", |u, v, _, h| (v, h - u)),
    ];
    for (name, bytes, size, tolerance) in &inputs {
        for (orient, back) in orientations {
            let opts = format!("width={size},{orient}");
            let out = run(bytes, &opts, Format::Png);
            let px = pixels(&out);
            let (ow, oh) = if orient.starts_with("rotate") {
                (h, w)
            } else {
                (w, h)
            };
            let mut worst = 0f64;
            // Lanczos lobes reach past the edge: judge the interior.
            for y in 3..out.height - 3 {
                for x in 3..out.width - 3 {
                    let u = (f64::from(x) + 0.5) * f64::from(ow) / f64::from(out.width);
                    let v = (f64::from(y) + 0.5) * f64::from(oh) / f64::from(out.height);
                    let (s, t) = back(u, v, f64::from(w), f64::from(h));
                    let got = at(&out, &px, x, y);
                    worst = worst
                        .max((f64::from(got[0]) - ramp(s, w)).abs())
                        .max((f64::from(got[1]) - ramp(t, h)).abs());
                }
            }
            assert!(
                worst <= *tolerance,
                "{name} {opts}: off by up to {worst:.1} levels"
            );
        }
    }
}

/// A flat grey frame with a small, busy, colourful subject near its right edge.
fn subject_at_the_edge(w: u32, h: u32) -> Vec<u8> {
    testimg::pixels(w, h, |x, y| {
        let (cx, cy) = (w - w / 12, h / 2);
        let (dx, dy) = (x.abs_diff(cx), y.abs_diff(cy));
        if dx * dx + dy * dy < (h / 5) * (h / 5) {
            if (x / 3 + y / 3) % 2 == 0 {
                [230, 40, 30, 255]
            } else {
                [250, 220, 40, 255]
            }
        } else {
            [128, 128, 128, 255]
        }
    })
}

#[test]
fn gravity_auto_keeps_a_subject_that_a_centre_crop_cuts_off() {
    let (w, h) = (600, 200);
    let px = subject_at_the_edge(w, h);
    for (name, bytes) in [
        ("png", testimg::png(w, h, &px)),
        ("jpeg", testimg::jpeg(w, h, &px, None)),
    ] {
        let subject = |opts: &str| {
            let out = run(&bytes, opts, Format::Png);
            assert_eq!((out.width, out.height), (100, 100), "{name} {opts}");
            pixels(&out)
                .chunks(4)
                .filter(|p| p[0] > 180 && p[2] < 100)
                .count()
        };
        let centre = subject("w=100,h=100,fit=cover");
        let auto = subject("w=100,h=100,fit=cover,gravity=auto");
        assert_eq!(centre, 0, "{name}: the centre crop misses the subject");
        assert!(
            auto > 500,
            "{name}: gravity=auto kept {auto} subject pixels"
        );
        let crop = subject("w=100,h=100,fit=crop,g=auto,rotate=180");
        assert!(crop > 500, "{name}: rotated first, then found: {crop}");
    }
    // A flat image has nothing to find: the centre, as before.
    let flat = testimg::png(w, h, &testimg::pixels(w, h, |_, _| [90, 120, 150, 255]));
    let centre = run(&flat, "w=100,h=100,fit=cover", Format::Png);
    let auto = run(&flat, "w=100,h=100,fit=cover,g=auto", Format::Png);
    assert!(
        pixels(&centre) == pixels(&auto),
        "a flat image stays centred"
    );
}

/// An animated GIF of `colours.len()` frames, each `delays[i]` hundredths,
/// NETSCAPE-looping `repeat` (None: no loop extension).
fn animated_gif(
    w: u16,
    h: u16,
    colours: &[[u8; 4]],
    delays: &[u16],
    repeat: Option<u16>,
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w, h, &[]).unwrap();
        if let Some(n) = repeat {
            let r = if n == 0 {
                gif::Repeat::Infinite
            } else {
                gif::Repeat::Finite(n)
            };
            enc.set_repeat(r).unwrap();
        }
        for (c, &delay) in colours.iter().zip(delays) {
            let mut px = testimg::pixels(u32::from(w), u32::from(h), |_, _| *c);
            let mut frame = gif::Frame::from_rgba(w, h, &mut px);
            frame.delay = delay;
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

/// Frame count, durations (ms), loop count and first-frame colours of an
/// animated WebP, read with `image-webp`.
fn webp_frames(bytes: &[u8]) -> (Vec<u32>, Vec<[u8; 3]>, image_webp::LoopCount) {
    let mut d = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(d.is_animated(), "not animated");
    let mut buf = vec![0; d.output_buffer_size().unwrap()];
    let c = if d.has_alpha() { 4 } else { 3 };
    let (mut durations, mut colours) = (vec![], vec![]);
    for _ in 0..d.num_frames() {
        durations.push(d.read_frame(&mut buf).unwrap());
        let mid = (buf.len() / c / 2) * c;
        colours.push([buf[mid], buf[mid + 1], buf[mid + 2]]);
    }
    (durations, colours, d.loop_count())
}

#[test]
fn an_animated_gif_stays_animated_as_webp_with_its_timing() {
    let colours = [[255, 0, 0, 255], [0, 200, 0, 255], [0, 0, 255, 255]];
    let gif = animated_gif(60, 40, &colours, &[10, 25, 0], Some(2));
    let info = probe(&gif, &Limits::default()).unwrap();
    assert_eq!(info.frames, 3);
    let out = run(&gif, "w=30", Format::Webp);
    assert_eq!((out.width, out.height), (30, 20));
    let (durations, got, loops) = webp_frames(&out.bytes);
    // A delay of 0 shows as 100 ms in browsers; NETSCAPE 2 repeats = 3 plays.
    assert_eq!(durations, [100, 250, 100]);
    assert_eq!(loops, image_webp::LoopCount::Times(3.try_into().unwrap()));
    for (g, want) in got.iter().zip(colours) {
        assert!(
            g.iter().zip(want).all(|(a, b)| a.abs_diff(b) < 16),
            "{got:?}"
        );
    }
    // anim=false, or any other format: the first frame, still.
    let still = run(&gif, "w=30,anim=false", Format::Webp);
    assert_eq!(&still.bytes[12..16], b"VP8 ");
    assert!(!still.bytes.windows(4).any(|w| w == b"ANMF"));
    let png = run(&gif, "w=30", Format::Png);
    assert_corners(&png, [R, R, R, R], "first frame");
    // Forever, and a crop with a pad, apply to every frame alike.
    let forever = animated_gif(60, 40, &colours, &[5, 5, 5], Some(0));
    let out = run(&forever, "w=20,h=20,fit=pad,bg=000", Format::Webp);
    let (durations, _, loops) = webp_frames(&out.bytes);
    assert_eq!(
        (durations.len(), loops),
        (3, image_webp::LoopCount::Forever)
    );
    assert_eq!((out.width, out.height), (20, 20));
}

#[test]
fn an_animated_webp_stays_animated_with_its_timing() {
    let colours = [[250, 250, 0, 255], [0, 0, 0, 255]];
    let gif = animated_gif(80, 80, &colours, &[7, 30], None);
    let webp = run(&gif, "", Format::Webp);
    let (durations, _, loops) = webp_frames(&webp.bytes);
    assert_eq!(durations, [70, 300]);
    assert_eq!(loops, image_webp::LoopCount::Times(1.try_into().unwrap()));
    assert_eq!(probe(&webp.bytes, &Limits::default()).unwrap().frames, 2);
    let smaller = run(&webp.bytes, "w=40,q=60", Format::Webp);
    assert_eq!((smaller.width, smaller.height), (40, 40));
    let (durations, got, _) = webp_frames(&smaller.bytes);
    assert_eq!(durations, [70, 300]);
    assert!(got[0][0] > 200 && got[1][0] < 40, "{got:?}");
}

#[test]
fn animation_limits_apply_before_decoding() {
    let colours = [[1, 2, 3, 255]; 5];
    let gif = animated_gif(100, 100, &colours, &[10; 5], None);
    for (limits, what) in [
        (
            Limits {
                max_frames: 4,
                ..Limits::default()
            },
            "frames",
        ),
        (
            Limits {
                max_animation_pixels: 49_999,
                ..Limits::default()
            },
            "pixels",
        ),
    ] {
        let err = transform(&gif, &Options::default(), Format::Webp, &limits).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (422, "pixel_limit"),
            "{what}: {err}"
        );
    }
    assert!(transform(
        &gif,
        &Options::default(),
        Format::Webp,
        &Limits {
            max_frames: 5,
            max_animation_pixels: 50_000,
            ..Limits::default()
        }
    )
    .is_ok());
}

#[test]
fn every_fuzz_seed_is_a_real_file_of_its_format() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let bytes = &bytes[1..]; // the selector byte
        let ext = name.rsplit('.').next().unwrap();
        if name.contains("laughs") {
            // Refused from the probe, before anything is built.
            let err = probe(bytes, &Limits::default()).unwrap_err();
            assert_eq!(err.code(), "too_complex", "{name}");
            seen += 1;
            continue;
        }
        let info = probe(bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = Format::from_name(if ext == "jpg" { "jpeg" } else { ext }).unwrap();
        assert_eq!(info.format, want, "{name}");
        assert_eq!(info.frames > 1, name.contains("animated"), "{name}");
        for output in [Format::Jpeg, Format::Webp] {
            let result = transform(bytes, &"w=16".parse().unwrap(), output, &Limits::default());
            if !name.contains("avif") {
                result.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        seen += 1;
    }
    assert!(seen >= 17, "{seen} seeds");
}

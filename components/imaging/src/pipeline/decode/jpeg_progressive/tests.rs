use super::*;

/// Progressive files from libjpeg (through Pillow, from a corpus photo):
/// libjpeg's standard script, with successive approximation (refinement
/// scans) for DC and AC.
const FILES: [(&str, &[u8]); 4] = [
    ("4:2:0 301x203", include_bytes!("420.jpg")),
    (
        "4:4:4 301x203, restart every 7 MCUs",
        include_bytes!("444-restarts.jpg"),
    ),
    ("grey 301x203", include_bytes!("grey.jpg")),
    ("4:2:2 37x29", include_bytes!("422-small.jpg")),
];

/// (Ss, Se, Ah, Al) of each scan.
fn scans(bytes: &[u8]) -> Vec<(u8, u8, u8, u8)> {
    let mut out = Vec::new();
    for i in 0..bytes.len() - 1 {
        if bytes[i] == 0xFF && bytes[i + 1] == 0xDA {
            let n = usize::from(bytes[i + 4]);
            let at = i + 5 + 2 * n;
            out.push((
                bytes[at],
                bytes[at + 1],
                bytes[at + 2] >> 4,
                bytes[at + 2] & 15,
            ));
        }
    }
    out
}

/// `jpeg-decoder`'s output at the same scale (libjpeg's reduced IDCTs).
fn reference(bytes: &[u8], shrink: u16) -> (u32, u32, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().unwrap();
    let info = d.info().unwrap();
    let (w, h) = d
        .scale(info.width.div_ceil(shrink), info.height.div_ceil(shrink))
        .unwrap();
    let data = d.decode().unwrap();
    let data = if d.info().unwrap().pixel_format == jpeg_decoder::PixelFormat::L8 {
        data.iter().flat_map(|&v| [v, v, v]).collect()
    } else {
        data
    };
    (u32::from(w), u32::from(h), data)
}

#[test]
fn fixtures_refine_dc_and_ac() {
    for (label, bytes) in FILES {
        let scans = scans(bytes);
        assert!(
            scans.iter().any(|s| s.0 == 0 && s.2 > 0),
            "{label}: {scans:?}"
        );
        assert!(
            scans.iter().any(|s| s.0 > 0 && s.2 > 0),
            "{label}: {scans:?}"
        );
    }
}

#[test]
fn matches_the_general_decoder_at_half_and_quarter_scale() {
    for (label, bytes) in FILES {
        for shrink in [2u32, 4] {
            let label = format!("{label} at 1/{shrink}");
            let got = decode(bytes, shrink).unwrap_or_else(|| panic!("{label}: not decoded"));
            let (rw, rh, want) = reference(bytes, shrink as u16);
            assert_eq!((got.width, got.height), (rw, rh), "{label}");
            let diffs = || got.data.iter().zip(&want).map(|(a, b)| a.abs_diff(*b));
            let mean = diffs().map(f64::from).sum::<f64>() / want.len() as f64;
            let worst = diffs().max().unwrap();
            // Rounding and chroma upsampling differ slightly from
            // jpeg-decoder's (seen: mean up to 0.041, worst 3). Dropping the
            // last refinement bit of blocks in an end-of-band run gave mean
            // 0.115 or worst 8; a misplaced coefficient, a wrong block.
            assert!(
                mean < 0.06 && worst <= 4,
                "{label}: mean {mean:.3}, worst {worst}"
            );
        }
    }
}

#[test]
fn declines_what_it_does_not_decode() {
    let (_, progressive) = FILES[0];
    let mut baseline = Vec::new();
    jpeg_encoder::Encoder::new(&mut baseline, 90)
        .encode(&[128; 16 * 16 * 3], 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    assert!(decode(&baseline, 4).is_none());
    assert!(decode(progressive, 1).is_none());
    assert!(decode(progressive, 8).is_none());
    assert!(decode(&progressive[..progressive.len() / 2], 4).is_none());
}

#[test]
fn corrupt_and_truncated_files_never_panic() {
    let (_, original) = FILES[1];
    // A fixed linear congruential sequence: the same cases every run.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    for case in 0..600 {
        let mut bytes = original.to_vec();
        if case % 4 == 0 {
            bytes.truncate(next() % bytes.len());
        } else {
            for _ in 0..1 + case % 5 {
                let at = next() % bytes.len();
                bytes[at] = next() as u8;
            }
        }
        for shrink in [2, 4] {
            if let Some(image) = decode(&bytes, shrink) {
                assert_eq!(
                    image.data.len(),
                    image.width as usize * image.height as usize * 3
                );
            }
        }
    }
}

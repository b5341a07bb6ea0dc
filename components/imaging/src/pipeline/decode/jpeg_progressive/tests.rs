use super::super::jpeg_test_support::{damaged, differences, reference};
use super::*;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

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
    scan_data(bytes).into_iter().map(|s| s.band).collect()
}

/// A scan's (Ss, Se, Ah, Al) and where its entropy-coded data lies.
struct ScanData {
    band: (u8, u8, u8, u8),
    data: std::ops::Range<usize>,
}

fn scan_data(bytes: &[u8]) -> Vec<ScanData> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == 0xFF && bytes[i + 1] == 0xDA {
            let n = usize::from(bytes[i + 4]);
            let at = i + 5 + 2 * n;
            let band = (
                bytes[at],
                bytes[at + 1],
                bytes[at + 2] >> 4,
                bytes[at + 2] & 15,
            );
            let start = i + 2 + usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            // The data ends at the next marker other than a restart.
            let mut end = start;
            while !(bytes[end] == 0xFF
                && bytes[end + 1] != 0
                && !(0xD0..=0xD7).contains(&bytes[end + 1]))
            {
                end += 1;
            }
            out.push(ScanData {
                band,
                data: start..end,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    out
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

/// Our decode of `bytes` at 1/`shrink`, and its mean and worst difference
/// from the general decoder's.
fn against_reference(label: &str, bytes: &[u8], shrink: u32) -> (Image, f64, u8) {
    let got = decode(bytes, shrink).unwrap_or_else(|| panic!("{label}: not decoded"));
    let (rw, rh, want) = reference(bytes, shrink as u16);
    assert_eq!((got.width, got.height), (rw, rh), "{label}");
    let (mean, worst) = differences(&got.data, &want);
    (got, mean, worst)
}

#[test]
fn matches_the_general_decoder_at_half_scale() {
    for (label, bytes) in FILES {
        let (_, mean, worst) = against_reference(label, bytes, 2);
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

#[test]
fn matches_the_general_decoder_at_full_scale() {
    for (label, bytes) in FILES {
        let (_, mean, worst) = against_reference(label, bytes, 1);
        // Every bit read, every coefficient kept: the IDCTs' rounding and
        // nothing else.
        assert!(
            mean < 0.6 && worst <= 4,
            "{label}: mean {mean:.3}, worst {worst}"
        );
    }
}

#[test]
fn at_quarter_scale_the_last_bit_of_ac_terms_is_not_read() {
    for (label, bytes) in FILES {
        let (got, mean, worst) = against_reference(label, bytes, 4);
        // The kept AC terms are each within half a quantiser step of
        // libjpeg's: measured mean 0.38-0.89 levels, worst 6 (truncating
        // instead of taking the middle: mean up to 0.95).
        assert!(
            mean < 1.0 && worst <= 7,
            "{label}: mean {mean:.3}, worst {worst}"
        );

        // Overwriting the final AC refinement scans changes nothing here,
        // while at 1/2, where they are read, it does.
        let mut garbled = bytes.to_vec();
        let mut overwritten = 0;
        for ScanData { band, data } in scan_data(bytes) {
            let (ss, _, ah, al) = band;
            if ss > 0 && ah > 0 && al == 0 {
                overwritten += data.len();
                garbled[data].fill(0x5A);
            }
        }
        assert!(overwritten > 0, "{label}: no final AC refinement scan");
        let again = decode(&garbled, 4).unwrap_or_else(|| panic!("{label}: garbled not decoded"));
        assert!(again.data == got.data, "{label}: the last bits were read");
        assert!(
            decode(&garbled, 2).map(|i| i.data) != decode(bytes, 2).map(|i| i.data),
            "{label}: at 1/2 the last bits were not read"
        );
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
    assert!(decode(progressive, 3).is_none());
    assert!(decode(&progressive[..progressive.len() / 2], 4).is_none());
}

#[test]
fn corrupt_and_truncated_files_never_panic() {
    let (_, original) = FILES[1];
    for bytes in damaged(original, 600) {
        for shrink in [1, 2, 4] {
            if let Some(image) = decode(&bytes, shrink) {
                assert_eq!(
                    image.data.len(),
                    image.width as usize * image.height as usize * 3
                );
            }
        }
    }
}

/// A progressive file from `jpeg-encoder` (spectral selection, no
/// successive approximation), for the 1/8 cases.
fn photo(w: u16, h: u16) -> Vec<u8> {
    (0..u32::from(h))
        .flat_map(|y| (0..u32::from(w)).map(move |x| (x, y)))
        .flat_map(|(x, y)| {
            [
                (x * 255 / 200) as u8,
                (y * 255 / 120) as u8,
                ((x + y) % 64 * 4) as u8,
            ]
        })
        .collect()
}

fn encode(w: u16, h: u16, sampling: SamplingFactor, progressive: bool, restart: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 90);
    enc.set_progressive(progressive);
    enc.set_sampling_factor(sampling);
    if restart > 0 {
        enc.set_restart_interval(restart);
    }
    enc.encode(&photo(w, h), w, h, ColorType::Rgb).unwrap();
    out
}

#[test]
fn matches_the_general_decoder_at_one_eighth() {
    let cases = [
        (203, 97, SamplingFactor::R_4_2_0, 0),
        (203, 97, SamplingFactor::R_4_4_4, 0),
        (160, 120, SamplingFactor::R_4_2_2, 0),
        (161, 121, SamplingFactor::R_4_2_0, 3),
        (64, 64, SamplingFactor::R_4_4_4, 1),
    ];
    for (w, h, sampling, restart) in cases {
        let bytes = encode(w, h, sampling, true, restart);
        let ours = decode(&bytes, 8)
            .unwrap_or_else(|| panic!("{w}x{h} {sampling:?} rst {restart}: not decoded"));
        let (rw, rh, theirs) = reference(&bytes, 8);
        assert_eq!((ours.width, ours.height), (rw, rh));
        let (mean, max) = differences(&ours.data, &theirs);
        // Rounding differs by a level or two; the content is the same.
        assert!(
            mean < 1.5 && max <= 4,
            "{w}x{h} {sampling:?} rst {restart}: mean {mean:.2} max {max}"
        );
    }
}

#[test]
fn bands_the_scale_drops_are_stepped_over_exactly() {
    // jpeg-encoder's progressive files have no refinement scans, so at 1/4
    // a band past the kept 2x2 terms is not read, and nothing is lost.
    let bytes = encode(203, 97, SamplingFactor::R_4_2_0, true, 0);
    let dropped: Vec<_> = scan_data(&bytes)
        .into_iter()
        .filter(|s| matches!(s.band, (ss, _, 0, 0) if ss > 4))
        .collect();
    assert!(!dropped.is_empty(), "{:?}", scans(&bytes));
    let mut garbled = bytes.clone();
    for scan in dropped {
        garbled[scan.data].fill(0x5A);
    }
    let ours = decode(&bytes, 4).expect("decoded");
    let (_, _, theirs) = reference(&bytes, 4);
    let (mean, max) = differences(&ours.data, &theirs);
    assert!(mean < 0.06 && max <= 4, "mean {mean:.3} max {max}");
    assert!(decode(&garbled, 4).expect("garbled decoded").data == ours.data);
    // At 1/2 those bands hold kept terms, and are read.
    assert!(decode(&garbled, 2).map(|i| i.data) != decode(&bytes, 2).map(|i| i.data));
}

#[test]
fn declines_what_it_does_not_handle_at_one_eighth() {
    assert!(
        decode(&encode(64, 64, SamplingFactor::R_4_2_0, false, 0), 8).is_none(),
        "baseline"
    );
    let full = encode(64, 48, SamplingFactor::R_4_2_0, true, 0);
    for len in 0..full.len() {
        assert!(decode(&full[..len], 8).is_none(), "truncated at {len}");
    }
}

#[test]
fn drop_lowest_drops_as_many_set_bits_as_a_loop() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..2_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        for n in 0..16 {
            let mut looped = seed;
            for _ in 0..n {
                looped &= looped.wrapping_sub(1);
            }
            assert_eq!(drop_lowest(seed, n), looped, "{seed:#x} less {n}");
        }
    }
    assert_eq!(drop_lowest(0, 15), 0);
    assert_eq!(drop_lowest(0b1011, 2), 0b1000);
}

use super::super::jpeg_test_support::{differences, reference};
use super::*;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

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
        let ours = decode(&bytes)
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
fn declines_what_it_does_not_handle() {
    assert!(
        decode(&encode(64, 64, SamplingFactor::R_4_2_0, false, 0)).is_none(),
        "baseline"
    );
    let full = encode(64, 48, SamplingFactor::R_4_2_0, true, 0);
    for len in 0..full.len() {
        assert!(decode(&full[..len]).is_none(), "truncated at {len}");
    }
}

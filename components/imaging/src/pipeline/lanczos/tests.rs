use super::*;
use crate::lanes::random_numbers;
use fast_image_resize::{self as fr, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Width and height.
type Size = (u32, u32);

fn random_image(width: u32, height: u32, alpha: bool, seed: u64) -> Linear {
    let mut next = random_numbers(seed);
    let c = if alpha { 4 } else { 3 };
    let mut data = Vec::with_capacity((width * height) as usize * c);
    for _ in 0..width * height {
        let a = if alpha { (next() >> 48) as u16 } else { 65535 };
        for _ in 0..3 {
            // Premultiplied: colour never above alpha.
            let v = (next() >> 48) as u32 * u32::from(a) / 65535;
            data.push(v as u16);
        }
        if alpha {
            data.push(a);
        }
    }
    Linear {
        width,
        height,
        alpha,
        data,
    }
}

/// The same resampling by `fast_image_resize` (64-bit sums of finer weights).
fn reference(src: &Linear, crop: Crop, (w, h): (u32, u32)) -> Vec<u16> {
    let pixel_type = if src.alpha {
        PixelType::U16x4
    } else {
        PixelType::U16x3
    };
    let bytes = src.data.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let image = fr::images::Image::from_vec_u8(src.width, src.height, bytes, pixel_type).unwrap();
    let mut dst = fr::images::Image::new(w, h, pixel_type);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(crop.0, crop.1, crop.2, crop.3)
        .use_alpha(false);
    Resizer::new().resize(&image, &mut dst, &options).unwrap();
    dst.buffer()
        .chunks_exact(2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn agrees_with_fast_image_resize() {
    // Shrinking by steps under and over 2, enlarging, fractional crops, RGB
    // and premultiplied RGBA, sides that leave partial 16-sample chunks.
    let cases: &[(Size, Crop, Size)] = &[
        ((96, 60), (0.0, 0.0, 96.0, 60.0), (64, 40)),
        ((97, 61), (0.0, 0.0, 97.0, 61.0), (31, 17)),
        ((50, 40), (0.0, 0.0, 50.0, 40.0), (123, 97)),
        ((80, 70), (10.5, 3.25, 51.3, 40.7), (33, 29)),
        ((80, 70), (0.0, 5.0, 80.0, 60.0), (80, 45)),
        ((80, 70), (7.0, 0.0, 40.0, 70.0), (21, 70)),
        ((5, 4), (0.0, 0.0, 5.0, 4.0), (13, 11)),
        ((200, 3), (0.0, 0.0, 200.0, 3.0), (7, 1)),
    ];
    for (n, &((sw, sh), crop, out)) in cases.iter().enumerate() {
        for alpha in [false, true] {
            let src = random_image(sw, sh, alpha, 0x5EED + n as u64);
            let got = resample(&Source::Linear(&src), crop, out);
            let want = reference(&src, crop, out);
            assert_eq!((got.width, got.height), out);
            assert_eq!(got.data.len(), want.len());
            let diffs: Vec<i32> = got
                .data
                .iter()
                .zip(&want)
                .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
                .collect();
            let worst = diffs.iter().max().copied().unwrap_or(0);
            let mean = diffs.iter().sum::<i32>() as f64 / diffs.len() as f64;
            // 14-bit weights: each is off by up to half a unit of 2^14, a
            // few units of 65535 in a sum on random noise; under one step of
            // the 12-bit table back to sRGB (16 units). Opaque, that is at
            // most one level of sRGB (un-premultiplying faint pixels
            // magnifies both resizers' rounding alike).
            assert!(
                worst <= 16 && mean < 4.0,
                "case {n} alpha {alpha}: worst {worst}, mean {mean:.2}"
            );
            if alpha {
                continue;
            }
            let back = Linear { data: want, ..got };
            let (ours, theirs) = (
                resample(&Source::Linear(&src), crop, out).to_srgb(),
                back.to_srgb(),
            );
            let off = ours.data.iter().zip(&theirs.data).filter(|(a, b)| a != b);
            assert!(
                off.clone().all(|(&a, &b)| a.abs_diff(b) == 1),
                "case {n} alpha {alpha}: an sRGB value off by more than 1"
            );
            assert!(
                off.count() * 50 < ours.data.len(),
                "case {n} alpha {alpha}: over 2% of sRGB values differ"
            );
        }
    }
}

#[test]
fn flat_stays_exactly_flat() {
    // Weights sum to exactly 2^14 at every output, edges included.
    for &(value, alpha) in &[(65535u16, false), (1234, false), (65535, true), (20, true)] {
        let c = if alpha { 4 } else { 3 };
        let src = Linear {
            width: 37,
            height: 23,
            alpha,
            data: vec![value; 37 * 23 * c],
        };
        for out in [(11, 7), (64, 50), (37, 9)] {
            let got = resample(&Source::Linear(&src), (0.0, 0.0, 37.0, 23.0), out);
            assert!(got.data.iter().all(|&v| v == value), "{value} to {out:?}");
        }
    }
}

#[test]
fn whole_pixels_at_scale_one_are_copied() {
    let src = random_image(20, 10, true, 7);
    let got = resample(&Source::Linear(&src), (3.0, 2.0, 12.0, 6.0), (12, 6));
    for y in 0..6 {
        let from = ((y + 2) * 20 + 3) * 4;
        assert_eq!(
            &got.data[y * 48..(y + 1) * 48],
            &src.data[from..from + 48],
            "row {y}"
        );
    }
}

#[test]
fn lines_keep_their_light() {
    // One-pixel black and white columns shrunk by 1.5: in linear light half
    // the light remains (32768), where gamma-space resampling would darken.
    let row: Vec<u16> = (0..90)
        .flat_map(|x| [if x % 2 == 0 { 0 } else { 65535 }; 3])
        .collect();
    let src = Linear {
        width: 90,
        height: 4,
        alpha: false,
        data: row.repeat(4),
    };
    let got = resample(&Source::Linear(&src), (0.0, 0.0, 90.0, 4.0), (60, 4));
    let mean = got.data.iter().map(|&v| f64::from(v)).sum::<f64>() / got.data.len() as f64;
    assert!((mean - 32767.5).abs() < 200.0, "mean {mean}");
}

#[test]
fn tiny_sources_and_slivers_of_a_pixel_stay_flat() {
    // Fewer source pixels than taps, a crop a fraction of a pixel wide,
    // shrinking 1000 to 1: every read stays inside the rows, and the
    // weights still sum to one.
    let cases: &[(Size, Crop, Size)] = &[
        ((1, 1), (0.0, 0.0, 1.0, 1.0), (9, 4)),
        ((2, 1), (0.0, 0.0, 2.0, 1.0), (50, 3)),
        ((3, 2), (1.25, 0.5, 0.3, 0.2), (7, 5)),
        ((1000, 2), (0.0, 0.0, 1000.0, 2.0), (1, 1)),
        ((9, 9), (8.5, 8.5, 0.5, 0.5), (3, 3)),
    ];
    for &((w, h), crop, out) in cases {
        for alpha in [false, true] {
            let c = if alpha { 4 } else { 3 };
            let src = Linear {
                width: w,
                height: h,
                alpha,
                data: vec![40_000; (w * h) as usize * c],
            };
            let got = resample(&Source::Linear(&src), crop, out);
            assert_eq!(got.data.len(), (out.0 * out.1) as usize * c);
            assert!(
                got.data.iter().all(|&v| v == 40_000),
                "{w}x{h} {crop:?} to {out:?}"
            );
        }
    }
}

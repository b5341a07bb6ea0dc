//! AVIF input against libavif, on real files: a corpus photo and a PNG with
//! alpha, encoded by avifenc (libaom) at every subsampling (4:2:0, 4:2:2,
//! 4:4:4, monochrome), 8, 10 and 12 bits, limited and full range, the BT.601,
//! BT.2020 and identity (GBR) matrices, straight and premultiplied alpha, and
//! with irot/imir display transforms (`tests/avif/make_fixtures.py`). Each is
//! decoded at full size and must match avifdec's decode of the same file
//! (turned as irot/imir say) pixel for pixel within a level or so: a wrong
//! matrix, range, bit depth, chroma position or orientation is off by far
//! more.

mod fixtures;

use imaging::{probe, transform, Format, Limits, Options};
use std::path::PathBuf;

/// Mean absolute difference allowed per channel, in 8-bit levels.
const MEAN: f64 = 1.0;
/// Largest single difference: chroma upsampling and rounding differ slightly
/// from libavif's at sharp colour edges.
const WORST: u8 = 12;

#[test]
fn avif_inputs_decode_like_libavif() {
    let cases = fixtures();
    assert_eq!(cases.len(), 12, "{cases:?}");
    let mut failures = Vec::new();
    for (input, reference) in &cases {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(input).unwrap();
        let out = transform(&bytes, &Options::default(), Format::Png, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (got_size, got) = rgba(&out.bytes);
        let (want_size, want) = rgba(&std::fs::read(reference).unwrap());
        let info = probe(&bytes, &Limits::default()).unwrap();
        assert_eq!(
            ((info.width, info.height), got_size),
            (want_size, want_size),
            "{name}: displayed size"
        );
        let (mean, worst) = compare(&got, &want);
        println!("{name}: mean difference {mean:.2?}, worst {worst}");
        if mean.iter().any(|&m| m > MEAN) || worst > WORST {
            failures.push(format!("{name}: mean {mean:.2?}, worst {worst}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Per-channel mean absolute difference (colour weighted by alpha, since
/// colour under alpha 0 is invisible) and the largest weighted difference.
fn compare(got: &[u8], want: &[u8]) -> ([f64; 4], u8) {
    let mut sum = [0f64; 4];
    let mut worst = 0u8;
    for (g, w) in got.chunks_exact(4).zip(want.chunks_exact(4)) {
        let alpha = f64::from(w[3]) / 255.0;
        for c in 0..4 {
            let weight = if c == 3 { 1.0 } else { alpha };
            let d = f64::from(g[c].abs_diff(w[c])) * weight;
            sum[c] += d;
            worst = worst.max(d.round() as u8);
        }
    }
    let n = (got.len() / 4) as f64;
    (sum.map(|s| s / n), worst)
}

/// A PNG as RGBA8, with its size.
fn rgba(png_bytes: &[u8]) -> ((u32, u32), Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut data = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut data).unwrap();
    data.truncate(frame.buffer_size());
    let pixels = match frame.color_type {
        png::ColorType::Rgba => data,
        png::ColorType::Rgb => data
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => data
            .chunks(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Grayscale => data.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    ((frame.width, frame.height), pixels)
}

/// Makes the fixtures (a few seconds) into a fresh temp dir and lists them.
fn fixtures() -> Vec<(PathBuf, PathBuf)> {
    let corpus = fixtures::corpus();
    let needs = "scripts/install-deps installs Pillow and libavif-bin";
    fixtures::make("avif/make_fixtures.py", "avif", needs, |out| {
        vec![
            corpus.join("FreshFlower.jpg"),
            corpus.join("Gulp.png"),
            out.to_path_buf(),
        ]
    })
    .into_iter()
    .map(|paths| (paths[0].clone(), paths[1].clone()))
    .collect()
}

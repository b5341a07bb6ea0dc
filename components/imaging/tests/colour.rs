//! Colour management against LittleCMS, on real inputs: a corpus photo made
//! Adobe RGB and ProPhoto RGB (colord-data's profiles) and Display P3 (a
//! profile `moxcms` writes, as no Debian package ships one), embedded in JPEG,
//! PNG, WebP and AVIF (and Display P3 once more as AVIF `nclx` code points,
//! no profile, and again with those only in the AV1 sequence header), and CMYK
//! (JPEG with an embedded FOGRA29 profile, with Ghostscript's LUT-based
//! press profile; Adobe-inverted and plain without a profile, which get the
//! bundled FOGRA39 one; CMYK references at perceptual intent), by
//! `tests/colour/make_fixtures.py` (Pillow). Each 320 px thumbnail must match,
//! in mean colour per channel within 3 levels, the thumbnail of LittleCMS'
//! sRGB conversion of the same decoded pixels; and each case must be one that
//! ignoring the profile would fail by far more.

mod fixtures;

use imaging::{transform, Format, Limits, Options};
use std::path::{Path, PathBuf};

const TOLERANCE: f64 = 3.0;
/// How far ignoring the profile must move some channel's mean, for a case to
/// prove anything.
const INFORMATIVE: f64 = 8.0;

#[derive(Debug)]
struct Case {
    input: PathBuf,
    reference: PathBuf,
    untagged: PathBuf,
}

#[test]
fn tagged_inputs_render_like_a_colour_managed_reference() {
    let cases = fixtures();
    assert_eq!(cases.len(), 18, "{cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.input.file_name().unwrap().to_string_lossy();
        let want = mean(&thumb(&case.reference, Format::Png));
        let ignored = mean(&thumb(&case.untagged, Format::Png));
        let spread = distance(&want, &ignored);
        assert!(
            spread > INFORMATIVE,
            "{name}: ignoring the profile moves the mean by only {spread:.1}"
        );
        for format in [Format::Jpeg, Format::Png] {
            let got = mean(&thumb(&case.input, format));
            let off = distance(&got, &want);
            println!("{name} → {format}: mean {got:.1?}, reference {want:.1?}, off by {off:.2} (ignored: {spread:.1})");
            if off > TOLERANCE {
                failures.push(format!("{name} → {format}: {got:.1?} vs {want:.1?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A 320 px wide thumbnail, decoded back to RGB.
fn thumb(path: &Path, format: Format) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let options: Options = "width=320".parse().unwrap();
    let out = transform(&bytes, &options, format, &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(out.width, 320);
    match format {
        Format::Png => {
            let mut decoder = png::Decoder::new(std::io::Cursor::new(&out.bytes[..]));
            decoder.set_transformations(png::Transformations::EXPAND);
            let mut reader = decoder.read_info().unwrap();
            let mut data = vec![0; reader.output_buffer_size().unwrap()];
            let frame = reader.next_frame(&mut data).unwrap();
            assert_eq!(frame.color_type, png::ColorType::Rgb);
            data.truncate(frame.buffer_size());
            data
        }
        Format::Jpeg => {
            let mut decoder = jpeg_decoder::Decoder::new(&out.bytes[..]);
            let data = decoder.decode().unwrap();
            assert_eq!(
                decoder.info().unwrap().pixel_format,
                jpeg_decoder::PixelFormat::RGB24
            );
            data
        }
        other => unreachable!("{other}"),
    }
}

fn mean(rgb: &[u8]) -> [f64; 3] {
    let mut sum = [0u64; 3];
    for p in rgb.chunks_exact(3) {
        (0..3).for_each(|i| sum[i] += u64::from(p[i]));
    }
    let n = (rgb.len() / 3) as f64;
    sum.map(|s| s as f64 / n)
}

/// The largest per-channel difference.
fn distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).abs()).fold(0.0, f64::max)
}

/// Makes the fixtures (a few seconds) into a fresh temp dir and lists them.
fn fixtures() -> Vec<Case> {
    let photo = fixtures::corpus().join("FreshFlower.jpg");
    let needs = "scripts/install-deps installs Pillow, colord-data, libgs-common and libavif-bin";
    fixtures::make("colour/make_fixtures.py", "colour", needs, |out| {
        let p3 = out.join("DisplayP3.icc");
        let icc = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        std::fs::write(&p3, icc).unwrap();
        vec![photo, out.to_path_buf(), p3]
    })
    .into_iter()
    .map(|paths| Case {
        input: paths[0].clone(),
        reference: paths[1].clone(),
        untagged: paths[2].clone(),
    })
    .collect()
}

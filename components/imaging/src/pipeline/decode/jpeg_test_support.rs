//! What the reduced-scale JPEG decoders' tests share: `jpeg-decoder` as the
//! reference, how far two images differ, and a fixed set of damaged files.

/// `jpeg-decoder`'s RGB output at 1/`shrink` (libjpeg's reduced IDCTs).
pub fn reference(bytes: &[u8], shrink: u16) -> (u32, u32, Vec<u8>) {
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

/// The mean and the largest difference between two equally long images.
pub fn differences(a: &[u8], b: &[u8]) -> (f64, u8) {
    let diffs = || a.iter().zip(b).map(|(x, y)| x.abs_diff(*y));
    let mean = diffs().map(f64::from).sum::<f64>() / b.len() as f64;
    (mean, diffs().max().unwrap_or(0))
}

/// `cases` damaged copies of `original`: every fourth truncated, the others
/// with 1–5 bytes overwritten. A fixed linear congruential sequence, so the
/// same cases every run.
pub fn damaged(original: &[u8], cases: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..cases).map(move |case| {
        let mut bytes = original.to_vec();
        if case % 4 == 0 {
            bytes.truncate(next() % bytes.len());
        } else {
            for _ in 0..1 + case % 5 {
                let at = next() % bytes.len();
                bytes[at] = next() as u8;
            }
        }
        bytes
    })
}

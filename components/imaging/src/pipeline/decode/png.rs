//! PNG via the `png` crate, expanded to 8-bit RGB or RGBA.
//!
//! A PNG cannot be decoded at reduced scale, but it can be reduced while it
//! is decoded: with a box `factor` of 2 or more, rows are averaged in linear
//! light into `factor`×`factor` blocks as they come (colour weighted by
//! alpha), so the full-size image is never held — the memory, page faults and
//! second pass that dominate a large PNG's thumbnail. Interlaced files are
//! decoded whole.

use crate::pipeline::srgb::tables;
use crate::pipeline::Image;
use crate::{Error, Format};
use png::{ColorType, Transformations};

pub(super) fn decode(bytes: &[u8], factor: u32) -> Result<Image, Error> {
    let err = |e: png::DecodingError| Error::decode(Format::Png, e);
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    // Stored originals are addressed by their hash, so the chunk CRCs and
    // the zlib checksum guard nothing here; checking them costs ~5%.
    decoder.ignore_checksums(true);
    let mut reader = decoder.read_info().map_err(err)?;
    if factor >= 2 && !reader.info().interlaced {
        return boxed(reader, factor);
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::decode(Format::Png, "image too large"))?;
    let mut data = vec![0; size];
    let frame = reader.next_frame(&mut data).map_err(err)?;
    data.truncate(frame.buffer_size());
    let (width, height) = (frame.width, frame.height);
    Ok(match frame.color_type {
        ColorType::Rgb => Image {
            width,
            height,
            alpha: false,
            data,
        },
        ColorType::Rgba => Image {
            width,
            height,
            alpha: true,
            data,
        },
        ColorType::Grayscale => Image::from_gray(width, height, data),
        ColorType::GrayscaleAlpha => Image::from_gray_alpha(width, height, data),
        ColorType::Indexed => return Err(Error::decode(Format::Png, "palette was not expanded")),
    })
}

/// Rows averaged into `factor`×`factor` blocks while decoding (edge blocks
/// average the pixels they have): an image `factor` times smaller.
fn boxed<R: std::io::BufRead + std::io::Seek>(
    mut reader: png::Reader<R>,
    factor: u32,
) -> Result<Image, Error> {
    let err = |e: png::DecodingError| Error::decode(Format::Png, e);
    let (color, _) = reader.output_color_type();
    let (channels, has_alpha) = match color {
        ColorType::Grayscale => (1, false),
        ColorType::GrayscaleAlpha => (2, true),
        ColorType::Rgb => (3, false),
        ColorType::Rgba => (4, true),
        ColorType::Indexed => return Err(Error::decode(Format::Png, "palette was not expanded")),
    };
    let info = reader.info();
    let (w, h, f) = (info.width as usize, info.height as usize, factor as usize);
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    let out_channels = if has_alpha { 4 } else { 3 };
    let mut data = Vec::with_capacity(ow * oh * out_channels);
    // Per block: Σ linear × alpha for r, g, b, and Σ alpha.
    let mut sums = vec![0u64; ow * 4];
    let mut rows = 0;
    while let Some(row) = reader.next_row().map_err(err)? {
        let row = row.data();
        if row.len() < w * channels {
            return Err(Error::decode(Format::Png, "short row"));
        }
        match channels {
            1 => add_row::<1>(&mut sums, row, w, f),
            2 => add_row::<2>(&mut sums, row, w, f),
            3 => add_row::<3>(&mut sums, row, w, f),
            _ => add_row::<4>(&mut sums, row, w, f),
        }
        rows += 1;
        if rows == f {
            emit(&mut data, &mut sums, rows, w, f, has_alpha);
            rows = 0;
        }
    }
    if rows > 0 {
        emit(&mut data, &mut sums, rows, w, f, has_alpha);
    }
    if data.len() != ow * oh * out_channels {
        return Err(Error::decode(Format::Png, "missing rows"));
    }
    Ok(Image {
        width: ow as u32,
        height: oh as u32,
        alpha: has_alpha,
        data,
    })
}

/// Adds one row of `C`-channel pixels (grey, grey + alpha, RGB, RGBA) to
/// its blocks' sums. Generic over `C` so the per-pixel loop has no branches.
fn add_row<const C: usize>(sums: &mut [u64], row: &[u8], w: usize, f: usize) {
    let lut = &tables().to_linear;
    let pixels = row[..w * C].chunks(f * C);
    for (sum, span) in sums.chunks_exact_mut(4).zip(pixels) {
        // A block's share of one row fits u32 (64 pixels of 65535 × 255).
        let mut part = [0u32; 4];
        for px in span.chunks_exact(C) {
            let a = if C == 2 || C == 4 {
                u32::from(px[C - 1])
            } else {
                255
            };
            let rgb = if C >= 3 {
                [px[0], px[1], px[2]]
            } else {
                [px[0]; 3]
            };
            for i in 0..3 {
                part[i] += u32::from(lut[usize::from(rgb[i])]) * a;
            }
            part[3] += a;
        }
        for (s, p) in sum.iter_mut().zip(part) {
            *s += u64::from(p);
        }
    }
}

/// Appends one row of blocks as straight 8-bit sRGB (alpha rounded) and
/// clears the sums.
fn emit(data: &mut Vec<u8>, sums: &mut [u64], rows: usize, w: usize, f: usize, alpha: bool) {
    let to_srgb = &tables().to_srgb;
    for (ox, sum) in sums.chunks_exact_mut(4).enumerate() {
        let n = (rows * (((ox + 1) * f).min(w) - ox * f)) as u64;
        // Straight colour: Σ(linear × alpha) / Σ alpha, rounded, as 16-bit
        // linear. Divided in f64: exact here (sums stay far below 2^53, so a
        // correctly rounded quotient floors like the integer one), and
        // several times faster than 64-bit integer division in wasm.
        let weight = sum[3] as f64;
        let colour = |v: u64| {
            let linear = if sum[3] == 0 {
                0
            } else {
                (((v + sum[3] / 2) as f64 / weight) as u64).min(65535)
            };
            to_srgb[(linear >> 4) as usize]
        };
        let px = [
            colour(sum[0]),
            colour(sum[1]),
            colour(sum[2]),
            ((sum[3] + n / 2) / n) as u8,
        ];
        data.extend_from_slice(&px[..if alpha { 4 } else { 3 }]);
        sum.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(w: u32, h: u32, color: ColorType, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        if color == ColorType::Indexed {
            enc.set_palette(vec![10, 200, 30, 250, 250, 250]);
        }
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn boxed_decode_keeps_flat_colours_in_every_colour_type() {
        let (w, h) = (50, 30);
        let n = (w * h) as usize;
        let cases: [(ColorType, Vec<u8>, &[u8]); 5] = [
            (ColorType::Rgb, [10, 200, 30].repeat(n), &[10, 200, 30]),
            (
                ColorType::Rgba,
                [10, 200, 30, 255].repeat(n),
                &[10, 200, 30, 255],
            ),
            (ColorType::Grayscale, vec![77; n], &[77, 77, 77]),
            (
                ColorType::GrayscaleAlpha,
                [77, 255].repeat(n),
                &[77, 77, 77, 255],
            ),
            (ColorType::Indexed, vec![0; n], &[10, 200, 30]),
        ];
        for (color, data, want) in cases {
            let image = decode(&encode(w, h, color, &data), 4).unwrap();
            assert_eq!((image.width, image.height), (13, 8), "{color:?}");
            assert!(
                image.data.chunks_exact(want.len()).all(|p| p == want),
                "{color:?}: {:?}",
                &image.data[..8]
            );
        }
    }

    #[test]
    fn boxed_decode_averages_light_and_weights_colour_by_alpha() {
        // Black/white columns → half the light (sRGB 188); a block half
        // transparent (green, invisible) and half opaque red → red, alpha 128.
        let stripes: Vec<u8> = (0..16)
            .flat_map(|i| [if i % 2 == 0 { 0 } else { 255 }; 3])
            .collect();
        let image = decode(&encode(4, 4, ColorType::Rgb, &stripes), 2).unwrap();
        assert_eq!(image.data, [188; 12]);
        let px: Vec<u8> = (0..4)
            .flat_map(|i| {
                if i % 2 == 0 {
                    [0, 255, 0, 0]
                } else {
                    [255, 0, 0, 255]
                }
            })
            .collect();
        let image = decode(&encode(2, 2, ColorType::Rgba, &px), 2).unwrap();
        assert_eq!(image.data, [255, 0, 0, 128]);
    }
}

//! PNG via the `png` crate, expanded to 8-bit RGB or RGBA.
//!
//! A PNG cannot be decoded at reduced scale, but it can be reduced while it
//! is decoded: with a box `factor` of 2 or more, rows go into a
//! [`BoxAverage`] as they come, so the full-size image is never held (the
//! memory, page faults and second pass that dominate a large PNG's
//! thumbnail), and the result is already the linear light the Lanczos step
//! resamples. Interlaced files are decoded whole.

use crate::pipeline::box_average::BoxAverage;
use crate::pipeline::decoded::Decoded;
use crate::pipeline::Image;
use crate::{Error, Format};
use png::{ColorType, Transformations};

pub(super) fn decode(bytes: &[u8], factor: u32) -> Result<Decoded, Error> {
    let err = |e: png::DecodingError| Error::decode(Format::Png, e);
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    // Stored originals are addressed by their hash, so the chunk CRCs and
    // the zlib checksum guard nothing here; checking them costs ~5%.
    decoder.ignore_checksums(true);
    let mut reader = decoder.read_info().map_err(err)?;
    if factor >= 2 && !reader.info().interlaced {
        return boxed(reader, factor).map(Decoded::from);
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Error::decode(Format::Png, "image too large"))?;
    let mut data = vec![0; size];
    let frame = reader.next_frame(&mut data).map_err(err)?;
    data.truncate(frame.buffer_size());
    let (width, height) = (frame.width, frame.height);
    Ok(Decoded::from(match frame.color_type {
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
    }))
}

/// Rows averaged into `factor`×`factor` blocks while decoding.
fn boxed<R: std::io::BufRead + std::io::Seek>(
    mut reader: png::Reader<R>,
    factor: u32,
) -> Result<crate::pipeline::linear::Linear, Error> {
    let err = |e: png::DecodingError| Error::decode(Format::Png, e);
    let channels = match reader.output_color_type().0 {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => return Err(Error::decode(Format::Png, "palette was not expanded")),
    };
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    let mut average = BoxAverage::new(width, height, channels, factor);
    while let Some(row) = reader.next_row().map_err(err)? {
        let row = row.data();
        if row.len() < width as usize * channels {
            return Err(Error::decode(Format::Png, "short row"));
        }
        average.add_row(row);
    }
    average
        .finish()
        .ok_or_else(|| Error::decode(Format::Png, "missing rows"))
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
            let image = decode(&encode(w, h, color, &data), 4).unwrap().into_srgb();
            assert_eq!((image.width, image.height), (13, 8), "{color:?}");
            assert!(
                image.data.chunks_exact(want.len()).all(|p| p == want),
                "{color:?}: {:?}",
                &image.data[..8]
            );
        }
    }
}

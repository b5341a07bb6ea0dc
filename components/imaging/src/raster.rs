//! TIFF, BMP, ICO and QOI through the `image` crate's codecs (TIFF: the
//! first page; ICO: its largest entry), to 8-bit RGB(A). The decoders get
//! `image` limits before any pixel is read: sides within `max_side`, and
//! allocations within the 9 bytes a pixel `max_pixels` is sized for (a
//! 16-bit RGBA image needs 8), so a file whose header understates its
//! pixels still cannot allocate more.

use crate::pipeline::image::Image;
use crate::{Error, Format, Limits};
use image::codecs::{bmp::BmpDecoder, ico::IcoDecoder, qoi::QoiDecoder, tiff::TiffDecoder};
use image::{ColorType, ImageDecoder, ImageError};
use std::io::Cursor;

/// Bytes a pixel the decode may take, as for AVIF: what `max_pixels` is sized for.
const BYTES_PER_PIXEL: u64 = 9;

/// The format's decoder, its header read.
pub(crate) fn decoder(bytes: &[u8], format: Format) -> Result<Box<dyn ImageDecoder + '_>, Error> {
    let cursor = Cursor::new(bytes);
    let err = |e| error(format, e);
    Ok(match format {
        Format::Tiff => Box::new(TiffDecoder::new(cursor).map_err(err)?),
        Format::Bmp => Box::new(BmpDecoder::new(cursor).map_err(err)?),
        Format::Ico => Box::new(IcoDecoder::new(cursor).map_err(err)?),
        Format::Qoi => Box::new(QoiDecoder::new(cursor).map_err(err)?),
        _ => return Err(Error::decode(format, "not read by the image crate")),
    })
}

/// The embedded ICC profile (TIFF's tag 34675), if any.
pub(crate) fn icc(bytes: &[u8], format: Format) -> Option<Vec<u8>> {
    decoder(bytes, format).ok()?.icc_profile().ok()?
}

/// Decodes the whole image to 8-bit RGB or RGBA, in stored orientation.
pub(crate) fn decode(bytes: &[u8], format: Format, limits: &Limits) -> Result<Image, Error> {
    let mut decoder = decoder(bytes, format)?;
    let (width, height) = decoder.dimensions();
    let budget = limits.max_pixels.saturating_mul(BYTES_PER_PIXEL);
    let mut own = image::Limits::default();
    own.max_image_width = Some(limits.max_side);
    own.max_image_height = Some(limits.max_side);
    own.max_alloc = Some(budget);
    decoder.set_limits(own).map_err(|e| error(format, e))?;
    let color = decoder.color_type();
    let total = decoder.total_bytes();
    if total > budget {
        return Err(Error::PixelLimit {
            what: "input",
            width: width.into(),
            height: height.into(),
            limit: format!("{total} bytes to decode, max {budget}"),
        });
    }
    let mut data = vec![0u8; total as usize];
    decoder
        .read_image_boxed(&mut data)
        .map_err(|e| error(format, e))?;
    let unsupported = || Error::Unsupported {
        reason: format!("{format} with {color:?} pixels"),
    };
    match color {
        ColorType::L16 | ColorType::La16 | ColorType::Rgb16 | ColorType::Rgba16 => {
            narrow::<2>(&mut data, |s| {
                let v = u32::from(u16::from_ne_bytes([s[0], s[1]]));
                ((v * 255 + 32767) / 65535) as u8
            })
        }
        ColorType::Rgb32F | ColorType::Rgba32F => narrow::<4>(&mut data, |s| {
            let v = f32::from_ne_bytes([s[0], s[1], s[2], s[3]]);
            (v.clamp(0.0, 1.0) * 255.0).round() as u8
        }),
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8 => {}
        _ => return Err(unsupported()),
    }
    Ok(match color.channel_count() {
        1 => Image::from_gray(width, height, data),
        2 => Image::from_gray_alpha(width, height, data),
        3 | 4 => Image {
            width,
            height,
            alpha: color.has_alpha(),
            data,
        },
        _ => return Err(unsupported()),
    })
}

/// Replaces each `N`-byte sample with one byte, in place (the write index
/// never passes the read index), so no second buffer is held. The spare
/// capacity is kept: shrinking would copy into a new allocation while the
/// old one is still held, the peak this avoids.
fn narrow<const N: usize>(data: &mut Vec<u8>, to8: impl Fn(&[u8]) -> u8) {
    let samples = data.len() / N;
    for i in 0..samples {
        data[i] = to8(&data[i * N..i * N + N]);
    }
    data.truncate(samples);
}

/// `image`'s errors as ours: a broken limit is 422 `pixel_limit`, a
/// variant of the format the codec does not read is 415, the rest 422.
fn error(format: Format, e: ImageError) -> Error {
    match e {
        ImageError::Limits(l) => Error::PixelLimit {
            what: "input",
            width: 0,
            height: 0,
            limit: l.to_string(),
        },
        ImageError::Unsupported(u) => Error::Unsupported {
            reason: format!("{format}: {u}"),
        },
        other => Error::decode(format, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrows_16_bit_samples_to_the_nearest_8_bit_level() {
        let mut data: Vec<u8> = [0u16, 65535, 257 * 128, 257 * 128 + 128, 255]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        narrow::<2>(&mut data, |s| {
            let v = u32::from(u16::from_ne_bytes([s[0], s[1]]));
            ((v * 255 + 32767) / 65535) as u8
        });
        assert_eq!(data, [0, 255, 128, 128, 1]);
    }
}

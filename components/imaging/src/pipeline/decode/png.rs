//! PNG via the `png` crate, expanded to 8-bit RGB or RGBA.

use crate::pipeline::Image;
use crate::{Error, Format};
use png::{ColorType, Transformations};

pub(super) fn decode(bytes: &[u8]) -> Result<Image, Error> {
    let err = |e: png::DecodingError| Error::decode(Format::Png, e);
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(err)?;
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

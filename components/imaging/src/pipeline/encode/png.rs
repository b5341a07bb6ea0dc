//! PNG: 8-bit RGB or RGBA, adaptive filtering, balanced compression.

use crate::pipeline::Image;
use crate::{Error, Format};

pub(super) fn encode(image: &Image) -> Result<Vec<u8>, Error> {
    let err = |e: png::EncodingError| Error::encode(Format::Png, e);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(if image.alpha {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    });
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(&image.data).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

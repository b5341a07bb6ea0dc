//! JPEG: baseline and progressive files through the own decoders
//! (`jpeg_scaled.rs`, `jpeg_progressive.rs`, at full or reduced scale);
//! what they refuse (CMYK, 12-bit, arithmetic coding, a broken stream)
//! through `jpeg-decoder`, DCT-scaled too. CMYK is converted to sRGB here,
//! at the reduced scale, through its profile.

use crate::pipeline::{Image, Job};
use crate::{colour, Error, Format};
use jpeg_decoder::{Decoder, PixelFormat};

pub(super) fn decode(bytes: &[u8], job: &Job<'_>, shrink: u32) -> Result<Image, Error> {
    let header = &job.header;
    let err = |e: jpeg_decoder::Error| Error::decode(Format::Jpeg, e);
    if let Some(image) = super::jpeg_scaled::decode(bytes, shrink) {
        return Ok(image);
    }
    if let Some(image) = super::jpeg_progressive::decode(bytes, shrink) {
        return Ok(image);
    }
    let mut decoder = Decoder::new(bytes);
    decoder.read_info().map_err(err)?;
    if shrink > 1 {
        let w = header.width.div_ceil(shrink) as u16;
        let h = header.height.div_ceil(shrink) as u16;
        decoder.scale(w, h).map_err(err)?;
    }
    let data = decoder.decode().map_err(err)?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::decode(Format::Jpeg, "no frame"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let pixels = width as usize * height as usize;
    let image = match info.pixel_format {
        PixelFormat::RGB24 => Image {
            width,
            height,
            alpha: false,
            data,
        },
        PixelFormat::L8 => Image::from_gray(width, height, data),
        PixelFormat::L16 => {
            Image::from_gray(width, height, data.chunks_exact(2).map(|p| p[0]).collect())
        }
        PixelFormat::CMYK32 => Image {
            width,
            height,
            alpha: false,
            data: cmyk(bytes, data, job)?,
        },
    };
    if image.data.len() != pixels * 3 {
        return Err(Error::decode(
            Format::Jpeg,
            "pixel data does not match the frame size",
        ));
    }
    Ok(image)
}

/// `jpeg-decoder` inverts every CMYK sample, which suits Adobe files (stored
/// inverted, 0 = full ink); files without an Adobe APP14 segment store plain
/// ink amounts and are inverted back.
fn cmyk(bytes: &[u8], mut ink: Vec<u8>, job: &Job<'_>) -> Result<Vec<u8>, Error> {
    if !colour::jpeg_has_adobe(bytes) {
        ink.iter_mut().for_each(|v| *v = 255 - *v);
    }
    colour::cmyk_to_srgb(&ink, job.profile.as_ref()).map_err(|e| Error::decode(Format::Jpeg, e))
}

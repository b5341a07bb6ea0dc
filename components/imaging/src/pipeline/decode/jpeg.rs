//! JPEG via `jpeg-decoder`, with DCT-domain downscaling.

use crate::pipeline::Image;
use crate::probe::Header;
use crate::{Error, Format};
use jpeg_decoder::{Decoder, PixelFormat};

pub(super) fn decode(bytes: &[u8], header: &Header<'_>, shrink: u32) -> Result<Image, Error> {
    let err = |e: jpeg_decoder::Error| Error::decode(Format::Jpeg, e);
    if shrink == 8 {
        if let Some(image) = super::jpeg_dc::decode(bytes) {
            return Ok(image);
        }
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
            data: cmyk_to_rgb(&data),
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

/// Naive CMYK (as delivered by the decoder, 0 = no ink) to RGB.
fn cmyk_to_rgb(cmyk: &[u8]) -> Vec<u8> {
    cmyk.chunks_exact(4)
        .flat_map(|p| {
            let k = 255 - u16::from(p[3]);
            let ch = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
            [ch(p[0]), ch(p[1]), ch(p[2])]
        })
        .collect()
}

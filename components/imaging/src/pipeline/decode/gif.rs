//! GIF via the `gif` crate: the first frame, composed on a transparent
//! canvas of the logical screen size. Later frames of an animation are ignored.

use crate::pipeline::Image;
use crate::{Error, Format};

pub(super) fn decode(bytes: &[u8]) -> Result<Image, Error> {
    let err = |e: gif::DecodingError| Error::decode(Format::Gif, e);
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(bytes).map_err(err)?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let frame = decoder
        .read_next_frame()
        .map_err(err)?
        .ok_or_else(|| Error::decode(Format::Gif, "no frame"))?;
    let (fw, fh) = (usize::from(frame.width), usize::from(frame.height));
    if frame.buffer.len() < fw * fh * 4 {
        return Err(Error::decode(Format::Gif, "truncated frame"));
    }
    let mut data = vec![0u8; width as usize * height as usize * 4];
    let (left, top) = (usize::from(frame.left), usize::from(frame.top));
    // A frame may lie partly or wholly outside the screen: clip it.
    let cols = fw.min((width as usize).saturating_sub(left));
    let rows = if cols == 0 {
        0
    } else {
        fh.min((height as usize).saturating_sub(top))
    };
    for y in 0..rows {
        let src = &frame.buffer[y * fw * 4..(y * fw + cols) * 4];
        let at = ((top + y) * width as usize + left) * 4;
        data[at..at + cols * 4].copy_from_slice(src);
    }
    Ok(Image {
        width,
        height,
        alpha: true,
        data,
    })
}

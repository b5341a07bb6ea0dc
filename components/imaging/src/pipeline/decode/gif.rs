//! GIF via the `gif` crate: the first frame, composed on a transparent
//! canvas of the logical screen size. Later frames of an animation are ignored.
//!
//! With a box `factor` of 2 or more, a frame that is not interlaced is read
//! as palette indices one row at a time and each canvas row goes straight
//! into a [`BoxAverage`], as a PNG's rows do: the full-size RGBA canvas (and
//! the gif crate's own copy of the frame) is never held. Otherwise the frame
//! is decoded whole (deinterlaced) and placed on the canvas.

use crate::pipeline::box_average::BoxAverage;
use crate::pipeline::decoded::Decoded;
use crate::pipeline::Image;
use crate::{Error, Format};
use gif::{ColorOutput, DecodeOptions, DecodingError};

pub(super) fn decode(bytes: &[u8], factor: u32) -> Result<Decoded, Error> {
    if factor >= 2 {
        if let Some(linear) = boxed(bytes, factor)? {
            return Ok(Decoded::from(linear));
        }
    }
    whole(bytes).map(Decoded::from)
}

fn err(e: DecodingError) -> Error {
    Error::decode(Format::Gif, e)
}

/// Where the first frame lies on the canvas: its origin, its size, and how
/// much of it (columns, rows) falls inside the canvas.
struct Placement {
    left: usize,
    top: usize,
    width: usize,
    cols: usize,
    rows: usize,
}

impl Placement {
    fn of(frame: &gif::Frame<'_>, (width, height): (usize, usize)) -> Placement {
        let (left, top) = (usize::from(frame.left), usize::from(frame.top));
        let (fw, fh) = (usize::from(frame.width), usize::from(frame.height));
        // A frame may lie partly or wholly outside the screen: clip it.
        let cols = fw.min(width.saturating_sub(left));
        let rows = if cols == 0 {
            0
        } else {
            fh.min(height.saturating_sub(top))
        };
        Placement {
            left,
            top,
            width: fw,
            cols,
            rows,
        }
    }
}

/// The canvas box-averaged row by row, or `None` for an interlaced frame
/// (its rows come out of order).
fn boxed(bytes: &[u8], factor: u32) -> Result<Option<crate::pipeline::linear::Linear>, Error> {
    let mut options = DecodeOptions::new();
    options.set_color_output(ColorOutput::Indexed);
    let mut decoder = options.read_info(bytes).map_err(err)?;
    let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
    let frame = decoder
        .next_frame_info()
        .map_err(err)?
        .ok_or_else(|| Error::decode(Format::Gif, "no frame"))?;
    if frame.interlaced {
        return Ok(None);
    }
    let at = Placement::of(frame, (width, height));
    let transparent = frame.transparent;
    // RGBA for each index, as the gif crate's own conversion gives it:
    // the transparent index keeps its colour at alpha 0, and an index past
    // the palette is transparent black.
    let mut colours = [[0u8; 4]; 256];
    for (i, (rgba, rgb)) in colours
        .iter_mut()
        .zip(decoder.palette().map_err(err)?.chunks_exact(3))
        .enumerate()
    {
        let alpha = if transparent == Some(i as u8) { 0 } else { 255 };
        *rgba = [rgb[0], rgb[1], rgb[2], alpha];
    }
    let mut average = BoxAverage::new(width as u32, height as u32, 4, factor);
    let mut indices = vec![0u8; at.width];
    let mut row = vec![0u8; width * 4];
    for y in 0..height {
        row.fill(0);
        if y >= at.top && y - at.top < at.rows {
            if !decoder.fill_buffer(&mut indices).map_err(err)? {
                return Err(Error::decode(Format::Gif, "truncated frame"));
            }
            let span = &mut row[at.left * 4..(at.left + at.cols) * 4];
            for (px, &i) in span.chunks_exact_mut(4).zip(&indices) {
                px.copy_from_slice(&colours[usize::from(i)]);
            }
        }
        average.add_row(&row);
    }
    average
        .finish()
        .map(Some)
        .ok_or_else(|| Error::decode(Format::Gif, "missing rows"))
}

/// The first frame decoded whole and placed on the canvas.
fn whole(bytes: &[u8]) -> Result<Image, Error> {
    let mut options = DecodeOptions::new();
    options.set_color_output(ColorOutput::RGBA);
    let mut decoder = options.read_info(bytes).map_err(err)?;
    let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
    let frame = decoder
        .read_next_frame()
        .map_err(err)?
        .ok_or_else(|| Error::decode(Format::Gif, "no frame"))?;
    let at = Placement::of(frame, (width, height));
    if frame.buffer.len() < at.width * usize::from(frame.height) * 4 {
        return Err(Error::decode(Format::Gif, "truncated frame"));
    }
    let mut data = vec![0u8; width * height * 4];
    for y in 0..at.rows {
        let src = &frame.buffer[y * at.width * 4..(y * at.width + at.cols) * 4];
        let start = ((at.top + y) * width + at.left) * 4;
        data[start..start + at.cols * 4].copy_from_slice(src);
    }
    Ok(Image {
        width: width as u32,
        height: height as u32,
        alpha: true,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::decoded::Pixels;
    use std::borrow::Cow;

    /// A 64×48 canvas whose first frame, 30×20 at (20, 12), is red on the
    /// left and transparent on the right; a second frame covers it all.
    fn animation(interlaced: bool) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = gif::Encoder::new(&mut out, 64, 48, &[]).unwrap();
            let indices: Vec<u8> = (0..20 * 30).map(|i| u8::from(i % 30 >= 12) * 2).collect();
            enc.write_frame(&gif::Frame {
                left: 20,
                top: 12,
                width: 30,
                height: 20,
                interlaced,
                palette: Some(vec![255, 0, 0, 0, 255, 0, 9, 9, 9]),
                transparent: Some(2),
                buffer: Cow::Owned(indices),
                ..gif::Frame::default()
            })
            .unwrap();
            enc.write_frame(&gif::Frame {
                width: 64,
                height: 48,
                palette: Some(vec![0, 0, 255]),
                buffer: Cow::Owned(vec![0; 64 * 48]),
                ..gif::Frame::default()
            })
            .unwrap();
        }
        out
    }

    /// The whole first frame on its canvas, averaged afterwards.
    fn averaged_whole(bytes: &[u8], factor: u32) -> Vec<u16> {
        let image = whole(bytes).unwrap();
        let mut average = BoxAverage::new(image.width, image.height, 4, factor);
        for row in image.data.chunks_exact(image.width as usize * 4) {
            average.add_row(row);
        }
        average.finish().unwrap().data
    }

    #[test]
    fn rows_averaged_while_decoding_equal_the_whole_frame_averaged() {
        let bytes = animation(false);
        for factor in [2, 3, 4] {
            let Pixels::Linear(linear) = decode(&bytes, factor).unwrap().pixels else {
                panic!("factor {factor}: not averaged while decoding");
            };
            assert_eq!(
                linear.data,
                averaged_whole(&bytes, factor),
                "factor {factor}"
            );
        }
        // Red where the frame's left part lies, transparent elsewhere.
        let image = whole(&bytes).unwrap();
        let px = |x: usize, y: usize| &image.data[(y * 64 + x) * 4..][..4];
        assert_eq!(px(25, 20), [255, 0, 0, 255]);
        assert_eq!(px(40, 20)[3], 0);
        assert_eq!(px(5, 5)[3], 0);
    }

    #[test]
    fn an_interlaced_frame_is_decoded_whole() {
        let bytes = animation(true);
        let Pixels::Srgb(image) = decode(&bytes, 4).unwrap().pixels else {
            panic!("interlaced rows were averaged in file order");
        };
        assert_eq!(image.data, whole(&animation(false)).unwrap().data);
    }

    #[test]
    fn a_truncated_frame_is_an_error() {
        let bytes = animation(false);
        for cut in [40, bytes.len() / 3, bytes.len() / 2] {
            assert!(decode(&bytes[..cut], 4).is_err(), "cut at {cut}");
        }
    }
}

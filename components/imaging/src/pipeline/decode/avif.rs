//! AVIF: the container read by `avif-parse` (the primary item's AV1 data and
//! its alpha item), each item decoded by rav1d (`crate::av1`) at full size,
//! as AV1 has no reduced-scale decoding. The frames are converted to 8-bit
//! RGB(A) a row at a time and, when the output is much smaller, box-averaged
//! into linear light as the rows come (as for PNG), so the full-size RGB
//! image is never held. Grids and image sequences are refused (415) rather
//! than half-decoded.

use super::yuv;
use crate::av1::{self, Frame};
use crate::pipeline::box_average::BoxAverage;
use crate::pipeline::decoded::Decoded;
use crate::pipeline::Image;
use crate::probe::Header;
use crate::{Error, Format, Limits};
use avif_parse::AV1Metadata;

pub(super) fn decode(
    bytes: &[u8],
    header: &Header<'_>,
    limits: &Limits,
    factor: u32,
) -> Result<Decoded, Error> {
    if !crate::probe::avif::boxes_fit(bytes) {
        return Err(Error::decode(Format::Avif, "a box runs past its container"));
    }
    let data = avif_parse::read_avif(&mut std::io::Cursor::new(bytes)).map_err(|e| match e {
        avif_parse::Error::Unsupported(what) => Error::Unsupported {
            reason: format!("AVIF: {what}"),
        },
        other => Error::decode(Format::Avif, other),
    })?;
    // The limits were checked against the container's `ispe`: refuse a
    // bitstream that would decode to more before rav1d allocates for it.
    let size = (header.width, header.height);
    let colour_meta = check_size(&data.primary_item, size)?;
    let alpha_meta = data
        .alpha_item
        .as_deref()
        .map(|alpha| check_size(alpha, size))
        .transpose()?;
    check_memory(size, &colour_meta, alpha_meta.as_ref(), factor, limits)?;
    let mut sink = Sink::new(size, data.alpha_item.is_some(), factor);
    // rav1d's limit is a u32; saturating only loosens it past 4 G pixels,
    // which `max_pixels` refused already.
    let pixels = u32::try_from(u64::from(size.0) * u64::from(size.1)).unwrap_or(u32::MAX);
    let decoded = av1::decode(&data.primary_item, pixels, |colour| -> Result<(), Error> {
        check_frame(colour, size)?;
        match &data.alpha_item {
            None => {
                sink.convert(colour, None, false);
                Ok(())
            }
            Some(alpha) => av1::decode(alpha, pixels, |alpha| {
                check_frame(alpha, size)?;
                sink.convert(colour, Some(alpha), data.premultiplied_alpha);
                Ok(())
            })
            .map_err(|e| Error::decode(Format::Avif, e))?,
        }
    });
    decoded.map_err(|e| Error::decode(Format::Avif, e))??;
    sink.finish()
}

/// Where converted rows go: a full-size image, or a box average of it.
enum Sink {
    Whole(Image),
    Boxed(BoxAverage, Vec<u8>),
}

impl Sink {
    fn new((width, height): (u32, u32), alpha: bool, factor: u32) -> Sink {
        let channels = if alpha { 4 } else { 3 };
        let row = width as usize * channels;
        if factor >= 2 {
            Sink::Boxed(
                BoxAverage::new(width, height, channels, factor),
                vec![0; row],
            )
        } else {
            Sink::Whole(Image {
                width,
                height,
                alpha,
                data: vec![0; row * height as usize],
            })
        }
    }

    fn convert(&mut self, colour: &Frame<'_>, alpha: Option<&Frame<'_>>, premultiplied: bool) {
        let channels = if alpha.is_some() { 4 } else { 3 };
        let row_len = colour.width as usize * channels;
        let mut converter = yuv::Converter::new(colour);
        let mut alpha_buffer = vec![0.0; colour.width as usize];
        for y in 0..colour.height as usize {
            let row = match self {
                Sink::Whole(image) => &mut image.data[y * row_len..(y + 1) * row_len],
                Sink::Boxed(_, row) => &mut row[..],
            };
            converter.row(y, row, channels);
            if let Some(alpha) = alpha {
                yuv::alpha_row(alpha, y, &mut alpha_buffer, row);
                if premultiplied {
                    yuv::unpremultiply(row);
                }
            }
            if let Sink::Boxed(average, row) = self {
                average.add_row(row);
            }
        }
    }

    fn finish(self) -> Result<Decoded, Error> {
        match self {
            Sink::Whole(image) => Ok(Decoded::from(image)),
            Sink::Boxed(average, _) => average
                .finish()
                .map(Decoded::from)
                .ok_or_else(|| Error::decode(Format::Avif, "missing rows")),
        }
    }
}

/// Refuses AV1 data whose sequence header allows frames larger than `size`;
/// else returns what the sequence header says.
fn check_size(obus: &[u8], (width, height): (u32, u32)) -> Result<AV1Metadata, Error> {
    let meta =
        AV1Metadata::parse_av1_bitstream(obus).map_err(|e| Error::decode(Format::Avif, e))?;
    if meta.max_frame_width.get() > width || meta.max_frame_height.get() > height {
        return Err(Error::decode(
            Format::Avif,
            format!(
                "the AV1 data allows {}x{} frames, more than the declared {width}x{height}",
                meta.max_frame_width, meta.max_frame_height
            ),
        ));
    }
    Ok(meta)
}

/// Bytes a pixel that `max_pixels` is sized for: what a whole PNG or GIF
/// decode costs at most while it is resized (spin.toml).
const BUDGET_PER_PIXEL: u64 = 9;

/// Refuses an AVIF whose decode would need more memory than `max_pixels`
/// pixels of other formats: rav1d holds 1–2 bytes a sample for each plane
/// (more at 4:4:4 and above 8 bits, more with alpha) plus ~3 bytes a pixel
/// of its own state (measured: 4.4 bytes a pixel for 8-bit 4:2:0, 7.4 for
/// 10-bit 4:4:4, box-averaged), and a whole decode also holds the RGB(A).
fn check_memory(
    (width, height): (u32, u32),
    colour: &AV1Metadata,
    alpha: Option<&AV1Metadata>,
    factor: u32,
    limits: &Limits,
) -> Result<(), Error> {
    // In quarters of a byte per pixel.
    let planes = |meta: &AV1Metadata| -> u64 {
        let sample = if meta.bit_depth > 8 { 2 } else { 1 };
        let chroma = match (meta.monochrome, meta.chroma_subsampling) {
            (true, _) => 0,
            (false, (true, true)) => 2,
            (false, (true, false)) | (false, (false, true)) => 4,
            (false, (false, false)) => 8,
        };
        sample * (4 + chroma)
    };
    let rgb = match (factor, alpha.is_some()) {
        (1, true) => 16,
        (1, false) => 12,
        _ => 0,
    };
    let quarters = 12 + planes(colour) + alpha.map_or(0, planes) + rgb;
    let pixels = u64::from(width) * u64::from(height);
    let need = pixels * quarters / 4;
    let budget = limits.max_pixels.saturating_mul(BUDGET_PER_PIXEL);
    if need > budget {
        return Err(Error::PixelLimit {
            what: "input",
            width: width.into(),
            height: height.into(),
            limit: format!(
                "decoding this AVIF ({}-bit{}) needs about {} MB, more than the {} MB \
                 that max {} pixels allow",
                colour.bit_depth,
                if alpha.is_some() { " with alpha" } else { "" },
                need >> 20,
                budget >> 20,
                limits.max_pixels
            ),
        });
    }
    Ok(())
}

fn check_frame(frame: &Frame<'_>, size: (u32, u32)) -> Result<(), Error> {
    if (frame.width, frame.height) == size {
        Ok(())
    } else {
        Err(Error::decode(
            Format::Avif,
            "frame size differs from header",
        ))
    }
}

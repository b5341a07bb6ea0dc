//! The frames of an animated GIF or WebP, each composed onto the full
//! canvas as a viewer shows it, with its duration and the loop count, one
//! frame at a time: only the canvas (and, for GIF's "restore to
//! previous", one saved copy) is held, never all frames.

use crate::pipeline::Image;
use crate::{Error, Format};
use gif::{ColorOutput, DecodeOptions, DisposalMethod, Repeat};
use std::io::Cursor;

/// A decoded frame: the whole canvas, straight RGBA, and how long it shows.
pub(crate) struct Frame {
    pub image: Image,
    pub duration_ms: u32,
}

/// Frames in order; `loop_count` as WebP writes it (0 = forever).
pub(crate) enum Frames<'a> {
    Gif(Box<GifFrames<'a>>),
    Webp(image_webp::WebPDecoder<Cursor<&'a [u8]>>),
}

impl<'a> Frames<'a> {
    pub fn open(bytes: &'a [u8], format: Format) -> Result<Frames<'a>, Error> {
        match format {
            Format::Gif => GifFrames::open(bytes).map(|g| Frames::Gif(Box::new(g))),
            Format::Webp => {
                let decoder = image_webp::WebPDecoder::new(Cursor::new(bytes))
                    .map_err(|e| Error::decode(Format::Webp, e))?;
                Ok(Frames::Webp(decoder))
            }
            other => Err(Error::decode(other, "not an animation format")),
        }
    }

    /// How many times the animation plays, as WebP counts (0 = forever).
    /// A GIF's NETSCAPE count is of repeats after the first play, as
    /// browsers read it; a GIF without one plays once.
    pub fn loop_count(&self) -> u16 {
        match self {
            Frames::Gif(g) => match g.decoder.repeat() {
                Repeat::Infinite => 0,
                Repeat::Finite(n) => n.saturating_add(1),
            },
            Frames::Webp(w) => match w.loop_count() {
                image_webp::LoopCount::Forever => 0,
                image_webp::LoopCount::Times(n) => n.get(),
            },
        }
    }

    pub fn next(&mut self) -> Result<Option<Frame>, Error> {
        match self {
            Frames::Gif(g) => g.next(),
            Frames::Webp(w) => {
                if !w.is_animated() {
                    return Err(Error::decode(Format::Webp, "not an animation"));
                }
                let (width, height) = w.dimensions();
                let size = w
                    .output_buffer_size()
                    .ok_or_else(|| Error::decode(Format::Webp, "image too large"))?;
                let mut data = vec![0; size];
                let duration_ms = match w.read_frame(&mut data) {
                    Ok(d) => d,
                    Err(image_webp::DecodingError::NoMoreFrames) => return Ok(None),
                    Err(e) => return Err(Error::decode(Format::Webp, e)),
                };
                let alpha = w.has_alpha();
                Ok(Some(Frame {
                    image: Image {
                        width,
                        height,
                        alpha,
                        data,
                    },
                    duration_ms,
                }))
            }
        }
    }
}

/// GIF frames composed on the logical screen, disposal methods applied.
pub(crate) struct GifFrames<'a> {
    decoder: gif::Decoder<&'a [u8]>,
    canvas: Vec<u8>,
    width: usize,
    height: usize,
    /// What the last frame asks to be done with its area before the next.
    dispose: Option<(DisposalMethod, Area)>,
    /// The canvas before the last frame, when it asked to be restored.
    saved: Option<Vec<u8>>,
}

#[derive(Clone, Copy)]
struct Area {
    left: usize,
    top: usize,
    width: usize,
    height: usize,
}

fn gif_err(e: gif::DecodingError) -> Error {
    Error::decode(Format::Gif, e)
}

impl<'a> GifFrames<'a> {
    fn open(bytes: &'a [u8]) -> Result<GifFrames<'a>, Error> {
        let mut options = DecodeOptions::new();
        options.set_color_output(ColorOutput::RGBA);
        let decoder = options.read_info(bytes).map_err(gif_err)?;
        let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
        Ok(GifFrames {
            decoder,
            canvas: vec![0; width * height * 4],
            width,
            height,
            dispose: None,
            saved: None,
        })
    }

    fn next(&mut self) -> Result<Option<Frame>, Error> {
        match self.dispose.take() {
            Some((DisposalMethod::Background, area)) => self.clear(area),
            Some((DisposalMethod::Previous, _)) => {
                if let Some(saved) = self.saved.take() {
                    self.canvas = saved;
                }
            }
            _ => {}
        }
        let Some(frame) = self.decoder.read_next_frame().map_err(gif_err)? else {
            return Ok(None);
        };
        let area = Area {
            left: usize::from(frame.left),
            top: usize::from(frame.top),
            width: usize::from(frame.width),
            height: usize::from(frame.height),
        };
        if frame.dispose == DisposalMethod::Previous {
            self.saved = Some(self.canvas.clone());
        }
        self.dispose = Some((frame.dispose, area));
        // Browsers show a delay of 0 or 1 hundredths as 100 ms; so do we.
        let delay = u32::from(frame.delay);
        let duration_ms = if delay <= 1 { 100 } else { delay * 10 };
        let buffer = frame.buffer.to_vec();
        self.draw(&buffer, area);
        Ok(Some(Frame {
            image: Image {
                width: self.width as u32,
                height: self.height as u32,
                alpha: true,
                data: self.canvas.clone(),
            },
            duration_ms,
        }))
    }

    /// The part of `area` inside the canvas, as (columns, rows).
    fn clip(&self, a: Area) -> (usize, usize) {
        (
            a.width.min(self.width.saturating_sub(a.left)),
            a.height.min(self.height.saturating_sub(a.top)),
        )
    }

    /// Paints a frame's opaque pixels (transparent ones show what is under).
    fn draw(&mut self, rgba: &[u8], a: Area) {
        let (cols, rows) = self.clip(a);
        for y in 0..rows {
            let src = &rgba[y * a.width * 4..][..cols * 4];
            let at = ((a.top + y) * self.width + a.left) * 4;
            let dst = &mut self.canvas[at..at + cols * 4];
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                if s[3] != 0 {
                    d.copy_from_slice(s);
                }
            }
        }
    }

    /// "Restore to background": browsers clear the area to transparent.
    fn clear(&mut self, a: Area) {
        let (cols, rows) = self.clip(a);
        for y in 0..rows {
            let at = ((a.top + y) * self.width + a.left) * 4;
            self.canvas[at..at + cols * 4].fill(0);
        }
    }
}

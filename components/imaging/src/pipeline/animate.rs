//! An animated GIF or WebP to an animated WebP: every frame, composed on
//! the canvas as a viewer shows it, goes through the same steps as a still
//! image (orient, resize with the same crop, colour, effects, pad) and
//! into libwebp's animation encoder, with its duration and the loop count.
//! A `gravity=auto` crop is placed once, on the first frame, so the frame
//! does not jump about. Frames are decoded one at a time.
//!
//! The frame count and pixels over all frames were checked from the
//! file's structure before any decoding ([`crate::Limits::check_frames`]);
//! a decoder that finds more frames than that stops with an error.

use super::decode::frames::Frames;
use super::decoded::Decoded;
use super::encode::DEFAULT_QUALITY;
use super::{finish, orient, saliency, Job, Output};
use crate::libwebp_anim::AnimEncoder;
use crate::{Error, Format};

/// Whether this job makes an animation: an animated source, WebP out, and
/// not `anim=false`.
pub(crate) fn applies(job: &Job<'_>) -> bool {
    job.header.frames > 1 && job.output == Format::Webp && !job.options.still
}

pub(crate) fn transform(bytes: &[u8], job: &mut Job<'_>) -> Result<Output, Error> {
    let format = job.header.format;
    let mut frames = Frames::open(bytes, format)?;
    let quality = job.options.quality.unwrap_or(DEFAULT_QUALITY);
    let encode_err = |e: String| Error::encode(Format::Webp, e);
    let mut encoder =
        AnimEncoder::new(job.plan.canvas, frames.loop_count(), quality).map_err(encode_err)?;
    let (mut count, mut timestamp) = (0u32, 0u32);
    while let Some(frame) = frames.next()? {
        count += 1;
        if count > job.header.frames {
            return Err(Error::decode(
                format,
                format!(
                    "more frames than the {} its structure shows",
                    job.header.frames
                ),
            ));
        }
        let decoded = orient::apply(job, Decoded::from(frame.image))?;
        if count == 1 {
            saliency::apply(job, &decoded);
        }
        let image = finish(job, decoded)?;
        encoder.add(&image, timestamp).map_err(encode_err)?;
        timestamp = timestamp.saturating_add(frame.duration_ms);
    }
    if count == 0 {
        return Err(Error::decode(format, "no frames"));
    }
    let (width, height) = job.plan.canvas;
    Ok(Output {
        bytes: encoder.finish(timestamp).map_err(encode_err)?,
        width,
        height,
        format: Format::Webp,
    })
}

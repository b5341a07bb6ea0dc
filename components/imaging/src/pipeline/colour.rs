//! Step: convert RGB or grey pixels from the embedded profile's space to
//! sRGB, after resizing so the transform touches output pixels only. CMYK was
//! converted at decode (see `decode/jpeg.rs`).

use super::{Image, Job};
use crate::{colour, Error};
use moxcms::DataColorSpace;

pub(crate) fn apply(job: &Job<'_>, mut image: Image) -> Result<Image, Error> {
    let Some(profile) = job.profile.as_ref() else {
        return Ok(image);
    };
    // A grey profile describes grey pixels only; browsers ignore a profile
    // that does not match the image, and so do we.
    if profile.color_space == DataColorSpace::Gray && !is_gray(&image) {
        return Ok(image);
    }
    colour::rgb_to_srgb(&mut image.data, image.alpha, profile);
    Ok(image)
}

fn is_gray(image: &Image) -> bool {
    image
        .data
        .chunks_exact(image.channels())
        .all(|p| p[0] == p[1] && p[1] == p[2])
}

//! Step: unsharp mask (`sharpen=0.1..10`), on colour channels only.

use super::{blur, Image, Job};
use crate::Error;

/// Radius of the unsharp mask, in output pixels.
const SIGMA: f32 = 0.8;

pub(crate) fn apply(job: &Job<'_>, mut image: Image) -> Result<Image, Error> {
    let Some(tenths) = job.options.sharpen else {
        return Ok(image);
    };
    let amount = f32::from(tenths) / 10.0;
    let blurred = blur::gaussian(&image, SIGMA);
    let c = image.channels();
    for (i, (v, b)) in image.data.iter_mut().zip(&blurred).enumerate() {
        if i % c < 3 {
            let sharp = f32::from(*v) + amount * (f32::from(*v) - f32::from(*b));
            *v = sharp.round().clamp(0.0, 255.0) as u8;
        }
    }
    Ok(image)
}

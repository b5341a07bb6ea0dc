//! SVG: drawn by `resvg` at the scale the plan resamples the source by, so
//! the resize step has nothing left to do but a crop (and is skipped when
//! there is none); rotate and flip still apply after, as for any decode.

use crate::pipeline::{Image, Job};
use crate::Error;

pub(super) fn decode(bytes: &[u8], job: &Job<'_>) -> Result<Image, Error> {
    let tree = crate::svg::parse(bytes, job.limits)?;
    let plan = &job.plan;
    let sx = f64::from(plan.resized.0) / plan.region.width;
    let sy = f64::from(plan.resized.1) / plan.region.height;
    // The plan is in oriented pixels; the drawing is in stored ones.
    let swapped = job.orientation.apply_size((1, 2)) == (2, 1);
    let (sx, sy) = if swapped { (sy, sx) } else { (sx, sy) };
    let px = |side: u32, s: f64| ((f64::from(side) * s).round() as u32).max(1);
    let size = (px(job.header.width, sx), px(job.header.height, sy));
    job.limits.check_input(size.0, size.1)?;
    crate::svg::render(&tree, size)
}

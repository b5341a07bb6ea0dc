//! Step: encode. JPEG (`jpeg-encoder`), PNG (`png`), WebP (lossy libwebp,
//! with lossy alpha when transparent), AVIF
//! (`ravif`) when built with the `avif` feature.

#[cfg(feature = "avif")]
mod avif;
mod jpeg;
mod png;
mod webp;

use super::{Image, Job};
use crate::{Error, Format};

/// Quality used when the request sets none.
pub(crate) const DEFAULT_QUALITY: u8 = 80;

pub(crate) fn encode(job: &Job<'_>, image: &Image) -> Result<Vec<u8>, Error> {
    let quality = job.options.quality.unwrap_or(DEFAULT_QUALITY);
    match job.output {
        Format::Jpeg => jpeg::encode(image, quality, job),
        Format::Png => png::encode(image),
        Format::Webp => webp::encode(image, quality),
        #[cfg(feature = "avif")]
        Format::Avif => avif::encode(image, quality),
        #[cfg(not(feature = "avif"))]
        Format::Avif => Err(Error::encode(
            Format::Avif,
            "built without the avif feature",
        )),
        // `Job::output` is always encodable: these never get here.
        other => Err(Error::encode(other, "not an output format")),
    }
}

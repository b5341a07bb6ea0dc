//! The transform pipeline, as an ordered list of small steps:
//! decode (at reduced scale when it can) → orient (EXIF, rotate, flip) →
//! saliency (moves a `gravity=auto` crop) → resize/crop → colour (embedded profile → sRGB) → blur → sharpen → pad → flatten alpha → encode.
//! Each step lives in its own file and returns its input untouched when it has
//! nothing to do.

mod animate;
mod blur;
mod box_average;
mod colour;
mod decode;
mod decoded;
mod encode;
mod flatten;
pub(crate) mod image;
mod lanczos;
mod linear;
mod orient;
mod pad;
mod resize;
mod saliency;
mod sharpen;
pub(crate) mod srgb;

pub(crate) use image::Image;
pub(crate) use orient::Orientation;

use crate::geometry::{self, Plan};
use crate::probe::{read_header, Header};
use crate::{Error, Format, Limits, Options};
use decoded::Decoded;
use std::borrow::Cow;

/// An encoded result and what a response needs to describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// What was actually written: the requested format unless we cannot encode
    /// it (GIF → PNG; AVIF → WebP when built without the AVIF encoder).
    pub format: Format,
}

impl Output {
    pub fn content_type(&self) -> &'static str {
        self.format.content_type()
    }

    pub fn byte_size(&self) -> usize {
        self.bytes.len()
    }
}

/// Everything the steps read; the image itself is passed from step to step.
pub(crate) struct Job<'a> {
    pub header: Header<'a>,
    pub options: &'a Options,
    pub output: Format,
    /// EXIF orientation, then `rotate`, then `flip`, as one transform.
    pub orientation: Orientation,
    /// The geometry in oriented source pixels.
    pub plan: Plan,
    /// The oriented source size the plan refers to.
    pub source: (u32, u32),
    /// The embedded colour profile (ICC, or AVIF's H.273 code points), if any
    /// and if it parses.
    pub profile: Option<moxcms::ColorProfile>,
    /// What the header was checked against; a decoder whose memory depends
    /// on more than the pixel count checks its own need against it too.
    pub limits: &'a Limits,
}

type Step = fn(&Job<'_>, Image) -> Result<Image, Error>;

/// The steps after resizing, in order (decode, orient and resize come first:
/// a decoder may hand over linear light for the resizer, not 8-bit pixels).
const STEPS: [Step; 5] = [
    colour::apply,
    blur::apply,
    sharpen::apply,
    pad::apply,
    flatten::apply,
];

/// Transforms `bytes` per `options` into `output` (resolve it with
/// [`crate::negotiate`]). Limits are checked from the header before decoding.
/// An animated GIF or WebP stays animated when the output is WebP (unless
/// `anim=false`); any other output gets its first frame.
pub fn transform(
    bytes: &[u8],
    options: &Options,
    output: Format,
    limits: &Limits,
) -> Result<Output, Error> {
    let header = read_header(bytes, limits)?;
    let options = for_source(options, header.format);
    let mut job = Job::new(bytes, header, &options, output, limits)?;
    if animate::applies(&job) {
        return animate::transform(bytes, &mut job);
    }
    let image = still(bytes, &mut job)?;
    Ok(Output {
        bytes: encode::encode(&job, &image)?,
        width: image.width,
        height: image.height,
        format: job.output,
    })
}

/// The pixels [`transform`] would encode as `output` (PNG keeps alpha),
/// for callers that want pixels, not a file; an animation's first frame.
pub(crate) fn pixels(
    bytes: &[u8],
    options: &Options,
    output: Format,
    limits: &Limits,
) -> Result<Image, Error> {
    let header = read_header(bytes, limits)?;
    let options = for_source(options, header.format);
    let mut job = Job::new(bytes, header, &options, output, limits)?;
    still(bytes, &mut job)
}

/// The options as they apply to this source (a vector may be enlarged).
fn for_source(options: &Options, format: Format) -> Cow<'_, Options> {
    if format.is_vector() {
        Cow::Owned(options.for_vector())
    } else {
        Cow::Borrowed(options)
    }
}

impl<'a> Job<'a> {
    fn new(
        bytes: &[u8],
        header: Header<'a>,
        options: &'a Options,
        output: Format,
        limits: &'a Limits,
    ) -> Result<Job<'a>, Error> {
        let orientation =
            Orientation::from_exif(header.orientation).then(Orientation::from_options(options));
        let source = orientation.apply_size((header.width, header.height));
        let plan = geometry::plan(source, options, limits)?;
        Ok(Job {
            header,
            options,
            output: output.encodable(),
            orientation,
            plan,
            source,
            profile: crate::colour::embedded_profile(bytes, header.format),
            limits,
        })
    }
}

/// Decode (an animation's first frame), orient, place a `gravity=auto`
/// crop, then [`finish`].
fn still(bytes: &[u8], job: &mut Job<'_>) -> Result<Image, Error> {
    let decoded = orient::apply(job, decode::decode(bytes, job)?)?;
    saliency::apply(job, &decoded);
    finish(job, decoded)
}

/// Resize, then every step in [`STEPS`]: what is done to each frame.
fn finish(job: &Job<'_>, decoded: Decoded) -> Result<Image, Error> {
    let mut image = resize::apply(job, decoded)?;
    for step in STEPS {
        image = step(job, image)?;
    }
    Ok(image)
}

#[cfg(test)]
mod tests;

//! Security limits checked from the header, before any pixel is decoded.

use crate::Error;

/// Configurable bounds on what a probe or transform accepts and produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes (413 beyond).
    pub max_input_bytes: u64,
    /// Largest input width × height (422 beyond): stops decompression bombs.
    pub max_pixels: u64,
    /// Largest input width or height (422 beyond).
    pub max_side: u32,
    /// Largest output width or height, after `dpr` and padding (422 beyond).
    pub max_output_side: u32,
    /// Most frames an animation may have (422 beyond), counted from the
    /// file's structure before any frame is decoded.
    pub max_frames: u32,
    /// Largest canvas width × height × frames of an animation (422 beyond):
    /// each frame is decoded whole onto the canvas.
    pub max_animation_pixels: u64,
    /// Most XML nodes an SVG may have, and most elements its `use`
    /// references may expand to (422 beyond): its render cost grows with them.
    pub max_svg_nodes: u32,
}

impl Default for Limits {
    /// 50 MiB, 100 megapixels, 16384 px per input side, 8192 px per output
    /// side; animations of at most 1,000 frames and 200 megapixels over all
    /// frames; SVGs of at most 50,000 nodes.
    fn default() -> Self {
        Limits {
            max_input_bytes: 50 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_side: 16384,
            max_output_side: 8192,
            max_frames: 1000,
            max_animation_pixels: 200_000_000,
            max_svg_nodes: 50_000,
        }
    }
}

impl Limits {
    pub(crate) fn check_bytes(&self, len: usize) -> Result<(), Error> {
        let bytes = len as u64;
        if bytes > self.max_input_bytes {
            return Err(Error::TooLarge {
                bytes,
                max: self.max_input_bytes,
            });
        }
        Ok(())
    }

    pub(crate) fn check_input(&self, width: u32, height: u32) -> Result<(), Error> {
        let err = |limit: String| Error::PixelLimit {
            what: "input",
            width: width.into(),
            height: height.into(),
            limit,
        };
        if width == 0 || height == 0 {
            return Err(err("zero-sized image".into()));
        }
        if width.max(height) > self.max_side {
            return Err(err(format!("max side {}", self.max_side)));
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(err(format!("max {} pixels", self.max_pixels)));
        }
        Ok(())
    }

    /// An animation's frame count and its pixels over all frames.
    pub(crate) fn check_frames(&self, width: u32, height: u32, frames: u32) -> Result<(), Error> {
        let err = |limit: String| Error::PixelLimit {
            what: "animation",
            width: width.into(),
            height: height.into(),
            limit,
        };
        if frames > self.max_frames {
            return Err(err(format!(
                "{frames} frames, max {} frames",
                self.max_frames
            )));
        }
        let total = u64::from(width) * u64::from(height) * u64::from(frames);
        if total > self.max_animation_pixels {
            return Err(err(format!(
                "{frames} frames of {total} pixels in all, max {} pixels",
                self.max_animation_pixels
            )));
        }
        Ok(())
    }

    pub(crate) fn check_output(&self, width: u32, height: u32) -> Result<(), Error> {
        if width.max(height) > self.max_output_side {
            return Err(Error::PixelLimit {
                what: "output",
                width: width.into(),
                height: height.into(),
                limit: format!("max output side {}", self.max_output_side),
            });
        }
        Ok(())
    }
}

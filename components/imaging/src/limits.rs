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
}

impl Default for Limits {
    /// 50 MiB, 100 megapixels, 16384 px per input side, 8192 px per output side.
    fn default() -> Self {
        Limits {
            max_input_bytes: 50 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_side: 16384,
            max_output_side: 8192,
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

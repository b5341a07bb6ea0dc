//! Animated WebP output through libwebp's `WebPAnimEncoder` (libwebpmux,
//! compiled in by `libwebp-sys` with the rest of libwebp): lossy frames at
//! the request's quality, each frame stored as the smallest rectangle that
//! changed (the encoder's own sub-frame search), durations from the
//! timestamps and the loop count kept.

use crate::pipeline::image::Image;
use libwebp_sys as sys;

/// An encoder for frames of one size.
pub(crate) struct AnimEncoder {
    enc: *mut sys::WebPAnimEncoder,
    config: sys::WebPConfig,
    size: (u32, u32),
}

impl AnimEncoder {
    /// `loop_count` 0 plays forever.
    pub fn new((width, height): (u32, u32), loop_count: u16, quality: u8) -> Result<Self, String> {
        let (w, h) = (
            i32::try_from(width).map_err(|e| e.to_string())?,
            i32::try_from(height).map_err(|e| e.to_string())?,
        );
        crate::libwebp_dsp::install();
        // SAFETY: the options and config are initialised by libwebp before
        // use; the encoder is freed in Drop.
        unsafe {
            let mut options: sys::WebPAnimEncoderOptions = std::mem::zeroed();
            if sys::WebPAnimEncoderOptionsInitInternal(&mut options, sys::WEBP_MUX_ABI_VERSION as _)
                == 0
            {
                return Err("libwebp: bad mux ABI".into());
            }
            options.anim_params.loop_count = i32::from(loop_count);
            let mut config: sys::WebPConfig = std::mem::zeroed();
            if !sys::WebPInitConfig(&mut config) {
                return Err("libwebp: bad encoder ABI".into());
            }
            config.quality = f32::from(quality);
            let enc =
                sys::WebPAnimEncoderNewInternal(w, h, &options, sys::WEBP_MUX_ABI_VERSION as _);
            if enc.is_null() {
                return Err("libwebp could not start an animation".into());
            }
            Ok(AnimEncoder {
                enc,
                config,
                size: (width, height),
            })
        }
    }

    /// Adds a frame shown from `timestamp_ms` on.
    pub fn add(&mut self, image: &Image, timestamp_ms: u32) -> Result<(), String> {
        if image.size() != self.size
            || image.data.len() != image.width as usize * image.height as usize * image.channels()
        {
            return Err("frame does not match the animation's size".into());
        }
        let stride = (image.width as usize * image.channels()) as i32;
        let ts = i32::try_from(timestamp_ms).map_err(|e| e.to_string())?;
        // SAFETY: the picture is initialised, imports `stride * height`
        // bytes of `image.data` (checked above) into memory it owns, and is
        // freed before returning; the encoder copies what it keeps.
        unsafe {
            let mut pic: sys::WebPPicture = std::mem::zeroed();
            if !sys::WebPPictureInit(&mut pic) {
                return Err("libwebp: bad picture ABI".into());
            }
            pic.use_argb = 1;
            pic.width = image.width as i32;
            pic.height = image.height as i32;
            let imported = if image.alpha {
                sys::WebPPictureImportRGBA(&mut pic, image.data.as_ptr(), stride)
            } else {
                sys::WebPPictureImportRGB(&mut pic, image.data.as_ptr(), stride)
            };
            let added =
                imported != 0 && sys::WebPAnimEncoderAdd(self.enc, &mut pic, ts, &self.config) != 0;
            sys::WebPPictureFree(&mut pic);
            if !added {
                return Err(self.error());
            }
        }
        Ok(())
    }

    /// The file, the last frame lasting until `end_ms`.
    pub fn finish(self, end_ms: u32) -> Result<Vec<u8>, String> {
        let end = i32::try_from(end_ms).map_err(|e| e.to_string())?;
        // SAFETY: a null frame marks the end; the assembled data is
        // libwebp's, copied and then freed with WebPDataClear.
        unsafe {
            if sys::WebPAnimEncoderAdd(self.enc, std::ptr::null_mut(), end, std::ptr::null()) == 0 {
                return Err(self.error());
            }
            let mut data: sys::WebPData = std::mem::zeroed();
            sys::WebPDataInit(&mut data);
            if sys::WebPAnimEncoderAssemble(self.enc, &mut data) == 0 {
                return Err(self.error());
            }
            let bytes = std::slice::from_raw_parts(data.bytes, data.size).to_vec();
            sys::WebPDataClear(&mut data);
            Ok(bytes)
        }
    }

    fn error(&self) -> String {
        // SAFETY: libwebp returns a static or encoder-owned C string.
        unsafe {
            let msg = sys::WebPAnimEncoderGetError(self.enc);
            if msg.is_null() {
                "libwebp could not encode the animation".into()
            } else {
                std::ffi::CStr::from_ptr(msg).to_string_lossy().into_owned()
            }
        }
    }
}

impl Drop for AnimEncoder {
    fn drop(&mut self) {
        // SAFETY: `enc` came from WebPAnimEncoderNew and is deleted once.
        unsafe { sys::WebPAnimEncoderDelete(self.enc) }
    }
}

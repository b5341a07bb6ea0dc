//! Safe wrappers over libwebp (BSD-3, compiled from C by `libwebp-sys`, for
//! wasm32-wasip2 with clang and wasi-libc headers: see `.cargo/config.toml`).
//! libwebp is the reference WebP codec: its lossy encoder makes files about
//! 1.6× smaller than the pure-Rust ones at equal SSIM (and the only permissive
//! one with lossy alpha), and its decoder scales while decoding, so a
//! thumbnail never holds the full-size RGB image.

use crate::pipeline::image::Image;
use libwebp_sys as sys;

/// Decodes a still WebP to `size` (width, height), scaling during decoding
/// when that is smaller than the image. `None` when libwebp cannot (for
/// example an animation), so the caller can fall back.
pub(crate) fn decode(bytes: &[u8], size: (u32, u32)) -> Option<Image> {
    // SAFETY: `config` is initialised by libwebp before use; the output buffer
    // is external memory we own, of the stride and size we declare, alive
    // across WebPDecode; libwebp reads only `bytes.len()` bytes of `bytes`.
    unsafe {
        let mut config: sys::WebPDecoderConfig = std::mem::zeroed();
        if !sys::WebPInitDecoderConfig(&mut config) {
            return None;
        }
        let status = sys::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut config.input);
        if status != sys::VP8StatusCode::VP8_STATUS_OK || config.input.has_animation != 0 {
            return None;
        }
        let full = (
            u32::try_from(config.input.width).ok()?,
            u32::try_from(config.input.height).ok()?,
        );
        let (width, height) = if size.0 < full.0 && size.1 < full.1 {
            config.options.use_scaling = 1;
            config.options.scaled_width = i32::try_from(size.0).ok()?;
            config.options.scaled_height = i32::try_from(size.1).ok()?;
            size
        } else {
            full
        };
        let alpha = config.input.has_alpha != 0;
        let channels = if alpha { 4 } else { 3 };
        let stride = width as usize * channels;
        let mut data = vec![0u8; stride * height as usize];
        config.output.colorspace = if alpha {
            sys::WEBP_CSP_MODE::MODE_RGBA
        } else {
            sys::WEBP_CSP_MODE::MODE_RGB
        };
        config.output.is_external_memory = 1;
        config.output.u.RGBA = sys::WebPRGBABuffer {
            rgba: data.as_mut_ptr(),
            stride: i32::try_from(stride).ok()?,
            size: data.len(),
        };
        crate::libwebp_dsp::install();
        let status = sys::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        sys::WebPFreeDecBuffer(&mut config.output);
        (status == sys::VP8StatusCode::VP8_STATUS_OK).then_some(Image {
            width,
            height,
            alpha,
            data,
        })
    }
}

/// Lossy WebP at `quality` (libwebp's default preset, as `cwebp -q` and
/// sharp use it); with alpha, the alpha plane is compressed losslessly
/// beside the lossy colour (VP8 + ALPH).
pub(crate) fn encode(image: &Image, quality: u8) -> Result<Vec<u8>, String> {
    let (w, h) = (
        i32::try_from(image.width).map_err(|e| e.to_string())?,
        i32::try_from(image.height).map_err(|e| e.to_string())?,
    );
    let stride = w * image.channels() as i32;
    if image.data.len() != stride as usize * image.height as usize {
        return Err("pixel buffer does not match the size".into());
    }
    let mut out: *mut u8 = std::ptr::null_mut();
    crate::libwebp_dsp::install();
    // SAFETY: libwebp reads `stride * h` bytes of `image.data` (checked above)
    // and returns a buffer it allocated, which we copy and free with WebPFree.
    unsafe {
        let q = f32::from(quality);
        let len = if image.alpha {
            sys::WebPEncodeRGBA(image.data.as_ptr(), w, h, stride, q, &mut out)
        } else {
            sys::WebPEncodeRGB(image.data.as_ptr(), w, h, stride, q, &mut out)
        };
        if out.is_null() {
            return Err("libwebp could not encode".into());
        }
        let bytes = std::slice::from_raw_parts(out, len).to_vec();
        sys::WebPFree(out.cast());
        if len == 0 {
            return Err("libwebp could not encode".into());
        }
        Ok(bytes)
    }
}

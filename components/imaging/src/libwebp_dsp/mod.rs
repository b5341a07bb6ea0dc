//! Faster versions of libwebp's kernels for wasm.
//!
//! libwebp picks SIMD code at build time for x86 (SSE2) and ARM (NEON) only;
//! built for wasm32 it runs its scalar C. It calls its kernels through
//! function pointers that an init function sets once, so after that init
//! these replace the pointers that cost most in a thumbnail's decode and
//! encode:
//! - `VP8Transform`, the inverse transform, and its shortcuts for blocks
//!   with only a DC or three coefficients, in wasm SIMD (`idct.rs`);
//! - `WebPRescalerImportRowShrink`, when a row shrinks by exactly 2, 4 or 8
//!   (as scaled decoding does for most photo sizes), as fixed-size sums
//!   (`rescale.rs`), handing any other row back to libwebp's own;
//! - `VP8ITransform`, the encoder's inverse transform, the same code as
//!   `VP8Transform` (`idct.rs`);
//! - `VP8FTransform`, the encoder's forward transform, in wasm SIMD
//!   (`fdct.rs`);
//! - `VP8TDisto4x4` and `VP8TDisto16x16`, the encoder's weighted spectral
//!   distortion, in wasm SIMD (`disto.rs`);
//! - `VP8EncQuantizeBlock` (and its WHT twin), the encoder's quantizer, in
//!   wasm SIMD (`quantize.rs`).
//!
//! All give the same bytes as libwebp's C: their tests compare them with
//! libwebp's own (natively, through the same pointers, `ffi.rs`) or with
//! ports of its C, and the decoded and encoded thumbnails are byte-identical.

mod disto;
mod fdct;
mod ffi;
mod idct;
mod quantize;
mod rescale;

/// Points libwebp's decoder and encoder at these kernels; idempotent, and a
/// no-op where libwebp has its own SIMD or wasm SIMD is off.
pub(crate) fn install() {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use ffi::*;
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: each init runs its body once (later calls return at its
        // guard), so pointers set after it stay; the components are
        // single-threaded and nothing decodes during this.
        ONCE.call_once(|| unsafe {
            VP8DspInit();
            VP8Transform = Some(idct::transform_two);
            VP8TransformDC = Some(idct::transform_dc_block);
            VP8TransformAC3 = Some(idct::transform_ac3_block);
            VP8EncDspInit();
            VP8ITransform = Some(idct::itransform_two);
            VP8FTransform = Some(fdct::ftransform);
            VP8TDisto4x4 = Some(disto::tdisto4x4);
            VP8TDisto16x16 = Some(disto::tdisto16x16);
            VP8EncQuantizeBlock = Some(quantize::quantize_block);
            VP8EncQuantizeBlockWHT = Some(quantize::quantize_block);
            WebPRescalerDspInit();
            rescale::install(&raw mut WebPRescalerImportRowShrink);
        });
    }
}

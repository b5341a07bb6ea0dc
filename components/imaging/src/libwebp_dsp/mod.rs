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
//! All give the same bytes as libwebp's C (their tests compare them with
//! ports of it, and the quantizer with libwebp itself; the decoded and
//! encoded thumbnails are byte-identical).

mod disto;
mod fdct;
mod idct;
mod lanes;
mod quantize;
mod rescale;

/// Points libwebp's decoder and encoder at these kernels; idempotent, and a
/// no-op where libwebp has its own SIMD or wasm SIMD is off.
pub(crate) fn install() {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        type Idct2 = unsafe extern "C" fn(*const i16, *mut u8, std::ffi::c_int);
        type Idct = unsafe extern "C" fn(*const i16, *mut u8);
        type ITransform = unsafe extern "C" fn(*const u8, *const i16, *mut u8, std::ffi::c_int);
        type FTransform = unsafe extern "C" fn(*const u8, *const u8, *mut i16);
        type Metric = unsafe extern "C" fn(*const u8, *const u8, *const u16) -> std::ffi::c_int;
        type Quantize =
            unsafe extern "C" fn(*mut i16, *mut i16, *const quantize::Matrix) -> std::ffi::c_int;
        extern "C" {
            fn VP8DspInit();
            fn VP8EncDspInit();
            static mut VP8ITransform: Option<ITransform>;
            static mut VP8FTransform: Option<FTransform>;
            static mut VP8TDisto4x4: Option<Metric>;
            static mut VP8TDisto16x16: Option<Metric>;
            static mut VP8EncQuantizeBlock: Option<Quantize>;
            static mut VP8EncQuantizeBlockWHT: Option<Quantize>;
            fn WebPRescalerDspInit();
            static mut VP8Transform: Option<Idct2>;
            static mut VP8TransformDC: Option<Idct>;
            static mut VP8TransformAC3: Option<Idct>;
            static mut WebPRescalerImportRowShrink: Option<rescale::ImportRow>;
        }
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

//! libwebp's DSP init functions and the kernel pointers they set, declared
//! once: `install` replaces the pointers in the components, and the kernels'
//! tests call libwebp's own through them natively.
#![allow(non_upper_case_globals, dead_code)]

use std::ffi::c_int;

use super::quantize::Matrix;
use super::rescale::ImportRow;

/// `VP8Transform`: coefficients, pixels (added in place), two blocks?
pub type Idct2 = unsafe extern "C" fn(*const i16, *mut u8, c_int);
/// `VP8TransformDC`, `VP8TransformAC3`: one block, in place.
pub type Idct = unsafe extern "C" fn(*const i16, *mut u8);
/// `VP8ITransform`: prediction, coefficients, output, two blocks?
pub type ITransform = unsafe extern "C" fn(*const u8, *const i16, *mut u8, c_int);
/// `VP8FTransform`: source, prediction, coefficients out.
pub type FTransform = unsafe extern "C" fn(*const u8, *const u8, *mut i16);
/// `VP8TDisto4x4`, `VP8TDisto16x16`: two blocks and the weights.
pub type Metric = unsafe extern "C" fn(*const u8, *const u8, *const u16) -> c_int;
/// `VP8EncQuantizeBlock`, `VP8EncQuantizeBlockWHT`.
pub type Quantize = unsafe extern "C" fn(*mut i16, *mut i16, *const Matrix) -> c_int;

extern "C" {
    pub fn VP8DspInit();
    pub fn VP8EncDspInit();
    pub fn WebPRescalerDspInit();
    pub static mut VP8Transform: Option<Idct2>;
    pub static mut VP8TransformDC: Option<Idct>;
    pub static mut VP8TransformAC3: Option<Idct>;
    pub static mut VP8ITransform: Option<ITransform>;
    pub static mut VP8FTransform: Option<FTransform>;
    pub static mut VP8TDisto4x4: Option<Metric>;
    pub static mut VP8TDisto16x16: Option<Metric>;
    pub static mut VP8EncQuantizeBlock: Option<Quantize>;
    pub static mut VP8EncQuantizeBlockWHT: Option<Quantize>;
    pub static mut WebPRescalerImportRowShrink: Option<ImportRow>;
}

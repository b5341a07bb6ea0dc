//! A safe wrapper over rav1d (BSD-2, the Rust port of dav1d, built without
//! its assembly), which decodes one AV1 still frame: the colour or the
//! alpha item of an AVIF. One thread and no frame delay, so it never spawns
//! (wasm32-wasip2 has no threads) and the first picture is the one we sent.

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    Dav1dSequenceHeader, DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib as dav1d;
use std::ptr::NonNull;

/// The H.273 colour primaries and transfer characteristics an AV1 sequence
/// header declares, if it declares them (`color_description_present_flag`).
/// An AVIF without a `colr` box takes its colour space from here.
pub(crate) fn sequence_colour(obus: &[u8]) -> Option<(u32, u32)> {
    let mut header = std::mem::MaybeUninit::<Dav1dSequenceHeader>::uninit();
    // SAFETY: `header` may be written whole; `obus` is a live slice of
    // `obus.len()` bytes, which rav1d only reads.
    let header = unsafe {
        let parsed = dav1d::dav1d_parse_sequence_header(
            NonNull::new(header.as_mut_ptr()),
            Some(NonNull::from(obus).cast::<u8>()),
            obus.len(),
        );
        if parsed.0 != 0 {
            return None;
        }
        // Written in full by a successful parse.
        header.assume_init()
    };
    (header.color_description_present != 0).then_some((header.pri, header.trc))
}

/// How the chroma planes are subsampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Monochrome,
    I420,
    I422,
    I444,
}

impl Layout {
    /// Chroma subsampling as right shifts of (x, y).
    pub fn shift(self) -> (u32, u32) {
        match self {
            Layout::I420 => (1, 1),
            Layout::I422 => (1, 0),
            Layout::Monochrome | Layout::I444 => (0, 0),
        }
    }
}

/// A decoded frame, borrowed from rav1d for as long as the callback runs.
pub(crate) struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub layout: Layout,
    /// AV1 `matrix_coefficients` (ITU-T H.273 codes).
    pub matrix: u8,
    pub full_range: bool,
    /// Y, U, V planes (U and V empty when monochrome), each `stride` bytes a
    /// row; samples are u8, or little-endian u16 above 8 bits.
    pub planes: [&'a [u8]; 3],
    pub strides: [usize; 3],
}

impl Frame<'_> {
    /// Width and height of the U and V planes (0×0 when monochrome).
    pub fn chroma_size(&self) -> (usize, usize) {
        if self.layout == Layout::Monochrome {
            return (0, 0);
        }
        let (shift_x, shift_y) = self.layout.shift();
        (
            (self.width as usize).div_ceil(1 << shift_x),
            (self.height as usize).div_ceil(1 << shift_y),
        )
    }

    /// Row `y` of `plane`, `width` samples, read into `out` as
    /// `(sample − offset) · gain`.
    pub fn load_row(&self, plane: usize, y: usize, (offset, gain): (f32, f32), out: &mut [f32]) {
        let at = y * self.strides[plane];
        let to_unit = |s: u16| (f32::from(s) - offset) * gain;
        const N: usize = ROW_STEP;
        let done = out.len() / N * N;
        if self.bit_depth == 8 {
            let row = &self.planes[plane][at..at + out.len()];
            let mut outs = out.chunks_exact_mut(N);
            for (o, s) in (&mut outs).zip(row.chunks_exact(N)) {
                for k in 0..N {
                    o[k] = to_unit(u16::from(s[k]));
                }
            }
            for (v, &s) in outs.into_remainder().iter_mut().zip(&row[done..]) {
                *v = to_unit(u16::from(s));
            }
        } else {
            let row = &self.planes[plane][at..at + 2 * out.len()];
            let mut outs = out.chunks_exact_mut(N);
            for (o, s) in (&mut outs).zip(row.chunks_exact(2 * N)) {
                for k in 0..N {
                    o[k] = to_unit(u16::from_le_bytes([s[2 * k], s[2 * k + 1]]));
                }
            }
            let rest = row[2 * done..].chunks_exact(2);
            for (v, s) in outs.into_remainder().iter_mut().zip(rest) {
                *v = to_unit(u16::from_le_bytes([s[0], s[1]]));
            }
        }
    }
}

/// Samples a loop over an AV1 row takes a step (here and in
/// `pipeline/decode/yuv.rs`): each loop header is also the host's epoch
/// check, around which the loop's constants were spilled; four samples a
/// step (as the compiler vectorised it) cost reading the planes 3 % of an
/// AVIF thumbnail, sixteen 1 %.
pub(crate) const ROW_STEP: usize = 16;

/// Decodes the AV1 bitstream `obus` (one still frame, of at most
/// `max_pixels`: rav1d refuses a larger one before allocating it) and hands
/// the frame to `read`. Errors are rav1d's, as text.
pub(crate) fn decode<R>(
    obus: &[u8],
    max_pixels: u32,
    read: impl FnOnce(&Frame<'_>) -> R,
) -> Result<R, String> {
    let decoder = Decoder::open(max_pixels)?;
    let mut picture = Picture(Dav1dPicture::default());
    // SAFETY: `data` is allocated by rav1d with `obus.len()` bytes, which we
    // fill before handing it over; the context is open until `decoder` drops
    // and the picture is released by `Picture`'s drop.
    unsafe {
        let mut data = Dav1dData::default();
        let buf = dav1d::dav1d_data_create(Some(NonNull::from(&mut data)), obus.len());
        if buf.is_null() {
            return Err("cannot allocate the AV1 data".into());
        }
        std::ptr::copy_nonoverlapping(obus.as_ptr(), buf, obus.len());
        let sent = dav1d::dav1d_send_data(decoder.context(), Some(NonNull::from(&mut data)));
        dav1d::dav1d_data_unref(Some(NonNull::from(&mut data)));
        check(sent.0, "the AV1 data was refused")?;
        let got = dav1d::dav1d_get_picture(decoder.context(), Some(NonNull::from(&mut picture.0)));
        check(got.0, "no frame in the AV1 data")?;
        let p = &picture.0;
        let (width, height) = (
            u32::try_from(p.p.w).map_err(|e| e.to_string())?,
            u32::try_from(p.p.h).map_err(|e| e.to_string())?,
        );
        let layout = match p.p.layout {
            DAV1D_PIXEL_LAYOUT_I400 => Layout::Monochrome,
            DAV1D_PIXEL_LAYOUT_I420 => Layout::I420,
            DAV1D_PIXEL_LAYOUT_I422 => Layout::I422,
            _ => Layout::I444,
        };
        let seq = p.seq_hdr.ok_or("no sequence header")?.as_ref();
        let bit_depth = u8::try_from(p.p.bpc).map_err(|e| e.to_string())?;
        let row_bytes = |w: usize| w * if bit_depth == 8 { 1 } else { 2 };
        let plane = |i: usize, stride: isize, (w, h): (usize, usize)| -> Result<&[u8], String> {
            if h == 0 || w == 0 {
                return Ok(&[]);
            }
            let stride = usize::try_from(stride).map_err(|_| "negative stride")?;
            let ptr = p.data[i].ok_or("missing plane")?.as_ptr().cast::<u8>();
            // SAFETY: rav1d's plane `i` holds `h` rows of `stride` bytes, the
            // last at least `row_bytes(w)` long; it lives as long as `picture`.
            Ok(std::slice::from_raw_parts(
                ptr,
                stride * (h - 1) + row_bytes(w),
            ))
        };
        let mut frame = Frame {
            width,
            height,
            bit_depth,
            layout,
            matrix: u8::try_from(seq.mtrx).unwrap_or(2),
            full_range: seq.color_range != 0,
            planes: [&[]; 3],
            strides: [
                p.stride[0] as usize,
                p.stride[1] as usize,
                p.stride[1] as usize,
            ],
        };
        let chroma = frame.chroma_size();
        frame.planes = [
            plane(0, p.stride[0], (width as usize, height as usize))?,
            plane(1, p.stride[1], chroma)?,
            plane(2, p.stride[1], chroma)?,
        ];
        Ok(read(&frame))
    }
}

/// rav1d answers a negative errno; the ones it uses read better as words.
fn check(code: i32, what: &str) -> Result<(), String> {
    if code >= 0 {
        return Ok(());
    }
    let why = match std::io::Error::from_raw_os_error(-code).kind() {
        std::io::ErrorKind::InvalidInput => "invalid or corrupt AV1 data".to_string(),
        std::io::ErrorKind::OutOfMemory => "out of memory".to_string(),
        _ => format!("rav1d error {code}"),
    };
    Err(format!("{what}: {why}"))
}

/// An open rav1d context, closed on drop.
struct Decoder(Option<Dav1dContext>);

impl Decoder {
    fn open(max_pixels: u32) -> Result<Decoder, String> {
        // SAFETY: `settings` is written by rav1d before it is read; `context`
        // is written by `dav1d_open`.
        unsafe {
            let mut settings = std::mem::MaybeUninit::<Dav1dSettings>::uninit();
            dav1d::dav1d_default_settings(NonNull::new_unchecked(settings.as_mut_ptr()));
            let mut settings = settings.assume_init();
            settings.n_threads = 1;
            settings.max_frame_delay = 1;
            settings.frame_size_limit = max_pixels;
            // Only the highest spatial layer: the image a viewer sees.
            settings.all_layers = 0;
            let mut context: Option<Dav1dContext> = None;
            let opened = dav1d::dav1d_open(
                Some(NonNull::from(&mut context)),
                Some(NonNull::from(&mut settings)),
            );
            check(opened.0, "cannot start the AV1 decoder")?;
            Ok(Decoder(context))
        }
    }

    /// rav1d's C API takes the context by value (a copyable handle).
    fn context(&self) -> Option<Dav1dContext> {
        self.0
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context came from `dav1d_open` and is closed once.
        unsafe { dav1d::dav1d_close(Some(NonNull::from(&mut self.0))) }
    }
}

/// A picture rav1d filled in, released on drop.
struct Picture(Dav1dPicture);

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture is either default (unref is a no-op) or came
        // from `dav1d_get_picture`, and is released once.
        unsafe { dav1d::dav1d_picture_unref(Some(NonNull::from(&mut self.0))) }
    }
}

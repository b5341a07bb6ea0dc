//! AV1 frames (Y′CbCr or GBR at 8, 10 or 12 bits, any subsampling) to 8-bit
//! RGB rows, with the matrix and range the sequence header declares, as
//! libavif does. Subsampled chroma is upsampled with the 9:3:3:1 bilinear
//! weights libavif uses (each chroma sample centred on the pixels it
//! covers), so chroma edges are not blocky at full size. A row at a time, so
//! the caller can box-average rows as they come instead of holding the
//! full-size image.

use crate::av1::{Frame, Layout, ROW_STEP as N};
use crate::rgb_planes::{interleave_rgb, unit_to_byte, unit_to_bytes};

/// Luma weights (Kr, Kb) of an H.273 `matrix_coefficients` code; `None` for
/// identity (GBR stored as Y=G, U=B, V=R).
fn weights(matrix: u8) -> Option<(f32, f32)> {
    match matrix {
        0 => None,
        1 => Some((0.2126, 0.0722)),
        4 => Some((0.30, 0.11)),
        7 => Some((0.212, 0.087)),
        9 | 10 => Some((0.2627, 0.0593)),
        // 5 and 6 (BT.601), 2 (unspecified, read as BT.601 like libavif) and
        // the rest.
        _ => Some((0.299, 0.114)),
    }
}

/// Converts the rows of one frame; holds one row of each plane, normalised.
pub(super) struct Converter<'a, 'f> {
    frame: &'a Frame<'f>,
    /// Y′ = (y − offset) · gain.
    luma_scale: (f32, f32),
    /// Cb, Cr = (c − half) · gain; for GBR, the luma scale.
    chroma_scale: (f32, f32),
    /// R = Y′ + r_cr·Cr; G = Y′ − g_cb·Cb − g_cr·Cr; B = Y′ + b_cb·Cb.
    /// `None` for GBR.
    matrix: Option<[f32; 4]>,
    luma: Vec<f32>,
    /// U and V of the nearer and the farther chroma row, at chroma width.
    near: [Vec<f32>; 2],
    far: [Vec<f32>; 2],
    /// U and V at full width.
    chroma: [Vec<f32>; 2],
    rgb: [Vec<f32>; 3],
    /// `rgb` as bytes, one plane each, before they are interleaved.
    bytes: [Vec<u8>; 3],
}

impl<'a, 'f> Converter<'a, 'f> {
    pub fn new(frame: &'a Frame<'f>) -> Self {
        let luma_scale = luma_scale(frame);
        let scale = f32::from(1u16 << (frame.bit_depth - 8));
        let max = ((1u32 << frame.bit_depth) - 1) as f32;
        let half = f32::from(1u16 << (frame.bit_depth - 1));
        let matrix = weights(frame.matrix).map(|(kr, kb)| {
            let kg = 1.0 - kr - kb;
            let (r_cr, b_cb) = (2.0 * (1.0 - kr), 2.0 * (1.0 - kb));
            [r_cr, kb * b_cb / kg, kr * r_cr / kg, b_cb]
        });
        let chroma_scale = match (matrix, frame.full_range) {
            (None, _) => luma_scale,
            (Some(_), true) => (half, 1.0 / max),
            (Some(_), false) => (half, 1.0 / (224.0 * scale)),
        };
        let width = frame.width as usize;
        let chroma_width = frame.chroma_size().0;
        let row = |n| vec![0.0; n];
        Converter {
            frame,
            luma_scale,
            chroma_scale,
            matrix,
            luma: row(width),
            near: [row(chroma_width), row(chroma_width)],
            far: [row(chroma_width), row(chroma_width)],
            chroma: [row(width), row(width)],
            rgb: [row(width), row(width), row(width)],
            bytes: [vec![0; width], vec![0; width], vec![0; width]],
        }
    }

    /// Writes row `y` as RGB into the first three of every `channels` bytes
    /// of `out` (at least `width × channels` bytes).
    pub fn row(&mut self, y: usize, out: &mut [u8], channels: usize) {
        let frame = self.frame;
        frame.load_row(0, y, self.luma_scale, &mut self.luma);
        if frame.layout == Layout::Monochrome {
            let pixels = out[..frame.width as usize * channels].chunks_exact_mut(channels);
            for (px, &l) in pixels.zip(&self.luma) {
                px[..3].fill(unit_to_byte(l));
            }
            return;
        }
        self.upsample_chroma(y);
        let [cb, cr] = &self.chroma;
        let [r, g, b] = &mut self.rgb;
        match self.matrix {
            None => {
                g.copy_from_slice(&self.luma);
                b.copy_from_slice(cb);
                r.copy_from_slice(cr);
            }
            Some([r_cr, g_cb, g_cr, b_cb]) => {
                let rgb =
                    |l: f32, u: f32, v: f32| (l + r_cr * v, l - g_cb * u - g_cr * v, l + b_cb * u);
                // `N` pixels a loop step ([`crate::av1::ROW_STEP`]).
                let whole = r.len() / N * N;
                for at in (0..whole).step_by(N) {
                    let (r, g, b) = (&mut r[at..at + N], &mut g[at..at + N], &mut b[at..at + N]);
                    let (l, u, v) = (&self.luma[at..at + N], &cb[at..at + N], &cr[at..at + N]);
                    for k in 0..N {
                        (r[k], g[k], b[k]) = rgb(l[k], u[k], v[k]);
                    }
                }
                for k in whole..r.len() {
                    (r[k], g[k], b[k]) = rgb(self.luma[k], cb[k], cr[k]);
                }
            }
        }
        // Plane by plane, then interleaved: loops the compiler vectorizes,
        // where one pixel at a time it could not.
        for (plane, bytes) in self.rgb.iter().zip(self.bytes.iter_mut()) {
            unit_to_bytes(plane, bytes);
        }
        let [r, g, b] = &self.bytes;
        let out = &mut out[..frame.width as usize * channels];
        match channels {
            3 => interleave_rgb(r, g, b, out),
            _ => {
                for (((px, &r), &g), &b) in out.chunks_exact_mut(channels).zip(r).zip(g).zip(b) {
                    px[..3].copy_from_slice(&[r, g, b]);
                }
            }
        }
    }

    /// Fills `chroma` with row `y`'s U and V at full width, each blended 3:1
    /// with its nearer neighbour along each subsampled axis.
    fn upsample_chroma(&mut self, y: usize) {
        let frame = self.frame;
        let (shift_x, shift_y) = frame.layout.shift();
        let (cy, ny) = neighbours(y, shift_y, frame.chroma_size().1);
        for plane in 0..2 {
            let (near, far, full) = (
                &mut self.near[plane],
                &mut self.far[plane],
                &mut self.chroma[plane],
            );
            frame.load_row(plane + 1, cy, self.chroma_scale, near);
            if ny != cy {
                frame.load_row(plane + 1, ny, self.chroma_scale, far);
                let blend = |n: f32, f: f32| 0.75 * n + 0.25 * f;
                let whole = near.len() / N * N;
                for at in (0..whole).step_by(N) {
                    let (n, f) = (&mut near[at..at + N], &far[at..at + N]);
                    for k in 0..N {
                        n[k] = blend(n[k], f[k]);
                    }
                }
                for k in whole..near.len() {
                    near[k] = blend(near[k], far[k]);
                }
            }
            if shift_x == 0 {
                full.copy_from_slice(near);
                continue;
            }
            upsample_row(near, full);
        }
    }
}

/// `full` (a row's width) from `near` (its chroma samples, each covering
/// two pixels): each pixel 3:1 its own sample and the nearer neighbour
/// (itself at the edges), as [`neighbours`] pairs them.
fn upsample_row(near: &[f32], full: &mut [f32]) {
    let last = near.len() - 1;
    let mix = |c: f32, n: f32| 0.75 * c + 0.25 * n;
    full[0] = mix(near[0], near[0]);
    if let Some(v) = full.get_mut(1) {
        *v = mix(near[0], near[1.min(last)]);
    }
    // Samples 1..last have both neighbours: two pixels each, no branches.
    if last >= 2 {
        let pairs = full[2..2 * last].chunks_exact_mut(2);
        for (pair, w) in pairs.zip(near.windows(3)) {
            pair[0] = mix(w[1], w[0]);
            pair[1] = mix(w[1], w[2]);
        }
    }
    for (x, v) in full.iter_mut().enumerate().skip(2 * last.max(1)) {
        let (c, n) = neighbours(x, 1, last + 1);
        *v = mix(near[c], near[n]);
    }
}

/// Y′ = (y − offset) · gain for the frame's bit depth and range.
fn luma_scale(frame: &Frame<'_>) -> (f32, f32) {
    let scale = f32::from(1u16 << (frame.bit_depth - 8));
    if frame.full_range {
        (0.0, 1.0 / ((1u32 << frame.bit_depth) - 1) as f32)
    } else {
        (16.0 * scale, 1.0 / (219.0 * scale))
    }
}

/// Writes row `y` of the alpha frame's luma into every fourth byte of `out`
/// (an RGBA row); `buffer` holds `width` values.
pub(super) fn alpha_row(frame: &Frame<'_>, y: usize, buffer: &mut [f32], out: &mut [u8]) {
    frame.load_row(0, y, luma_scale(frame), buffer);
    for (px, &a) in out.chunks_exact_mut(4).zip(buffer.iter()) {
        px[3] = unit_to_byte(a);
    }
}

/// Divides colour by alpha, for images stored premultiplied (`prem`).
pub(super) fn unpremultiply(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = u16::from(px[3]);
        if a != 0 && a != 255 {
            for c in &mut px[..3] {
                *c = ((u16::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}

/// The chroma index covering `i` and its nearer neighbour (itself at the
/// edges, or when the axis is not subsampled).
#[inline(always)]
fn neighbours(i: usize, shift: u32, len: usize) -> (usize, usize) {
    let c = i >> shift;
    if shift == 0 {
        return (c, c);
    }
    let n = if i & 1 == 1 {
        (c + 1).min(len - 1)
    } else {
        c.saturating_sub(1)
    };
    (c, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampled_rows_weigh_each_pixels_sample_and_its_nearer_neighbour() {
        for width in 1..40usize {
            let near: Vec<f32> = (0..width.div_ceil(2)).map(|i| (i * i) as f32).collect();
            let mut full = vec![f32::NAN; width];
            upsample_row(&near, &mut full);
            for (x, &v) in full.iter().enumerate() {
                let (c, n) = neighbours(x, 1, near.len());
                assert_eq!(v, 0.75 * near[c] + 0.25 * near[n], "width {width}, x {x}");
            }
        }
    }
}

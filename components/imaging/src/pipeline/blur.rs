//! Step: Gaussian blur (`blur=sigma`, in output pixels), approximated by three
//! box blurs per direction, so its cost does not grow with sigma.

use super::{Image, Job};
use crate::Error;

pub(crate) fn apply(job: &Job<'_>, image: Image) -> Result<Image, Error> {
    let Some(tenths) = job.options.blur else {
        return Ok(image);
    };
    let data = gaussian(&image, f32::from(tenths) / 10.0);
    Ok(Image { data, ..image })
}

/// A blurred copy of the pixel data of `image`.
pub(crate) fn gaussian(image: &Image, sigma: f32) -> Vec<u8> {
    let (w, h, c) = (
        image.width as usize,
        image.height as usize,
        image.channels(),
    );
    let mut a = image.data.clone();
    let mut b = vec![0u8; a.len()];
    for radius in box_radii(sigma) {
        box_pass(&a, &mut b, w, h, c, radius, true);
        box_pass(&b, &mut a, w, h, c, radius, false);
    }
    a
}

/// Radii of three boxes whose successive application approximates `sigma`
/// (W. Jarosz / P. Kovesi's construction).
fn box_radii(sigma: f32) -> [usize; 3] {
    let n = 3.0;
    let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut lower = ideal.floor() as i32;
    if lower % 2 == 0 {
        lower -= 1;
    }
    let lower = lower.max(1);
    let upper = lower + 2;
    let (lf, sf) = (lower as f32, sigma);
    let m = ((12.0 * sf * sf - n * lf * lf - 4.0 * n * lf - 3.0 * n) / (-4.0 * lf - 4.0)).round()
        as i32;
    let size = |i: i32| if i < m { lower } else { upper };
    [0, 1, 2].map(|i| ((size(i) - 1) / 2) as usize)
}

/// One box blur along rows (`horizontal`) or columns, edges clamped.
fn box_pass(src: &[u8], dst: &mut [u8], w: usize, h: usize, c: usize, r: usize, horizontal: bool) {
    let (lines, len, step, line_step) = if horizontal {
        (h, w, c, w * c)
    } else {
        (w, h, w * c, c)
    };
    let div = (2 * r + 1) as u32;
    for line in 0..lines {
        let base = line * line_step;
        let at = |i: usize| base + i.min(len - 1) * step;
        for ch in 0..c {
            let mut sum: u32 = u32::from(src[at(0) + ch]) * (r as u32 + 1);
            for i in 1..=r {
                sum += u32::from(src[at(i) + ch]);
            }
            for i in 0..len {
                dst[base + i * step + ch] = ((sum + div / 2) / div) as u8;
                let add = at(i + r + 1);
                let sub = at(i.saturating_sub(r));
                sum = sum + u32::from(src[add + ch]) - u32::from(src[sub + ch]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_spreads_a_dot_and_keeps_flat_areas() {
        let mut data = vec![100u8; 21 * 21 * 3];
        data[(10 * 21 + 10) * 3] = 255;
        let image = Image {
            width: 21,
            height: 21,
            alpha: false,
            data,
        };
        let out = gaussian(&image, 2.0);
        assert!(out[(10 * 21 + 10) * 3] < 120, "peak flattened");
        assert!(out[(10 * 21 + 12) * 3] > 100, "neighbours raised");
        assert_eq!(out[1], 100, "flat area unchanged");
    }
}

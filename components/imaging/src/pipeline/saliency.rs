//! Step (`gravity=auto`): where a `fit=cover`/`crop` crop goes, chosen by
//! what draws the eye, after libvips' `attention` strategy
//! (libvips/conversion/smartcrop.c): on a map of the image reduced to at
//! most [`MAP_SIDE`] cells a side, the sum of edges (the Laplacian of
//! luma), skin tones and colour saturation, blurred by a tenth of the
//! crop's size; the crop is placed where the window of its size holds the
//! most of it (libvips centres on the single hottest cell; a window sum is
//! steadier on a large subject). Ties, as in a flat image, keep the centre.
//!
//! Cost: the map samples at most 4 × 4 decoded pixels a cell, so it is a
//! few thousand pixels whatever the image's size: microseconds beside the
//! decode. Runs after orientation, on the decoded (often reduced) image.

use super::decoded::{Decoded, Pixels};
use super::srgb::tables;
use super::Job;
use crate::{Fit, Gravity};

/// Cells along the map's longer side.
pub(crate) const MAP_SIDE: u32 = 64;
/// Decoded pixels sampled along each side of a cell, at most.
const SAMPLES: u32 = 4;

/// Moves `job.plan.region` onto the most salient window of its size.
pub(crate) fn apply(job: &mut Job<'_>, decoded: &Decoded) {
    let region = job.plan.region;
    let (sw, sh) = (f64::from(job.source.0), f64::from(job.source.1));
    let crops = region.width < sw - 0.5 || region.height < sh - 0.5;
    if job.options.gravity != Gravity::Auto
        || !matches!(job.options.fit, Fit::Cover | Fit::Crop)
        || !crops
    {
        return;
    }
    let map = Map::of(decoded);
    let score = blur(&map.saliency(), map.width, map.height, window(&map, job));
    let (ww, wh) = window(&map, job);
    let (x, y) = best_window(&score, map.width, map.height, (ww, wh));
    // Cells back to source pixels; the region keeps its size.
    let kx = sw / f64::from(map.width);
    let ky = sh / f64::from(map.height);
    job.plan.region.x = (f64::from(x) * kx).clamp(0.0, sw - region.width);
    job.plan.region.y = (f64::from(y) * ky).clamp(0.0, sh - region.height);
}

/// The crop's size in whole cells (at least one).
fn window(map: &Map, job: &Job<'_>) -> (u32, u32) {
    let cells = |region: f64, source: u32, cells: u32| {
        ((region * f64::from(cells) / f64::from(source)).round() as u32).clamp(1, cells)
    };
    (
        cells(job.plan.region.width, job.source.0, map.width),
        cells(job.plan.region.height, job.source.1, map.height),
    )
}

/// The image reduced to cells of mean sRGB (0..=1, averaged in gamma
/// space), alpha-weighted.
struct Map {
    width: u32,
    height: u32,
    rgb: Vec<[f32; 3]>,
}

impl Map {
    fn of(decoded: &Decoded) -> Map {
        let (dw, dh) = decoded.size();
        // The part of the grid that shows the source (a reduced decode's
        // last block may be partial).
        let ew = decoded.extent.width.clamp(1.0, f64::from(dw));
        let eh = decoded.extent.height.clamp(1.0, f64::from(dh));
        let long = ew.max(eh);
        let scale = (f64::from(MAP_SIDE) / long).min(1.0);
        let width = ((ew * scale).round() as u32).max(1);
        let height = ((eh * scale).round() as u32).max(1);
        let (left, top) = (decoded.extent.left.max(0.0), decoded.extent.top.max(0.0));
        // One sample as sRGB (0..=1) premultiplied by its weight (alpha).
        // 8-bit pixels are averaged as they are, in gamma space, as
        // libvips' attention map is: the sRGB ↔ linear tables (thousands of
        // `powf`s to build, in a fresh instance) are only read for pixels
        // that are linear already, whose decoder has built them.
        let sample = |x: u32, y: u32| -> ([f32; 3], f32) {
            match &decoded.pixels {
                Pixels::Srgb(image) => {
                    let c = image.channels();
                    let at = (y as usize * image.width as usize + x as usize) * c;
                    let p = &image.data[at..at + c];
                    let a = if image.alpha {
                        f32::from(p[3]) / 255.0
                    } else {
                        1.0
                    };
                    ([0, 1, 2].map(|i| f32::from(p[i]) / 255.0 * a), a)
                }
                Pixels::Linear(linear) => {
                    let c = linear.channels();
                    let at = (y as usize * linear.width as usize + x as usize) * c;
                    let p = &linear.data[at..at + c];
                    let a = if linear.alpha {
                        f32::from(p[3]) / 65535.0
                    } else {
                        1.0
                    };
                    let srgb = &tables().to_srgb;
                    let straight = |v: u16| {
                        let l = if a > 0.0 {
                            (f32::from(v) / a).min(65535.0)
                        } else {
                            0.0
                        };
                        f32::from(srgb[l as usize >> 4]) / 255.0 * a
                    };
                    ([0, 1, 2].map(|i| straight(p[i])), a)
                }
            }
        };
        let mut rgb = Vec::with_capacity((width * height) as usize);
        for cy in 0..height {
            let y0 = top + f64::from(cy) * eh / f64::from(height);
            let y1 = top + f64::from(cy + 1) * eh / f64::from(height);
            for cx in 0..width {
                let x0 = left + f64::from(cx) * ew / f64::from(width);
                let x1 = left + f64::from(cx + 1) * ew / f64::from(width);
                let (mut sum, mut weight) = ([0f32; 3], 0f32);
                for j in 0..SAMPLES {
                    let y = (y0 + (y1 - y0) * (f64::from(j) + 0.5) / f64::from(SAMPLES)) as u32;
                    for i in 0..SAMPLES {
                        let x = (x0 + (x1 - x0) * (f64::from(i) + 0.5) / f64::from(SAMPLES)) as u32;
                        let (rgb, a) = sample(x.min(dw - 1), y.min(dh - 1));
                        for k in 0..3 {
                            sum[k] += rgb[k];
                        }
                        weight += a;
                    }
                }
                let mean = |v: f32| if weight > 0.0 { v / weight } else { 0.0 };
                rgb.push(sum.map(mean));
            }
        }
        Map { width, height, rgb }
    }

    /// Per cell: edges + skin + saturation, each about 0..=1.
    fn saliency(&self) -> Vec<f32> {
        let (w, h) = (self.width as usize, self.height as usize);
        let luma: Vec<f32> = self
            .rgb
            .iter()
            .map(|[r, g, b]| 0.2126 * r + 0.7152 * g + 0.0722 * b)
            .collect();
        let at = |x: usize, y: usize| luma[y * w + x];
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let l = at(x, y);
                let laplacian = 4.0 * l
                    - at(x.saturating_sub(1), y)
                    - at((x + 1).min(w - 1), y)
                    - at(x, y.saturating_sub(1))
                    - at(x, (y + 1).min(h - 1));
                let [r, g, b] = self.rgb[y * w + x];
                let (max, min) = (r.max(g).max(b), r.min(g).min(b));
                let saturation = if max > 0.1 { (max - min) / max } else { 0.0 };
                out.push((laplacian.abs() * 4.0).min(1.0) + skin(r, g, b) + saturation * 0.5);
            }
        }
        out
    }
}

/// Skin tones by the rule of Kovač, Peer and Solina (2003), sRGB 0..=1.
fn skin(r: f32, g: f32, b: f32) -> f32 {
    let [r, g, b] = [r, g, b].map(|v| v * 255.0);
    let spread = r.max(g).max(b) - r.min(g).min(b);
    let is_skin =
        r > 95.0 && g > 40.0 && b > 20.0 && spread > 15.0 && (r - g).abs() > 15.0 && r > g && r > b;
    if is_skin {
        1.0
    } else {
        0.0
    }
}

/// Two box blurs of a tenth of the window's size (about a Gaussian), so a
/// lone bright cell does not outweigh a subject.
fn blur(values: &[f32], w: u32, h: u32, (ww, wh): (u32, u32)) -> Vec<f32> {
    let (w, h) = (w as usize, h as usize);
    let rx = (ww as usize / 10).max(1);
    let ry = (wh as usize / 10).max(1);
    let mut v = values.to_vec();
    for _ in 0..2 {
        v = box_pass(&v, w, h, rx, true);
        v = box_pass(&v, w, h, ry, false);
    }
    v
}

fn box_pass(v: &[f32], w: usize, h: usize, r: usize, horizontal: bool) -> Vec<f32> {
    let mut out = vec![0f32; v.len()];
    for y in 0..h {
        for x in 0..w {
            let (lo, hi, along) = if horizontal {
                (x.saturating_sub(r), (x + r).min(w - 1), 0)
            } else {
                (y.saturating_sub(r), (y + r).min(h - 1), 1)
            };
            let mut sum = 0.0;
            for i in lo..=hi {
                sum += if along == 0 {
                    v[y * w + i]
                } else {
                    v[i * w + x]
                };
            }
            out[y * w + x] = sum / (hi - lo + 1) as f32;
        }
    }
    out
}

/// The top-left cell of the `(ww, wh)` window holding the largest sum;
/// among equal sums (within 1%), the one nearest the centre.
fn best_window(score: &[f32], w: u32, h: u32, (ww, wh): (u32, u32)) -> (u32, u32) {
    let (w, h, ww, wh) = (w as usize, h as usize, ww as usize, wh as usize);
    // Summed-area table with a zero row and column in front.
    let mut sat = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0f64;
        for x in 0..w {
            row += f64::from(score[y * w + x]);
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let sum = |x: usize, y: usize| {
        let s = |x: usize, y: usize| sat[y * (w + 1) + x];
        s(x + ww, y + wh) - s(x, y + wh) - s(x + ww, y) + s(x, y)
    };
    let centre = ((w - ww) as f64 / 2.0, (h - wh) as f64 / 2.0);
    let distance = |x: usize, y: usize| (x as f64 - centre.0).abs() + (y as f64 - centre.1).abs();
    let mut best = (0, 0);
    let mut best_sum = f64::MIN;
    for y in 0..=h - wh {
        for x in 0..=w - ww {
            let s = sum(x, y);
            let tolerance = best_sum.abs() * 0.01 + 1e-9;
            let better = s > best_sum + tolerance
                || (s >= best_sum - tolerance && distance(x, y) < distance(best.0, best.1));
            if better {
                best_sum = best_sum.max(s);
                best = (x, y);
            }
        }
    }
    (best.0 as u32, best.1 as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_goes_where_the_values_are_and_stays_central_when_flat() {
        let (w, h) = (20, 10);
        let flat = vec![0.0; 200];
        assert_eq!(best_window(&flat, w, h, (10, 10)), (5, 0));
        let mut right = flat.clone();
        for y in 0..10 {
            right[y * 20 + 18] = 1.0;
        }
        // Windows from 9 and 10 both hold column 18: the nearer the centre wins.
        assert_eq!(best_window(&right, w, h, (10, 10)).0, 9);
        let mut left = flat;
        left[3 * 20] = 1.0;
        assert_eq!(best_window(&left, w, h, (10, 10)).0, 0);
    }

    #[test]
    fn skin_tones_are_skin_and_greys_and_blues_are_not() {
        let px = |r: u8, g: u8, b: u8| {
            skin(
                f32::from(r) / 255.0,
                f32::from(g) / 255.0,
                f32::from(b) / 255.0,
            )
        };
        assert_eq!(px(224, 172, 140), 1.0);
        assert_eq!(px(141, 85, 36), 1.0);
        assert_eq!(px(128, 128, 128), 0.0);
        assert_eq!(px(40, 80, 200), 0.0);
    }
}

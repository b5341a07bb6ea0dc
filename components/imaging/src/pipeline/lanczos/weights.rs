//! Lanczos3 weights for one axis, in fixed point.
//!
//! Computed as `fast_image_resize` does (the same filter, centres, support
//! widened by the scale when shrinking, weights normalised to sum to one),
//! then rounded to 1/2^[`PRECISION`]ths, the largest weight taking the
//! rounding's remainder so that a flat area stays exactly flat. Every output
//! reads the same number of inputs (`taps`), shifted inside the source at its
//! edges with zero weights, so the passes have no per-pixel bounds.

use std::f64::consts::PI;

/// Fractional bits of a weight. 65535 × the largest sum of positive Lanczos3
/// weights (under 1.3) × 2^14 stays under 2^31, so sums fit i32 lanes.
pub(crate) const PRECISION: u32 = 14;

/// `taps` weights per output: output `i` is Σ input `starts[i] + t` ×
/// `values[i * taps + t]` / 2^[`PRECISION`].
#[derive(Debug)]
pub(crate) struct Weights {
    pub starts: Vec<usize>,
    pub taps: usize,
    pub values: Vec<i32>,
}

/// The Lanczos3 kernel: sinc(x)·sinc(x/3) inside ±3.
fn lanczos3(x: f64) -> f64 {
    let sinc = |x: f64| {
        if x == 0.0 {
            1.0
        } else {
            (x * PI).sin() / (x * PI)
        }
    };
    if (-3.0..3.0).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

impl Weights {
    /// Weights resampling inputs `from..to` (fractional, within
    /// `0..in_size`) of an axis `in_size` long onto `out_size` outputs.
    pub fn lanczos3(in_size: usize, from: f64, to: f64, out_size: usize) -> Weights {
        let scale = (to - from) / out_size as f64;
        let filter_scale = scale.max(1.0);
        let radius = 3.0 * filter_scale;
        // Each output's inputs and their weights, zeros at either end trimmed.
        let spans: Vec<(usize, Vec<f64>)> = (0..out_size)
            .map(|i| {
                let centre = from + (i as f64 + 0.5) * scale;
                let first = (centre - radius).floor().max(0.0) as usize;
                let end = ((centre + radius).ceil().max(0.0) as usize).min(in_size);
                let mut w: Vec<f64> = (first..end)
                    .map(|x| lanczos3((x as f64 + 0.5 - centre) / filter_scale))
                    .collect();
                let lead = w.iter().take_while(|&&v| v == 0.0).count().min(w.len());
                w.drain(..lead);
                while w.last() == Some(&0.0) {
                    w.pop();
                }
                let sum: f64 = w.iter().sum();
                if sum != 0.0 {
                    w.iter_mut().for_each(|v| *v /= sum);
                }
                (first + lead, w)
            })
            .collect();
        let taps = spans
            .iter()
            .map(|(_, w)| w.len())
            .max()
            .unwrap_or(1)
            .clamp(1, in_size.max(1));
        let mut starts = Vec::with_capacity(out_size);
        let mut values = vec![0i32; out_size * taps];
        for ((first, w), row) in spans.iter().zip(values.chunks_exact_mut(taps)) {
            // Shift the window left where it would run past the end.
            let start = (*first).min(in_size.saturating_sub(taps));
            let skip = first - start;
            for (q, v) in row[skip..].iter_mut().zip(w) {
                *q = (v * f64::from(1 << PRECISION)).round() as i32;
            }
            let remainder = (1 << PRECISION) - row.iter().sum::<i32>();
            if let Some(largest) = row.iter_mut().max_by_key(|q| **q) {
                *largest += remainder;
            }
            starts.push(start);
        }
        // The horizontal pass multiplies them as i16.
        debug_assert!(values.iter().all(|&v| i16::try_from(v).is_ok()));
        Weights {
            starts,
            taps,
            values,
        }
    }

    /// The inputs any output reads: `first..end`.
    pub fn reads(&self) -> (usize, usize) {
        let first = self.starts.iter().copied().min().unwrap_or(0);
        let end = self.starts.iter().copied().max().unwrap_or(0) + self.taps;
        (first, end)
    }
}

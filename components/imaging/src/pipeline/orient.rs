//! Step: apply EXIF orientation, `rotate` and `flip` in one pass.
//!
//! All eight are elements of the dihedral group, written as: transpose first
//! (optional), then mirror left↔right, then mirror top↔bottom.

use super::decoded::{Decoded, Extent, Pixels};
use super::linear::Linear;
use super::{Image, Job};
use crate::{Error, Flip, Options, Rotate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Orientation {
    pub transpose: bool,
    pub flip_x: bool,
    pub flip_y: bool,
}

const fn o(transpose: bool, flip_x: bool, flip_y: bool) -> Orientation {
    Orientation {
        transpose,
        flip_x,
        flip_y,
    }
}

impl Orientation {
    /// What EXIF orientation `1..=8` asks for to display the stored image.
    pub fn from_exif(value: u8) -> Orientation {
        match value {
            2 => o(false, true, false),
            3 => o(false, true, true),
            4 => o(false, false, true),
            5 => o(true, false, false),
            6 => o(true, true, false),
            7 => o(true, true, true),
            8 => o(true, false, true),
            _ => Orientation::default(),
        }
    }

    /// `rotate` (clockwise) followed by `flip`.
    pub fn from_options(options: &Options) -> Orientation {
        let rotate = match options.rotate {
            Rotate::R0 => o(false, false, false),
            Rotate::R90 => o(true, true, false),
            Rotate::R180 => o(false, true, true),
            Rotate::R270 => o(true, false, true),
        };
        let flip = match options.flip {
            Flip::None => o(false, false, false),
            Flip::H => o(false, true, false),
            Flip::V => o(false, false, true),
            Flip::HV => o(false, true, true),
        };
        rotate.then(flip)
    }

    /// As a 2×2 matrix on centred coordinates: flip_y · flip_x · transpose.
    fn matrix(self) -> [[i8; 2]; 2] {
        let mut m = if self.transpose {
            [[0, 1], [1, 0]]
        } else {
            [[1, 0], [0, 1]]
        };
        if self.flip_x {
            m[0] = [-m[0][0], -m[0][1]];
        }
        if self.flip_y {
            m[1] = [-m[1][0], -m[1][1]];
        }
        m
    }

    fn from_matrix(m: [[i8; 2]; 2]) -> Orientation {
        let transpose = m[0][0] == 0;
        // Undo the transpose (its own inverse) to read the two mirrors off the diagonal.
        let (x, y) = if transpose {
            (m[0][1], m[1][0])
        } else {
            (m[0][0], m[1][1])
        };
        o(transpose, x < 0, y < 0)
    }

    /// `self`, then `next`.
    pub fn then(self, next: Orientation) -> Orientation {
        let (a, b) = (self.matrix(), next.matrix());
        let mut m = [[0i8; 2]; 2];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = b[i][0] * a[0][j] + b[i][1] * a[1][j];
            }
        }
        Orientation::from_matrix(m)
    }

    pub fn apply_size(self, (w, h): (u32, u32)) -> (u32, u32) {
        if self.transpose {
            (h, w)
        } else {
            (w, h)
        }
    }

    pub fn is_identity(self) -> bool {
        self == Orientation::default()
    }
}

pub(crate) fn apply(job: &Job<'_>, decoded: Decoded) -> Result<Decoded, Error> {
    let t = job.orientation;
    if t.is_identity() {
        return Ok(decoded);
    }
    let extent = reorient_extent(decoded.extent, decoded.size(), t);
    let pixels = match decoded.pixels {
        Pixels::Srgb(image) => Pixels::Srgb(reorient(&image, t)),
        Pixels::Linear(linear) => {
            let c = linear.channels();
            let (data, (width, height)) =
                permute(&linear.data, (linear.width, linear.height), c, t);
            Pixels::Linear(Linear {
                width,
                height,
                alpha: linear.alpha,
                data,
            })
        }
    };
    Ok(Decoded { pixels, extent })
}

/// Where `extent` of a `size` grid lies once `t` has moved the pixels (a
/// mirror puts a short last block first).
fn reorient_extent(e: Extent, size: (u32, u32), t: Orientation) -> Extent {
    let mut e = if t.transpose {
        Extent {
            left: e.top,
            top: e.left,
            width: e.height,
            height: e.width,
        }
    } else {
        e
    };
    let (w, h) = t.apply_size(size);
    if t.flip_x {
        e.left = f64::from(w) - e.left - e.width;
    }
    if t.flip_y {
        e.top = f64::from(h) - e.top - e.height;
    }
    e
}

pub(crate) fn reorient(image: &Image, t: Orientation) -> Image {
    let (data, (width, height)) = permute(&image.data, image.size(), image.channels(), t);
    Image {
        width,
        height,
        alpha: image.alpha,
        data,
    }
}

/// The pixels of `data` (`size` pixels of `px_bytes` bytes each) moved to
/// where `t` puts them, and the new size.
fn permute<T: Copy + Default>(
    data: &[T],
    size: (u32, u32),
    c: usize,
    t: Orientation,
) -> (Vec<T>, (u32, u32)) {
    let (w, h) = (size.0 as usize, size.1 as usize);
    let (ow, oh) = if t.transpose { (h, w) } else { (w, h) };
    let mut out = vec![T::default(); data.len()];
    for y in 0..h {
        let row = &data[y * w * c..(y + 1) * w * c];
        for (x, px) in row.chunks_exact(c).enumerate() {
            let (mut ox, mut oy) = if t.transpose { (y, x) } else { (x, y) };
            if t.flip_x {
                ox = ow - 1 - ox;
            }
            if t.flip_y {
                oy = oh - 1 - oy;
            }
            let at = (oy * ow + ox) * c;
            out[at..at + c].copy_from_slice(px);
        }
    }
    (out, (ow as u32, oh as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 image whose pixels are numbered 0..6 (row-major) in the red channel.
    fn numbered() -> Image {
        let data = (0..6u8).flat_map(|v| [v, 0, 0]).collect();
        Image {
            width: 3,
            height: 2,
            alpha: false,
            data,
        }
    }

    fn reds(img: &Image) -> Vec<u8> {
        img.data.chunks(3).map(|p| p[0]).collect()
    }

    #[test]
    fn exif_orientations_display_upright() {
        // Stored image  0 1 2 / 3 4 5  displayed after each EXIF orientation.
        let cases: &[(u8, (u32, u32), [u8; 6])] = &[
            (1, (3, 2), [0, 1, 2, 3, 4, 5]),
            (2, (3, 2), [2, 1, 0, 5, 4, 3]),
            (3, (3, 2), [5, 4, 3, 2, 1, 0]),
            (4, (3, 2), [3, 4, 5, 0, 1, 2]),
            (5, (2, 3), [0, 3, 1, 4, 2, 5]),
            (6, (2, 3), [3, 0, 4, 1, 5, 2]),
            (7, (2, 3), [5, 2, 4, 1, 3, 0]),
            (8, (2, 3), [2, 5, 1, 4, 0, 3]),
        ];
        for (exif, size, want) in cases {
            let out = reorient(&numbered(), Orientation::from_exif(*exif));
            assert_eq!((out.width, out.height), *size, "exif {exif}");
            assert_eq!(reds(&out), want, "exif {exif}");
        }
    }

    #[test]
    fn composes_like_applying_twice() {
        let all: Vec<Orientation> = (1..=8).map(Orientation::from_exif).collect();
        for a in &all {
            for b in &all {
                let twice = reorient(&reorient(&numbered(), *a), *b);
                let once = reorient(&numbered(), a.then(*b));
                assert_eq!(twice, once, "{a:?} then {b:?}");
            }
        }
    }

    #[test]
    fn rotate_and_flip_options() {
        let cases: &[(&str, [u8; 6])] = &[
            ("rotate=90", [3, 0, 4, 1, 5, 2]),
            ("rotate=180", [5, 4, 3, 2, 1, 0]),
            ("rotate=270", [2, 5, 1, 4, 0, 3]),
            ("flip=h", [2, 1, 0, 5, 4, 3]),
            ("flip=v", [3, 4, 5, 0, 1, 2]),
            ("flip=hv", [5, 4, 3, 2, 1, 0]),
            ("rotate=90,flip=h", [0, 3, 1, 4, 2, 5]),
        ];
        for (opts, want) in cases {
            let t = Orientation::from_options(&opts.parse().unwrap());
            assert_eq!(reds(&reorient(&numbered(), t)), want, "{opts}");
        }
    }
}

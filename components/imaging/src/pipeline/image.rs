//! The decoded pixels passed between steps: 8-bit sRGB, RGB or RGBA.

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    /// RGBA (straight alpha) if true, else RGB.
    pub alpha: bool,
    pub data: Vec<u8>,
}

impl Image {
    pub fn channels(&self) -> usize {
        if self.alpha {
            4
        } else {
            3
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// RGB from gray, expanding in place from the end of the buffer.
    pub fn from_gray(width: u32, height: u32, mut data: Vec<u8>) -> Image {
        let n = data.len();
        data.resize(n * 3, 0);
        for i in (0..n).rev() {
            let v = data[i];
            data[i * 3..i * 3 + 3].fill(v);
        }
        Image {
            width,
            height,
            alpha: false,
            data,
        }
    }

    /// RGBA from gray + alpha, expanding in place from the end of the buffer.
    pub fn from_gray_alpha(width: u32, height: u32, mut data: Vec<u8>) -> Image {
        let n = data.len() / 2;
        data.resize(n * 4, 0);
        for i in (0..n).rev() {
            let (v, a) = (data[i * 2], data[i * 2 + 1]);
            data[i * 4..i * 4 + 4].copy_from_slice(&[v, v, v, a]);
        }
        Image {
            width,
            height,
            alpha: true,
            data,
        }
    }
}

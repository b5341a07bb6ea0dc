//! 8-bit sRGB ↔ 16-bit linear light lookup tables, shared by the resizer and
//! the PNG decoder's box pre-shrink.

use std::sync::OnceLock;

/// `to_linear[v]`: sRGB `v` as linear light in 0..=65535; `to_srgb[l >> 4]`:
/// the sRGB value of 16-bit linear `l` (12 bits of precision).
pub(crate) struct Tables {
    pub to_linear: [u16; 256],
    /// An array, so an index of `l >> 4` needs no bounds check.
    pub to_srgb: Box<[u8; 4096]>,
}

pub(crate) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut to_linear = [0u16; 256];
        for (i, v) in to_linear.iter_mut().enumerate() {
            *v = (srgb_to_linear(i as f32 / 255.0) * 65535.0).round() as u16;
        }
        let mut to_srgb = Box::new([0u8; 4096]);
        for (i, v) in to_srgb.iter_mut().enumerate() {
            *v = (linear_to_srgb((i as f32 + 0.5) / 4096.0) * 255.0).round() as u8;
        }
        Tables { to_linear, to_srgb }
    })
}

fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

//! For a progressive JPEG decoded at 1/8 scale, only the DC coefficient of
//! each block matters (the 1×1 IDCT is the block average). Progressive files
//! carry AC coefficients in scans of their own, so we drop those scans
//! without entropy-decoding them: most of the file, and most of the work.
//! The decoder renders the DC-only image it is left with.

use std::borrow::Cow;

/// `bytes` without its AC scans (spectral selection start > 0), if it is a
/// well-formed progressive JPEG; otherwise `bytes` unchanged.
pub(super) fn dc_only(bytes: &[u8]) -> Cow<'_, [u8]> {
    strip_ac_scans(bytes).map_or(Cow::Borrowed(bytes), Cow::Owned)
}

fn strip_ac_scans(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len() / 8);
    out.extend_from_slice(b.get(..2)?);
    let mut at = 2;
    let mut progressive = false;
    loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        match marker {
            0xFF => {
                at += 1;
                continue;
            }
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return progressive.then_some(out);
            }
            0xC2 => progressive = true,
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*b.get(at + 2)?, *b.get(at + 3)?]));
        let segment_end = at + 2 + len;
        let segment = b.get(at..segment_end)?;
        if marker != 0xDA {
            out.extend_from_slice(segment);
            at = segment_end;
            continue;
        }
        // SOS: header, then entropy-coded data up to the next real marker.
        let components = usize::from(*segment.get(4)?);
        let spectral_start = *segment.get(5 + 2 * components)?;
        let data_end = entropy_end(b, segment_end)?;
        if spectral_start == 0 {
            out.extend_from_slice(&b[at..data_end]);
        }
        at = data_end;
    }
}

/// The offset of the first marker after entropy-coded data starting at `from`
/// (0xFF followed by anything but a stuffed 0x00 or a restart marker).
fn entropy_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += b.get(i..)?.iter().position(|&x| x == 0xFF)?;
        match *b.get(i + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => i += 1,
            _ => return Some(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progressive(w: u16, h: u16) -> Vec<u8> {
        let rgb: Vec<u8> = (0..u32::from(w) * u32::from(h))
            .flat_map(|i| [(i % 251) as u8, (i / 3 % 253) as u8, (i % 17 * 13) as u8])
            .collect();
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
        enc.set_progressive(true);
        enc.encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    fn decode_eighth(bytes: &[u8]) -> Vec<u8> {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        d.read_info().unwrap();
        let info = d.info().unwrap();
        d.scale(info.width.div_ceil(8), info.height.div_ceil(8)).unwrap();
        d.decode().unwrap()
    }

    #[test]
    fn dc_only_decodes_like_the_full_file_at_one_eighth() {
        let full = progressive(203, 97);
        let dc = dc_only(&full);
        assert!(matches!(dc, Cow::Owned(_)), "progressive input is filtered");
        assert!(dc.len() < full.len() / 2, "{} of {} bytes kept", dc.len(), full.len());
        assert_eq!(decode_eighth(&dc), decode_eighth(&full));
    }

    #[test]
    fn leaves_baseline_and_malformed_input_alone() {
        let mut baseline = Vec::new();
        jpeg_encoder::Encoder::new(&mut baseline, 90).encode(&[0; 48], 4, 4, jpeg_encoder::ColorType::Rgb).unwrap();
        assert!(matches!(dc_only(&baseline), Cow::Borrowed(_)));
        let full = progressive(40, 40);
        for len in 0..full.len() {
            assert!(matches!(dc_only(&full[..len]), Cow::Borrowed(_)), "truncated at {len}");
        }
    }
}

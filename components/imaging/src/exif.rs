//! Just enough EXIF (a TIFF structure) to read the orientation, reset it once
//! applied, and build a copyright-only block for `metadata=copyright`.

const ORIENTATION: u16 = 0x0112;
const ARTIST: u16 = 0x013B;
const COPYRIGHT: u16 = 0x8298;

/// A TIFF block (the bytes after `Exif\0\0`), with its byte order.
struct Tiff<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl<'a> Tiff<'a> {
    fn new(data: &'a [u8]) -> Option<Tiff<'a>> {
        let big_endian = match data.get(0..4)? {
            b"MM\0*" => true,
            b"II*\0" => false,
            _ => return None,
        };
        Some(Tiff { data, big_endian })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Offsets of the 12-byte entries of IFD0.
    fn ifd0_entries(&self) -> impl Iterator<Item = usize> + '_ {
        let ifd = self.u32_at(4).map(|o| o as usize);
        let count = ifd.and_then(|o| self.u16_at(o)).unwrap_or(0) as usize;
        let first = ifd.unwrap_or(0) + 2;
        (0..count)
            .map(move |i| first + i * 12)
            .take_while(|&e| e + 12 <= self.data.len())
    }

    fn entry(&self, tag: u16) -> Option<usize> {
        self.ifd0_entries().find(|&e| self.u16_at(e) == Some(tag))
    }

    /// An ASCII entry's bytes (including its NUL), wherever they are stored.
    fn ascii(&self, tag: u16) -> Option<&'a [u8]> {
        let e = self.entry(tag)?;
        if self.u16_at(e + 2)? != 2 {
            return None;
        }
        let len = self.u32_at(e + 4)? as usize;
        let start = if len <= 4 {
            e + 8
        } else {
            self.u32_at(e + 8)? as usize
        };
        self.data.get(start..start.checked_add(len)?)
    }
}

/// The EXIF orientation (1..=8) of a TIFF block, if present and valid.
pub fn orientation(tiff: &[u8]) -> Option<u8> {
    let t = Tiff::new(tiff)?;
    let e = t.entry(ORIENTATION)?;
    let v = t.u16_at(e + 8)?;
    (1..=8).contains(&v).then_some(v as u8)
}

/// The same block with orientation set to 1, for `metadata=keep` after the
/// rotation has been applied to the pixels.
pub fn reset_orientation(tiff: &[u8]) -> Vec<u8> {
    let mut out = tiff.to_vec();
    if let Some(t) = Tiff::new(tiff) {
        if let Some(e) = t.entry(ORIENTATION) {
            let one = if t.big_endian { [0, 1] } else { [1, 0] };
            out[e + 8..e + 10].copy_from_slice(&one);
        }
    }
    out
}

/// A new little-endian TIFF block holding only Artist and Copyright, or `None`
/// when the source has neither.
pub fn copyright_only(tiff: &[u8]) -> Option<Vec<u8>> {
    let t = Tiff::new(tiff)?;
    let fields: Vec<(u16, &[u8])> = [ARTIST, COPYRIGHT]
        .into_iter()
        .filter_map(|tag| t.ascii(tag).map(|v| (tag, v)))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    out.extend_from_slice(&(fields.len() as u16).to_le_bytes());
    let mut data_at = 8 + 2 + 12 * fields.len() as u32 + 4;
    let mut data = Vec::new();
    for (tag, value) in &fields {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        if value.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..value.len()].copy_from_slice(value);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&data_at.to_le_bytes());
            data.extend_from_slice(value);
            data_at += value.len() as u32;
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&data);
    Some(out)
}

/// A minimal little-endian TIFF block with one orientation entry (tests).
#[cfg(test)]
pub fn with_orientation(o: u16) -> Vec<u8> {
    let mut t = b"II*\0\x08\0\0\0\x01\0".to_vec();
    t.extend_from_slice(&ORIENTATION.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&o.to_le_bytes());
    t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_resets_orientation() {
        for o in 1..=8 {
            let t = with_orientation(o);
            assert_eq!(orientation(&t), Some(o as u8));
            assert_eq!(orientation(&reset_orientation(&t)), Some(1));
        }
        assert_eq!(orientation(&with_orientation(9)), None);
        assert_eq!(orientation(b"II*\0\xff\xff\xff\xff"), None);
        assert_eq!(orientation(b"junk"), None);
    }

    #[test]
    fn keeps_only_copyright() {
        assert_eq!(copyright_only(&with_orientation(6)), None);
        let mut t = b"II*\0\x08\0\0\0\x02\0".to_vec();
        t.extend_from_slice(&ORIENTATION.to_le_bytes());
        t.extend_from_slice(&[3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        t.extend_from_slice(&COPYRIGHT.to_le_bytes());
        t.extend_from_slice(&[2, 0, 6, 0, 0, 0, 38, 0, 0, 0]);
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(b"(c) A\0");
        let c = copyright_only(&t).unwrap();
        let parsed = Tiff::new(&c).unwrap();
        assert_eq!(parsed.ascii(COPYRIGHT), Some(&b"(c) A\0"[..]));
        assert_eq!(orientation(&c), None);
    }
}

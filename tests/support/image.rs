//! Reading images the tests get back, independently of edgeimg's own code.

/// Format and dimensions read from the header, independently of our code.
pub fn dims(bytes: &[u8]) -> (&'static str, u32, u32) {
    let be16 = |i: usize| u32::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
    let le16 = |i: usize| u32::from(u16::from_le_bytes([bytes[i], bytes[i + 1]]));
    let le24 = |i: usize| {
        u32::from(bytes[i]) | u32::from(bytes[i + 1]) << 8 | u32::from(bytes[i + 2]) << 16
    };
    if bytes.starts_with(b"\x89PNG") {
        let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
        ("png", w, h)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 9 < bytes.len() {
            let marker = bytes[i + 1];
            let len = be16(i + 2) as usize;
            if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
                return ("jpeg", be16(i + 7), be16(i + 5));
            }
            i += 2 + len;
        }
        panic!("JPEG without SOF")
    } else if bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        match &bytes[12..16] {
            b"VP8 " => ("webp", le16(26) & 0x3FFF, le16(28) & 0x3FFF),
            b"VP8L" => {
                let b = u32::from_le_bytes(bytes[21..25].try_into().unwrap());
                ("webp", (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1)
            }
            b"VP8X" => ("webp", le24(24) + 1, le24(27) + 1),
            other => panic!("unknown WebP chunk {other:?}"),
        }
    } else if bytes.starts_with(b"GIF8") {
        ("gif", le16(6), le16(8))
    } else if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        // The first `ispe` (image spatial extent: version and flags, then
        // width and height); single-image files have one.
        let at = bytes
            .windows(4)
            .position(|w| w == b"ispe")
            .expect("AVIF without ispe");
        let be32 = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
        ("avif", be32(at + 8), be32(at + 12))
    } else {
        panic!("not an image: {:?}", &bytes[..bytes.len().min(16)])
    }
}

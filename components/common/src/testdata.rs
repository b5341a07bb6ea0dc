//! Images made by hand for tests (feature `test-util`), so tests need no encoder crate.

/// A valid 3×2 RGB PNG.
pub fn tiny_png() -> Vec<u8> {
    png_with(3, 2, true)
}

/// An RGB PNG of any size, with pixel data only when `with_data`: without
/// it, a header-only "bomb" or a truncated file. With data, the raw rows must
/// fit one stored deflate block (under 64 KiB, e.g. 100×100).
pub fn png_with(width: u32, height: u32, with_data: bool) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    if with_data {
        let row = 1 + 3 * width as usize;
        let raw: Vec<u8> = (0..height as usize * row)
            .map(|i| if i % row == 0 { 0 } else { (i * 37) as u8 })
            .collect();
        chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01, 0x01];
    let len = data.len() as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

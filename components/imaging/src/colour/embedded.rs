//! The ICC profile a file embeds, read from its header with the codec crates'
//! own readers where they have one (`png`'s iCCP, `image-webp`'s ICCP) and by
//! a marker walk for JPEG, whose APP2 profile may be split over several
//! segments (`jpeg-decoder` offers it only after a full `read_info`, and the
//! progressive DC path never builds a `jpeg-decoder`). AVIF's profile is in
//! its primary item's `colr`, read with its code points by
//! `colour::embedded_profile`.

use crate::probe::be16;
use crate::Format;

/// The embedded ICC profile's bytes, if the file has a well-formed one.
pub(crate) fn icc(bytes: &[u8], format: Format) -> Option<Vec<u8>> {
    match format {
        Format::Jpeg => jpeg(bytes),
        Format::Png => {
            let reader = png::Decoder::new(std::io::Cursor::new(bytes))
                .read_info()
                .ok()?;
            reader.info().icc_profile.as_ref().map(|p| p.to_vec())
        }
        Format::Webp => image_webp::WebPDecoder::new(std::io::Cursor::new(bytes))
            .ok()?
            .icc_profile()
            .ok()?,
        Format::Tiff => crate::raster::icc(bytes, format),
        _ => None,
    }
}

/// Concatenates the `ICC_PROFILE\0` APP2 chunks in sequence order (ICC.1
/// Annex B.4); any gap, duplicate or count mismatch means no profile.
fn jpeg(b: &[u8]) -> Option<Vec<u8>> {
    const TAG: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, u8, &[u8])> = Vec::new();
    let mut at = 2;
    loop {
        while *b.get(at)? == 0xFF && *b.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = usize::from(be16(b, at + 2)?);
        let body = b.get(at + 4..at + 2 + len.max(2))?;
        if marker == 0xE2 && body.len() > TAG.len() + 2 && body.starts_with(TAG) {
            let (seq, count) = (body[TAG.len()], body[TAG.len() + 1]);
            chunks.push((seq, count, &body[TAG.len() + 2..]));
        }
        at += 2 + len;
    }
    let count = chunks.first()?.1;
    if usize::from(count) != chunks.len() || chunks.iter().any(|c| c.1 != count) {
        return None;
    }
    chunks.sort_by_key(|c| c.0);
    if chunks
        .iter()
        .enumerate()
        .any(|(i, c)| usize::from(c.0) != i + 1)
    {
        return None;
    }
    Some(chunks.iter().flat_map(|c| c.2).copied().collect())
}

/// Whether a JPEG has an Adobe APP14 segment: then its CMYK samples are
/// stored inverted (Photoshop's convention, which libjpeg readers follow).
pub(crate) fn jpeg_has_adobe(b: &[u8]) -> bool {
    let mut at = 2;
    while let (Some(&0xFF), Some(&marker)) = (b.get(at), b.get(at + 1)) {
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return false;
        }
        let Some(len) = be16(b, at + 2) else {
            return false;
        };
        if marker == 0xEE && b.get(at + 4..at + 9) == Some(b"Adobe") {
            return true;
        }
        at += 2 + usize::from(len);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    fn app2(seq: u8, count: u8, data: &[u8]) -> Vec<u8> {
        let mut body = b"ICC_PROFILE\0".to_vec();
        body.extend_from_slice(&[seq, count]);
        body.extend_from_slice(data);
        segment(0xE2, &body)
    }

    fn jpeg_with(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        segments.iter().for_each(|s| b.extend_from_slice(s));
        b.extend(segment(0xDA, &[0; 8]));
        b
    }

    #[test]
    fn jpeg_profile_chunks_are_joined_in_sequence_order() {
        let b = jpeg_with(&[app2(2, 2, b"world"), app2(1, 2, b"hello ")]);
        assert_eq!(icc(&b, Format::Jpeg).as_deref(), Some(&b"hello world"[..]));
    }

    #[test]
    fn jpeg_profile_with_a_missing_chunk_is_ignored() {
        let cases = [
            vec![app2(1, 2, b"a")],
            vec![app2(1, 2, b"a"), app2(1, 2, b"b")],
            vec![app2(0, 1, b"a")],
            vec![],
        ];
        for segments in cases {
            assert_eq!(icc(&jpeg_with(&segments), Format::Jpeg), None);
        }
    }

    #[test]
    fn adobe_segment_is_found_before_the_scan_only() {
        let adobe = segment(0xEE, b"Adobe\0\x64\0\0\0\0\0");
        assert!(jpeg_has_adobe(&jpeg_with(std::slice::from_ref(&adobe))));
        assert!(!jpeg_has_adobe(&jpeg_with(&[])));
        let mut late = jpeg_with(&[]);
        late.extend(adobe);
        assert!(!jpeg_has_adobe(&late));
    }
}

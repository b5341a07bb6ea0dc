//! Image formats we recognise, with their media types and magic bytes.

/// A format we can read (all but AVIF) or write (all but GIF).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Avif,
}

impl Format {
    /// The media type for `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
        }
    }

    /// The short lowercase name used in options and metadata (`"jpeg"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::Avif => "avif",
        }
    }

    /// Whether [`crate::transform`] can encode this format. GIF is read-only;
    /// AVIF needs the `avif` feature.
    pub fn can_encode(self) -> bool {
        match self {
            Format::Gif => false,
            Format::Avif => cfg!(feature = "avif"),
            _ => true,
        }
    }

    /// The format written when this one is asked for: itself if we can
    /// encode it, else the nearest we can (GIF → PNG, AVIF → WebP).
    pub fn encodable(self) -> Format {
        match self {
            Format::Gif => Format::Png,
            Format::Avif if !Format::Avif.can_encode() => Format::Webp,
            other => other,
        }
    }

    /// Sniffs the format from magic bytes; never trusts names or headers.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Format::Gif)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::Webp)
        } else if is_avif(bytes) {
            Some(Format::Avif)
        } else {
            None
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO-BMFF `ftyp` box whose major or compatible brands include `avif`/`avis`.
fn is_avif(bytes: &[u8]) -> bool {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = size.min(bytes.len());
    if end < 16 {
        return false;
    }
    let is_brand = |b: &[u8]| b == b"avif" || b == b"avis";
    is_brand(&bytes[8..12]) || bytes[16..end].chunks_exact(4).any(is_brand)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_magic_bytes() {
        let cases: &[(&[u8], Option<Format>)] = &[
            (b"\xFF\xD8\xFF\xE0rest", Some(Format::Jpeg)),
            (b"\x89PNG\r\n\x1a\n....", Some(Format::Png)),
            (b"GIF89a....", Some(Format::Gif)),
            (b"GIF87a....", Some(Format::Gif)),
            (b"RIFF\0\0\0\0WEBPVP8 ", Some(Format::Webp)),
            (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1", Some(Format::Avif)),
            (b"\0\0\0\x1cftypmif1\0\0\0\0mif1avif", Some(Format::Avif)),
            (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", None),
            (b"<svg xmlns=", None),
            (b"", None),
            (b"\xFF\xD8", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(Format::sniff(bytes), *want, "{bytes:?}");
        }
    }
}

//! Image formats we recognise, with their media types and magic bytes.

/// A format we read (all of them) or write (JPEG, PNG, WebP and AVIF).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Avif,
    /// Rasterised at the requested size (`resvg`); read-only.
    Svg,
    /// First page; read-only (through the `image` crate, as are the next three).
    Tiff,
    Bmp,
    Ico,
    Qoi,
}

impl Format {
    /// Every format, in the order they are documented.
    pub const ALL: [Format; 10] = [
        Format::Jpeg,
        Format::Png,
        Format::Gif,
        Format::Webp,
        Format::Avif,
        Format::Svg,
        Format::Tiff,
        Format::Bmp,
        Format::Ico,
        Format::Qoi,
    ];

    /// The format [`Format::as_str`] spells `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// A vector format: rendered at the size asked for, so every fit may
    /// enlarge it.
    pub fn is_vector(self) -> bool {
        self == Format::Svg
    }

    /// The media type for `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
            Format::Svg => "image/svg+xml",
            Format::Tiff => "image/tiff",
            Format::Bmp => "image/bmp",
            Format::Ico => "image/x-icon",
            Format::Qoi => "image/qoi",
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
            Format::Svg => "svg",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Ico => "ico",
            Format::Qoi => "qoi",
        }
    }

    /// Whether [`crate::transform`] can encode this format: JPEG, PNG, WebP,
    /// and AVIF with the `avif` feature.
    pub fn can_encode(self) -> bool {
        matches!(self, Format::Jpeg | Format::Png | Format::Webp)
            || (self == Format::Avif && cfg!(feature = "avif"))
    }

    /// The format written when this one is asked for: itself if we can
    /// encode it, else the nearest we can: TIFF (scans and camera files:
    /// photos) → JPEG; GIF, SVG, BMP, ICO, QOI (graphics, often with
    /// transparency) → PNG; AVIF → WebP without the encoder.
    pub fn encodable(self) -> Format {
        match self {
            Format::Tiff => Format::Jpeg,
            Format::Gif | Format::Svg | Format::Bmp | Format::Ico | Format::Qoi => Format::Png,
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
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(Format::Tiff)
        } else if is_bmp(bytes) {
            Some(Format::Bmp)
        } else if bytes.len() >= 6 && bytes.starts_with(&[0, 0, 1, 0]) && bytes[4..6] != [0, 0] {
            Some(Format::Ico)
        } else if bytes.starts_with(b"qoif") {
            Some(Format::Qoi)
        } else if is_svg(bytes) {
            Some(Format::Svg)
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

/// `BM`, then a DIB header of one of the sizes Windows and OS/2 wrote.
fn is_bmp(bytes: &[u8]) -> bool {
    bytes.starts_with(b"BM")
        && bytes.len() >= 18
        && matches!(
            u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]),
            12 | 16 | 40 | 52 | 56 | 64 | 108 | 124
        )
}

/// An XML document whose root element is `svg` (a namespace prefix
/// allowed), found within the first 4 KiB after the XML declaration,
/// comments and a doctype. HTML, or XML of another kind, is not SVG.
fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let mut rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    loop {
        rest = rest.trim_ascii_start();
        let skip = |open: &[u8], close: &[u8], rest: &[u8]| -> Option<usize> {
            rest.starts_with(open).then(|| {
                rest.windows(close.len())
                    .position(|w| w == close)
                    .map(|at| at + close.len())
            })?
        };
        let skipped = skip(b"<?", b"?>", rest)
            .or_else(|| skip(b"<!--", b"-->", rest))
            .or_else(|| doctype_end(rest));
        match skipped {
            Some(n) => rest = &rest[n..],
            None => break,
        }
    }
    let Some(tag) = rest.strip_prefix(b"<") else {
        return false;
    };
    let name_len = tag
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        .unwrap_or(tag.len());
    let name = &tag[..name_len];
    name == b"svg" || name.ends_with(b":svg")
}

/// The length of a `<!DOCTYPE …>` at the start of `rest`, internal subset
/// (`[…]`) included.
fn doctype_end(rest: &[u8]) -> Option<usize> {
    if !rest.starts_with(b"<!DOCTYPE") {
        return None;
    }
    let mut depth = 0u32;
    for (i, &b) in rest.iter().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'>' if depth == 0 => return Some(i + 1),
            _ => {}
        }
    }
    None
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
            (b"<svg xmlns=", Some(Format::Svg)),
            (b"\xEF\xBB\xBF <?xml version=\"1.0\"?>\n<!-- x -->\n<!DOCTYPE svg [<!ENTITY a \"b\">]>\n<svg:svg>", Some(Format::Svg)),
            (b"<!DOCTYPE html><html><svg>", None),
            (b"<?xml version=\"1.0\"?><rss>", None),
            (b"<svgfoo>", None),
            (b"II*\0\x08\0\0\0", Some(Format::Tiff)),
            (b"MM\0*\0\0\0\x08", Some(Format::Tiff)),
            (b"BM\0\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", Some(Format::Bmp)),
            (b"BM not a bitmap", None),
            (b"\0\0\x01\0\x01\0\x10\x10", Some(Format::Ico)),
            (b"\0\0\x01\0\0\0", None),
            (b"qoif\0\0\0\x01\0\0\0\x01\x03\0", Some(Format::Qoi)),
            (b"", None),
            (b"\xFF\xD8", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(Format::sniff(bytes), *want, "{bytes:?}");
        }
    }
}

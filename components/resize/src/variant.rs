//! The value stored for a variant in `cache`: a short text header, then bytes.
//!
//! One value holds content type, ETag and bytes, so a cache hit is one
//! key-value read.

use sha2::{Digest, Sha256};

const MAGIC: &[u8] = b"edgeimg-variant/1\n";

/// An encoded variant as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub content_type: String,
    /// Strong ETag (quoted), from the encoded bytes.
    pub etag: String,
    pub bytes: Vec<u8>,
}

impl Variant {
    /// Wraps freshly encoded bytes, deriving the ETag from their hash.
    pub fn new(content_type: &str, bytes: Vec<u8>) -> Self {
        let digest = Sha256::digest(&bytes);
        let etag = format!("\"v-{}\"", hex::encode(&digest[..16]));
        Variant {
            content_type: content_type.to_string(),
            etag,
            bytes,
        }
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 128 + self.bytes.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(self.content_type.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(self.etag.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&self.bytes);
        out
    }

    /// Reads a stored value; `None` if it is not one (treated as a miss).
    pub fn decode(mut raw: Vec<u8>) -> Option<Self> {
        if !raw.starts_with(MAGIC) {
            return None;
        }
        let header = &raw[MAGIC.len()..];
        let first = header.iter().position(|&b| b == b'\n')?;
        let second = first + 1 + header[first + 1..].iter().position(|&b| b == b'\n')?;
        let content_type = std::str::from_utf8(&header[..first]).ok()?.to_string();
        let etag = std::str::from_utf8(&header[first + 1..second])
            .ok()?
            .to_string();
        let body_start = MAGIC.len() + second + 1;
        raw.drain(..body_start);
        Some(Variant {
            content_type,
            etag,
            bytes: raw,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_values() {
        let v = Variant::new("image/webp", b"RIFF\n\nbytes".to_vec());
        assert!(v.etag.starts_with("\"v-") && v.etag.len() == 36);
        assert_eq!(Variant::decode(v.encode()), Some(v));
        assert_eq!(Variant::decode(b"garbage".to_vec()), None);
        assert_eq!(Variant::decode(MAGIC.to_vec()), None);
    }
}

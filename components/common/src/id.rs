//! Image ids: the lowercase hex SHA-256 of the original bytes.

use crate::ApiError;
use sha2::{Digest, Sha256};
use std::fmt;

/// Length of an id in characters (64 hex digits of SHA-256).
pub const ID_LEN: usize = 64;

/// A well-formed image id. Only ids that pass [`ImageId::parse`] ever reach
/// storage, so a malformed path cannot address arbitrary keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageId(String);

impl ImageId {
    /// The content address of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        ImageId(hex::encode(Sha256::digest(bytes)))
    }

    /// Validates shape only: 64 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let ok = s.len() == ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(ImageId(s.to_string()))
        } else {
            Err(ApiError::bad_request(
                "bad_id",
                "image id must be 64 lowercase hex digits (SHA-256 of the original)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Strong ETag of the original: its content hash, quoted.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_sha256_hex_of_the_bytes() {
        assert_eq!(
            ImageId::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn accepts_only_64_lowercase_hex() {
        let good = ImageId::of(b"x").to_string();
        assert!(ImageId::parse(&good).is_ok());
        for bad in [
            "",
            "abc",
            &good.to_uppercase(),
            &good[..63],
            &format!("{good}0"),
            &format!("../{}", &good[3..]),
            &good.replace('a', "g"),
        ] {
            if bad == good {
                continue;
            }
            let err = ImageId::parse(bad).unwrap_err();
            assert_eq!((err.status, err.code.as_str()), (400, "bad_id"), "{bad:?}");
        }
    }
}

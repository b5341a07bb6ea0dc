//! Which key-value store each kind of data lives in, from Spin variables, so
//! one `.wasm` runs where labels and value sizes differ.
//!
//! - `images_label` (default `images`): originals, metadata, upload index.
//! - `cache_label` (default `cache`): encoded variants and their index.
//! - `kv_chunk_bytes` (default `0`): values longer than this are stored as
//!   chunks (see [`crate::chunked`]); `0` writes every value whole.
//!
//! Hosted Spin platforms offer only the `default` label with values of about
//! 1 MB: both labels then name `default` (the key prefixes keep the two kinds
//! apart) and the chunk size stays under the platform's value cap.

use crate::chunked::{ChunkedKv, MIN_CHUNK_BYTES};
use crate::{kv, ApiError};

/// Label of the durable store when `images_label` is unset.
pub const DEFAULT_IMAGES_LABEL: &str = "images";
/// Label of the variant cache when `cache_label` is unset.
pub const DEFAULT_CACHE_LABEL: &str = "cache";

/// The stores a component opens, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stores {
    pub images_label: String,
    pub cache_label: String,
    pub chunk_bytes: u64,
}

impl Default for Stores {
    fn default() -> Self {
        Stores {
            images_label: DEFAULT_IMAGES_LABEL.to_string(),
            cache_label: DEFAULT_CACHE_LABEL.to_string(),
            chunk_bytes: 0,
        }
    }
}

impl Stores {
    /// Reads the variables through `get` (`None` = unset or empty); a bad
    /// chunk size is a 500 naming the variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let defaults = Stores::default();
        let chunk_bytes = match get("kv_chunk_bytes") {
            None => 0,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n == 0 || n >= MIN_CHUNK_BYTES => n,
                _ => {
                    return Err(ApiError::new(
                        500,
                        "bad_config",
                        format!(
                            "variable `kv_chunk_bytes` must be 0 or a byte count of at least {MIN_CHUNK_BYTES}, got {v:?}"
                        ),
                    ))
                }
            },
        };
        Ok(Stores {
            images_label: get("images_label").unwrap_or(defaults.images_label),
            cache_label: get("cache_label").unwrap_or(defaults.cache_label),
            chunk_bytes,
        })
    }

    /// From the component's Spin variables.
    pub fn current() -> Result<Self, ApiError> {
        Self::from_lookup(crate::vars::get)
    }

    /// The durable store of originals and metadata.
    pub fn open_images(&self) -> Result<ChunkedKv<spin_sdk::key_value::Store>, ApiError> {
        Ok(ChunkedKv::new(
            kv::open(&self.images_label)?,
            self.chunk_bytes,
        ))
    }

    /// The variant cache.
    pub fn open_cache(&self) -> Result<ChunkedKv<spin_sdk::key_value::Store>, ApiError> {
        Ok(ChunkedKv::new(
            kv::open(&self.cache_label)?,
            self.chunk_bytes,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_todays_labels_and_whole_values() {
        assert_eq!(Stores::from_lookup(|_| None).unwrap(), Stores::default());
        let edge = Stores::from_lookup(|n| match n {
            "images_label" | "cache_label" => Some("default".into()),
            "kv_chunk_bytes" => Some("983040".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (
                edge.images_label.as_str(),
                edge.cache_label.as_str(),
                edge.chunk_bytes
            ),
            ("default", "default", 983_040)
        );
    }

    #[test]
    fn a_chunk_size_that_is_not_a_sane_number_is_a_config_error() {
        for bad in ["lots", "-1", "100"] {
            let e =
                Stores::from_lookup(|n| (n == "kv_chunk_bytes").then(|| bad.into())).unwrap_err();
            assert_eq!((e.status, e.code.as_str()), (500, "bad_config"), "{bad}");
        }
    }
}

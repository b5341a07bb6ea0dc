//! The metadata stored beside each original (`meta/{id}` in `images`).

use serde::{Deserialize, Serialize};

/// What upload learned about an original; also the body of
/// `GET /images/{id}/meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    /// Format name as `imaging::Format::as_str` spells it (`jpeg`, `png`, ...).
    pub format: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    /// RFC 3339, UTC.
    pub created: String,
}

impl Meta {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `None` when the stored value is not metadata we wrote.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

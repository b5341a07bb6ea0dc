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
    /// An animation's frame count; absent for a still image (and in
    /// metadata written before animations were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<u32>,
    /// ThumbHash placeholder bytes, standard base64 (absent in metadata
    /// written before placeholders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbhash: Option<String>,
    /// The dominant colour, `#rrggbb` (absent likewise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominant_color: Option<String>,
}

impl Meta {
    /// Whether the original is an animation (more than one frame).
    pub fn animated(&self) -> bool {
        self.frames.is_some_and(|f| f > 1)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `None` when the stored value is not metadata we wrote.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

//! Settings from Spin variables (declared in spin.toml with safe defaults).

use edgeimg_common::ApiError;
use imaging::{Limits, Options};

/// What the resize component is configured with.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `signing_key`: when set, non-preset requests need `sig`.
    pub signing_key: Option<String>,
    /// `presets`: `name:options` pairs separated by `;`, e.g.
    /// `thumb:width=160,height=160,fit=cover;card:width=640,height=360,fit=cover`.
    pub presets: String,
    /// `max_pixels` overrides the input pixel limit.
    pub limits: Limits,
}

impl Config {
    /// Builds the config from a variable lookup (`None` = unset or empty).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let mut limits = Limits::default();
        if let Some(v) = get("max_pixels") {
            limits.max_pixels = v.trim().parse().map_err(|_| {
                ApiError::new(
                    500,
                    "bad_config",
                    format!("variable `max_pixels` must be a number, got {v:?}"),
                )
            })?;
        }
        Ok(Config {
            signing_key: get("signing_key"),
            presets: get("presets").unwrap_or_default(),
            limits,
        })
    }

    /// The options of preset `name`; `Ok(None)` when there is no such preset,
    /// 500 when the configured preset does not parse.
    pub fn preset(&self, name: &str) -> Result<Option<Options>, ApiError> {
        let found = self.presets.split(';').find_map(|entry| {
            let (n, opts) = entry.split_once(':')?;
            (n.trim() == name).then(|| opts.trim())
        });
        let Some(opts) = found else {
            return Ok(None);
        };
        opts.parse().map(Some).map_err(|e| {
            ApiError::new(
                500,
                "bad_config",
                format!("preset `{name}` in variable `presets`: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_presets_by_name() {
        let config = Config {
            presets: "thumb:width=160,height=160,fit=cover; card : w=640 ;broken:nope=1".into(),
            ..Config::default()
        };
        let thumb = config.preset("thumb").unwrap().unwrap();
        assert_eq!(thumb.width, Some(160));
        assert_eq!(config.preset("card").unwrap().unwrap().width, Some(640));
        assert!(config.preset("other").unwrap().is_none());
        assert_eq!(config.preset("broken").unwrap_err().status, 500);
    }
}

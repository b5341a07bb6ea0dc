//! Settings from Spin variables (declared in spin.toml with safe defaults).

use crate::hints::Auto;
use edgeimg_common::cors::{Cors, Origins};
use edgeimg_common::ApiError;
use imaging::{Limits, Options};

/// `save_data_quality_drop` when unset: quality 80 becomes 60.
pub const DEFAULT_SAVE_DATA_DROP: u8 = 20;
/// `auto_width_fallback` when unset: what `width=auto` gives without hints.
pub const DEFAULT_AUTO_WIDTH: u32 = 1280;

/// What the resize component is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `signing_key`: when set, non-preset requests need `sig`.
    pub signing_key: Option<String>,
    /// `presets`: `name:options` pairs separated by `;`, e.g.
    /// `thumb:width=160,height=160,fit=cover;card:width=640,height=360,fit=cover`.
    pub presets: String,
    /// `max_pixels` overrides the input pixel limit.
    pub limits: Limits,
    /// `cors_origins`: pages allowed to read variants from script (`*` in
    /// spin.toml); `None` turns CORS off.
    pub cors_origins: Option<Origins>,
    /// `save_data_quality_drop`: how much `Save-Data: on` lowers the quality
    /// of lossy output; 0 turns it off.
    pub save_data_drop: u8,
    /// `auto_width_fallback`: device pixels `width=auto` gives when the
    /// browser sends no width hint (Firefox and Safari send none).
    pub auto_width: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            signing_key: None,
            presets: String::new(),
            limits: Limits::default(),
            cors_origins: Some(Origins::Any),
            save_data_drop: DEFAULT_SAVE_DATA_DROP,
            auto_width: DEFAULT_AUTO_WIDTH,
        }
    }
}

impl Config {
    /// Builds the config from a variable lookup (`None` = unset or empty).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let mut limits = Limits::default();
        if let Some(v) = get("max_pixels") {
            limits.max_pixels = number("max_pixels", &v)?;
        }
        Ok(Config {
            signing_key: get("signing_key"),
            presets: get("presets").unwrap_or_default(),
            limits,
            cors_origins: Origins::parse(get("cors_origins").as_deref()),
            save_data_drop: match get("save_data_quality_drop") {
                Some(v) => number("save_data_quality_drop", &v)?,
                None => DEFAULT_SAVE_DATA_DROP,
            },
            auto_width: match get("auto_width_fallback") {
                Some(v) => number("auto_width_fallback", &v)?,
                None => DEFAULT_AUTO_WIDTH,
            },
        })
    }

    /// The CORS policy for variants.
    pub fn cors(&self) -> Cors {
        Cors::public_read(self.cors_origins.clone())
    }

    /// The options of preset `name`; `Ok(None)` when there is no such preset,
    /// 500 when the configured preset does not parse.
    pub fn preset(&self, name: &str) -> Result<Option<(Options, Auto)>, ApiError> {
        let found = self.presets.split(';').find_map(|entry| {
            let (n, opts) = entry.split_once(':')?;
            (n.trim() == name).then(|| opts.trim())
        });
        let Some(opts) = found else {
            return Ok(None);
        };
        let broken = |e: &dyn std::fmt::Display| {
            ApiError::new(
                500,
                "bad_config",
                format!("preset `{name}` in variable `presets`: {e}"),
            )
        };
        let (auto, rest) = Auto::split(opts);
        let options: Options = rest.parse().map_err(|e| broken(&e))?;
        auto.check(&options).map_err(|e| broken(&e.message))?;
        Ok(Some((options, auto)))
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ApiError> {
    value.trim().parse().map_err(|_| {
        ApiError::new(
            500,
            "bad_config",
            format!("variable `{name}` must be a number, got {value:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_presets_by_name() {
        let config = Config {
            presets: "thumb:width=160,height=160,fit=cover; card : w=640 ;hero:w=auto,f=auto;broken:nope=1".into(),
            ..Config::default()
        };
        let (thumb, _) = config.preset("thumb").unwrap().unwrap();
        assert_eq!(thumb.width, Some(160));
        assert_eq!(config.preset("card").unwrap().unwrap().0.width, Some(640));
        assert!(config.preset("hero").unwrap().unwrap().1.width);
        assert!(config.preset("other").unwrap().is_none());
        assert_eq!(config.preset("broken").unwrap_err().status, 500);
    }

    #[test]
    fn reads_variables_with_defaults() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(
            (c.save_data_drop, c.auto_width, c.cors_origins),
            (20, 1280, None)
        );
        let c = Config::from_lookup(|n| match n {
            "save_data_quality_drop" => Some("0".into()),
            "auto_width_fallback" => Some("960".into()),
            "cors_origins" => Some("*".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((c.save_data_drop, c.auto_width), (0, 960));
        assert_eq!(c.cors_origins, Some(Origins::Any));
        let bad = Config::from_lookup(|n| (n == "save_data_quality_drop").then(|| "lots".into()));
        assert_eq!(bad.unwrap_err().status, 500);
    }
}

//! Settings from Spin variables (declared in spin.toml with safe defaults).

use edgeimg_common::cors::Origins;
use edgeimg_common::ApiError;
use imaging::Limits;

/// Default `max_upload_bytes`: 32 MiB, well under Spin's 128 MiB host buffer
/// and a guest memory budget that holds the body once.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 32 * 1024 * 1024;

/// Room for multipart framing around a file of `max_upload_bytes`.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// What the upload component is configured with.
#[derive(Debug, Clone)]
pub struct Config {
    /// `upload_token`: when non-empty, uploads and deletes need `Bearer <token>`.
    pub token: Option<String>,
    /// Image limits; `max_input_bytes` is `max_upload_bytes`, `max_pixels` is
    /// `max_pixels`.
    pub limits: Limits,
    /// `upload_cors_origins`: pages on other origins allowed to upload and
    /// delete from script; `None` (the default) is same-origin only.
    pub cors_origins: Option<Origins>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            token: None,
            limits: Limits {
                max_input_bytes: DEFAULT_MAX_UPLOAD_BYTES,
                ..Limits::default()
            },
            cors_origins: None,
        }
    }
}

impl Config {
    /// Builds the config from a variable lookup (`None` = unset or empty).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ApiError> {
        let mut config = Config {
            token: get("upload_token"),
            cors_origins: Origins::parse(get("upload_cors_origins").as_deref()),
            ..Config::default()
        };
        if let Some(v) = get("max_upload_bytes") {
            config.limits.max_input_bytes = parse_number("max_upload_bytes", &v)?;
        }
        if let Some(v) = get("max_pixels") {
            config.limits.max_pixels = parse_number("max_pixels", &v)?;
        }
        Ok(config)
    }

    /// The largest request body we read: the image limit plus multipart framing.
    pub fn max_body_bytes(&self) -> u64 {
        self.limits
            .max_input_bytes
            .saturating_add(MULTIPART_OVERHEAD)
    }
}

fn parse_number(name: &str, value: &str) -> Result<u64, ApiError> {
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
    fn reads_variables_and_keeps_defaults() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!((c.token, c.cors_origins), (None, None));
        assert_eq!(c.limits.max_input_bytes, DEFAULT_MAX_UPLOAD_BYTES);
        let c = Config::from_lookup(|n| match n {
            "upload_token" => Some("t".into()),
            "max_upload_bytes" => Some("1000".into()),
            "upload_cors_origins" => Some("https://app.example".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.token.as_deref(), Some("t"));
        assert_eq!(c.limits.max_input_bytes, 1000);
        assert_eq!(
            c.cors_origins,
            Some(Origins::List(vec!["https://app.example".into()]))
        );
        assert_eq!(c.max_body_bytes(), 1000 + 64 * 1024);
        let err = Config::from_lookup(|n| (n == "max_pixels").then(|| "lots".into())).unwrap_err();
        assert_eq!(err.status, 500);
    }
}

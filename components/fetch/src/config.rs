//! Settings from Spin variables (declared in spin.toml with safe defaults).

use edgeimg_common::cors::{Cors, Origins};

/// What the fetch component is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `upload_token`: when set, the upload listing needs `Bearer <token>`,
    /// because it reveals ids that are otherwise unguessable.
    pub token: Option<String>,
    /// `cors_origins`: pages allowed to read originals and metadata from
    /// script (`*` in spin.toml); `None` turns CORS off.
    pub cors_origins: Option<Origins>,
    /// `upload_cors_origins`: pages on other origins allowed to read the
    /// listing, like upload and delete; `None` is same-origin only.
    pub upload_cors_origins: Option<Origins>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            token: None,
            cors_origins: Some(Origins::Any),
            upload_cors_origins: None,
        }
    }
}

impl Config {
    /// Builds the config from a variable lookup (`None` = unset or empty).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        Config {
            token: get("upload_token"),
            cors_origins: Origins::parse(get("cors_origins").as_deref()),
            upload_cors_origins: Origins::parse(get("upload_cors_origins").as_deref()),
        }
    }

    /// The policy for originals and metadata.
    pub fn read_cors(&self) -> Cors {
        Cors::public_read(self.cors_origins.clone())
    }

    /// The policy for the listing: the token endpoints' one.
    pub fn list_cors(&self) -> Cors {
        Cors::token_protected(self.upload_cors_origins.clone(), "GET, HEAD")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_mean_no_token_and_no_cors() {
        assert_eq!(
            Config::from_lookup(|_| None),
            Config {
                token: None,
                cors_origins: None,
                upload_cors_origins: None
            }
        );
        let c = Config::from_lookup(|n| match n {
            "upload_token" => Some("t".into()),
            "cors_origins" => Some("*".into()),
            _ => None,
        });
        assert_eq!(c.token.as_deref(), Some("t"));
        assert_eq!(c.cors_origins, Some(Origins::Any));
    }
}

//! From `/resize/{options}/{id}` to checked, canonical options.

use crate::config::Config;
use crate::hints::Auto;
use edgeimg_common::request::percent_decode;
use edgeimg_common::{auth, ApiError, ImageId};
use imaging::Options;

/// A resize request that passed id, option and signature checks.
#[derive(Debug, Clone)]
pub struct Resize {
    pub id: ImageId,
    /// The options without their `auto` values, which `auto` names.
    pub options: Options,
    /// Which options the request's client hints decide.
    pub auto: Auto,
}

/// The path a signature covers: `/resize/{canonical options}/{id}`.
pub fn signed_path(options: &str, id: &ImageId) -> String {
    format!("/resize/{options}/{id}")
}

/// Parses the two path segments. A segment without `=` names a preset, which
/// needs no signature; anything else is an options list that, with a
/// `signing_key` configured, must carry `sig` = hex HMAC-SHA256 of
/// [`signed_path`] over the canonical options (or over the options exactly as
/// written, minus `sig`). `width=auto` and `dpr=auto` are signed as written
/// there, so one signed URL serves every screen.
pub fn parse(options_segment: &str, id_segment: &str, config: &Config) -> Result<Resize, ApiError> {
    let id = ImageId::parse(id_segment)?;
    let written = percent_decode(options_segment)?;
    if !written.contains('=') {
        let (options, auto) = config.preset(&written)?.ok_or_else(|| {
            ApiError::bad_request("unknown_preset", format!("no preset named `{written}`"))
        })?;
        return Ok(Resize { id, options, auto });
    }
    let (sig, rest) = split_sig(&written)?;
    let (auto, numeric) = Auto::split(&rest);
    let options: Options = numeric
        .parse()
        .map_err(|e: imaging::OptionError| ApiError::bad_request(e.code(), e.to_string()))?;
    auto.check(&options)?;
    if let Some(key) = config.signing_key.as_deref() {
        let canonical = signed_path(&auto.canonical(&options), &id);
        let Some(sig) = sig else {
            return Err(ApiError::new(
                403,
                "signature_required",
                format!("add sig = hex HMAC-SHA256 of `{canonical}` to the options"),
            ));
        };
        let ok =
            auth::verify(key, &canonical, sig) || auth::verify(key, &signed_path(&rest, &id), sig);
        if !ok {
            return Err(ApiError::new(
                403,
                "bad_signature",
                format!("sig is not the HMAC-SHA256 of `{canonical}`"),
            ));
        }
    }
    Ok(Resize { id, options, auto })
}

/// Takes the `sig=` item out of the options list.
fn split_sig(written: &str) -> Result<(Option<&str>, String), ApiError> {
    let mut sig = None;
    let mut rest = Vec::new();
    for item in written.split(',') {
        match item.strip_prefix("sig=") {
            Some(_) if sig.is_some() => {
                return Err(ApiError::bad_request(
                    "bad_option_value",
                    "`sig` is given twice",
                ))
            }
            Some(value) => sig = Some(value),
            None => rest.push(item),
        }
    }
    Ok((sig, rest.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> ImageId {
        ImageId::of(b"img")
    }

    fn config(key: Option<&str>) -> Config {
        Config {
            signing_key: key.map(str::to_string),
            presets: "thumb:width=160,height=160,fit=cover".into(),
            ..Config::default()
        }
    }

    fn status(options: &str, config: &Config) -> Result<String, (u16, String)> {
        parse(options, id().as_str(), config)
            .map(|r| r.auto.canonical(&r.options))
            .map_err(|e| (e.status, e.code))
    }

    #[test]
    fn aliases_share_one_canonical_form() {
        let c = config(None);
        assert_eq!(
            status("w=320,f=webp", &c),
            status("format=webp,width=320", &c)
        );
    }

    #[test]
    fn bad_options_and_ids_are_400() {
        let c = config(None);
        assert_eq!(
            status("bogus=1", &c).unwrap_err(),
            (400, "unknown_option".into())
        );
        assert_eq!(status("width=abc", &c).unwrap_err().0, 400);
        assert_eq!(status("width=999999", &c).unwrap_err().0, 400);
        assert_eq!(
            status("nosuchpreset", &c).unwrap_err(),
            (400, "unknown_preset".into())
        );
        assert_eq!(status("width=1,sig=a,sig=b", &c).unwrap_err().0, 400);
        assert_eq!(parse("width=1", "nothex", &c).unwrap_err().code, "bad_id");
    }

    #[test]
    fn signatures_when_a_key_is_set() {
        let c = config(Some("k"));
        let canonical = parse("w=320,f=webp", id().as_str(), &config(None))
            .unwrap()
            .options
            .to_string();
        let good = auth::sign("k", &signed_path(&canonical, &id()));
        assert!(status(&format!("f=webp,w=320,sig={good}"), &c).is_ok());
        let as_written = auth::sign("k", &signed_path("f=webp,w=320", &id()));
        assert!(status(&format!("f=webp,sig={as_written},w=320"), &c).is_ok());
        assert_eq!(
            status("w=320,f=webp", &c).unwrap_err(),
            (403, "signature_required".into())
        );
        assert_eq!(
            status(&format!("w=321,f=webp,sig={good}"), &c).unwrap_err(),
            (403, "bad_signature".into())
        );
        assert!(status("thumb", &c).is_ok(), "presets need no signature");
        let auto = auth::sign("k", &signed_path("width=auto,format=auto", &id()));
        assert_eq!(
            status(&format!("f=auto,w=auto,sig={auto}"), &c),
            Ok("width=auto,format=auto".into()),
            "auto options are signed in canonical form"
        );
        assert!(
            status(&format!("w=320,f=webp,sig={good}"), &config(None)).is_ok(),
            "sig ignored without key"
        );
    }
}

//! The two access rules: bearer token for upload/delete, HMAC signature for resize.

use crate::ApiError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Checks `Authorization: Bearer <token>` against the configured token; no
/// token configured means open access. Missing → 401, wrong → 403.
pub fn check_bearer(configured: Option<&str>, authorization: Option<&str>) -> Result<(), ApiError> {
    let Some(expected) = configured.filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    let Some(given) = authorization.map(str::trim).filter(|v| !v.is_empty()) else {
        return Err(ApiError::new(
            401,
            "unauthorized",
            "this endpoint requires a bearer token",
        ));
    };
    let token = match given.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => {
            return Err(ApiError::new(
                401,
                "unauthorized",
                "the Authorization header must use the Bearer scheme",
            ))
        }
    };
    if constant_time_eq(token.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            "forbidden",
            "the bearer token is not valid",
        ))
    }
}

/// Lowercase hex HMAC-SHA256 of `message` under `key`.
pub fn sign(key: &str, message: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `sig` (hex, any case) is the HMAC of `message` under `key`, compared
/// in constant time.
pub fn verify(key: &str, message: &str, sig: &str) -> bool {
    let Ok(given) = hex::decode(sig) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    mac.verify_slice(&given).is_ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_rules() {
        let cases: &[(Option<&str>, Option<&str>, Option<u16>)] = &[
            (None, None, None),
            (Some(""), None, None),
            (Some("s3cret"), None, Some(401)),
            (Some("s3cret"), Some("Basic czNjcmV0"), Some(401)),
            (Some("s3cret"), Some("Bearer nope"), Some(403)),
            (Some("s3cret"), Some("Bearer s3cret"), None),
            (Some("s3cret"), Some("bearer  s3cret "), None),
        ];
        for (configured, header, want) in cases {
            let got = check_bearer(*configured, *header).err().map(|e| e.status);
            assert_eq!(got, *want, "{configured:?} {header:?}");
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let sig = sign("k", "/resize/width=320/abc");
        assert!(verify("k", "/resize/width=320/abc", &sig));
        assert!(verify("k", "/resize/width=320/abc", &sig.to_uppercase()));
        assert!(!verify("k", "/resize/width=321/abc", &sig));
        assert!(!verify("other", "/resize/width=320/abc", &sig));
        assert!(!verify("k", "/resize/width=320/abc", "zz"));
    }
}

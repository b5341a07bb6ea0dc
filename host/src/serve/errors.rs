//! JSON error responses the host answers itself (no route, body too large,
//! trap, timeout, ...): `{"error":{"code":"...","message":"..."}}`.

pub use crate::wasm::instance::Body;
use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::{BodyExt, Full};

/// An error the host reports to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `no_route`, `timeout`.
    pub code: &'static str,
    pub message: String,
}

impl HostError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "no_route",
            format!("no route matches {path}"),
        )
    }

    pub fn body_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    pub fn into_response(self) -> Response<Body> {
        json_response(self.status, &self.to_json())
    }

    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }
}

/// A response with a JSON body.
pub fn json_response(status: StatusCode, json: &str) -> Response<Body> {
    let mut response = Response::new(full_body(Bytes::from(json.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A response with a plain-text body and the given content type.
pub fn text_response(
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> Response<Body> {
    let mut response = Response::new(full_body(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

/// A whole body of `bytes`.
pub fn full_body(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_json_has_code_and_message() {
        let e = HostError::not_found("/nope");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "no_route");
        assert_eq!(v["error"]["message"], "no route matches /nope");
    }
}

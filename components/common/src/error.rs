//! The JSON error body every component answers with: `{error: {code, message}}`.

use crate::Reply;
use serde::Serialize;

/// How the edgeimg host starts the message of a key-value error about a
/// damaged stored value (see the host's `kv::integrity`).
const INTEGRITY_PREFIX: &str = "integrity:";

/// An error destined for the client, with the status DESIGN.md assigns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 405 with the `allow` header listing what the route accepts.
    pub fn method_not_allowed(allow: &str) -> Reply {
        Self::new(
            405,
            "method_not_allowed",
            format!("this route accepts {allow}"),
        )
        .into_reply()
        .header("allow", allow)
    }

    /// A key-value failure: the store is unreachable or refused us (503),
    /// or, under edgeimg's host, a stored original failed its integrity
    /// check and no good copy could be had (500 `integrity_error`): the
    /// host never hands out bytes that do not hash to their id.
    pub fn storage(err: impl std::fmt::Display) -> Self {
        let text = err.to_string();
        if let Some(at) = text.find(INTEGRITY_PREFIX) {
            // Past the prefix, without the `Other("…")` of a WIT error's Debug.
            let detail = &text[at + INTEGRITY_PREFIX.len()..];
            let detail = detail.strip_suffix("\")").unwrap_or(detail);
            return Self::new(
                500,
                "integrity_error",
                format!("a stored original failed its integrity check:{detail}"),
            );
        }
        Self::new(
            503,
            "storage_unavailable",
            format!("storage unavailable: {text}"),
        )
    }

    /// The response carrying this error.
    pub fn into_reply(self) -> Reply {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
            },
        };
        let mut reply = Reply::json(self.status, &body).header("cache-control", "no-store");
        if self.status == 401 {
            reply = reply.header("www-authenticate", "Bearer");
        }
        reply
    }

    /// Finishes a handler's outcome for `method`: an error becomes its JSON
    /// reply, and a HEAD answer keeps its headers but drops the body.
    pub fn respond(result: Result<Reply, ApiError>, method: &str) -> Reply {
        let reply = result.unwrap_or_else(ApiError::into_reply);
        if method == "HEAD" {
            reply.for_head()
        } else {
            reply.finish()
        }
    }
}

impl From<ApiError> for Reply {
    fn from(err: ApiError) -> Self {
        err.into_reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_code_and_message_as_json() {
        let reply = ApiError::not_found("no image abc").into_reply();
        assert_eq!(reply.status, 404);
        assert_eq!(reply.get("content-type"), Some("application/json"));
        let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(v["error"]["code"], "not_found");
        assert_eq!(v["error"]["message"], "no image abc");
    }

    #[test]
    fn a_damaged_original_is_a_500_naming_it_and_an_outage_a_503() {
        let host = r#"Other("integrity: the stored bytes of `orig/ab` do not hash to its id (no good copy)")"#;
        let e = ApiError::storage(host);
        assert_eq!((e.status, e.code.as_str()), (500, "integrity_error"));
        assert_eq!(
            e.message,
            "a stored original failed its integrity check: the stored bytes of `orig/ab` do not hash to its id (no good copy)"
        );
        let down = ApiError::storage(r#"Other("connection refused")"#);
        assert_eq!(
            (down.status, down.code.as_str()),
            (503, "storage_unavailable")
        );
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let reply = ApiError::new(401, "unauthorized", "token required").into_reply();
        assert_eq!(reply.get("www-authenticate"), Some("Bearer"));
    }
}

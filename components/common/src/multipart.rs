//! Just enough `multipart/form-data` (RFC 7578) to take the `file` field.

use crate::ApiError;

/// The boundary of a `multipart/form-data` content type, or `None` when the
/// content type is anything else (the body is then the raw image).
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The content of the part named `field` in a multipart `body`.
pub fn extract<'a>(body: &'a [u8], boundary: &str, field: &str) -> Result<&'a [u8], ApiError> {
    let bad = |msg: &str| ApiError::bad_request("bad_multipart", msg);
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(bad("multipart boundary is missing or too long"));
    }
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut pos = find(body, delimiter, 0).ok_or_else(|| bad("multipart body has no boundary"))?;
    loop {
        let after = pos + delimiter.len();
        if body[after..].starts_with(b"--") {
            break;
        }
        let headers_start = skip_crlf(body, after);
        let headers_end = find(body, b"\r\n\r\n", headers_start)
            .ok_or_else(|| bad("multipart part has no end of headers"))?;
        let content_start = headers_end + 4;
        let mut end_marker = b"\r\n".to_vec();
        end_marker.extend_from_slice(delimiter);
        let next = find(body, &end_marker, content_start)
            .ok_or_else(|| bad("multipart body ends inside a part"))?;
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        if part_name(&headers).as_deref() == Some(field) {
            return Ok(&body[content_start..next]);
        }
        pos = next + 2;
    }
    Err(bad(&format!("multipart body has no `{field}` field")))
}

fn part_name(headers: &str) -> Option<String> {
    let disposition = headers.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    })?;
    disposition.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == "name").then(|| v.trim().trim_matches('"').to_string())
    })
}

fn skip_crlf(body: &[u8], at: usize) -> usize {
    if body[at..].starts_with(b"\r\n") {
        at + 2
    } else {
        at
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(boundary: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in parts {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .as_bytes(),
            );
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[test]
    fn reads_boundary_from_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("image/png"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn extracts_the_file_field_among_others() {
        let data: &[u8] = b"\x89PNG\r\n--not-the-boundary\r\n\x00";
        let body = form("XyZ", &[("title", b"hello"), ("file", data)]);
        assert_eq!(extract(&body, "XyZ", "file").unwrap(), data);
        assert_eq!(extract(&body, "XyZ", "title").unwrap(), b"hello");
    }

    #[test]
    fn malformed_bodies_are_400() {
        let body = form("XyZ", &[("title", b"hello")]);
        for (body, boundary) in [
            (body.as_slice(), "XyZ"),
            (b"garbage".as_slice(), "XyZ"),
            (
                b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc".as_slice(),
                "XyZ",
            ),
            (b"--XyZ".as_slice(), ""),
        ] {
            let err = extract(body, boundary, "file").unwrap_err();
            assert_eq!((err.status, err.code.as_str()), (400, "bad_multipart"));
        }
    }
}

//! `If-None-Match` evaluation (RFC 9110 §13.1.2, weak comparison).

/// Whether `if_none_match` matches `etag`, i.e. the client's copy is current
/// and a 304 is the answer.
pub fn none_match(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(header) = if_none_match else {
        return false;
    };
    let ours = etag.trim_start_matches("W/");
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

#[cfg(test)]
mod tests {
    use super::none_match;

    #[test]
    fn matches_lists_wildcards_and_weak_tags() {
        let etag = "\"abc\"";
        assert!(!none_match(None, etag));
        assert!(none_match(Some("\"abc\""), etag));
        assert!(none_match(Some("\"x\", W/\"abc\""), etag));
        assert!(none_match(Some("*"), etag));
        assert!(!none_match(Some("\"abcd\""), etag));
        assert!(!none_match(Some("abc"), etag));
    }
}

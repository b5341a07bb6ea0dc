//! Maps key-value keys to object paths and back.
//!
//! Keys are arbitrary strings; object paths must be safe on every OpenDAL
//! service, including `fs`. Each `/`-separated key segment is kept readable
//! but percent-encoded outside `[A-Za-z0-9_.,=+@-]`, so a segment can never be
//! `.`/`..` (dots are escaped when a segment is made only of dots), never
//! empty (an empty segment becomes a lone `%`, which no escape produces) and
//! never contains `~`. The last segment gets a `~` suffix: a key `a` (object
//! `a~`) and a key `a/b` (object `a/b~`) cannot collide as file and directory.
//! The mapping is injective, and [`decode`] inverts it.

/// The marker that ends every object name made from a key.
const LEAF_SUFFIX: char = '~';

/// A directory name no key segment ever encodes to (`%` followed by non-hex),
/// used for temporary files of atomic writes inside the store's root.
pub const RESERVED_DIR: &str = "%tmp";

/// Returns the object path for `key`.
pub fn encode(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 8);
    for (i, segment) in key.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode_segment(segment, &mut out);
    }
    out.push(LEAF_SUFFIX);
    out
}

/// The object path prefix of every key that starts with `prefix`, when the
/// prefix ends with `/` (whole segments, e.g. `idx/` → `idx/`); `None`
/// otherwise, as a partial segment has no path prefix.
pub fn encode_dir(prefix: &str) -> Option<String> {
    let body = prefix.strip_suffix('/')?;
    let mut out = String::with_capacity(prefix.len() + 4);
    for segment in body.split('/') {
        encode_segment(segment, &mut out);
        out.push('/');
    }
    Some(out)
}

/// Returns the key an object path was made from, or `None` for paths that
/// [`encode`] never produces (foreign files, temporary files, directories).
pub fn decode(path: &str) -> Option<String> {
    let body = path.strip_suffix(LEAF_SUFFIX)?;
    let mut bytes = Vec::with_capacity(body.len());
    for (i, segment) in body.split('/').enumerate() {
        if i > 0 {
            bytes.push(b'/');
        }
        if segment == "%" {
            continue;
        }
        if segment.is_empty() {
            return None;
        }
        decode_segment(segment, &mut bytes)?;
    }
    let key = String::from_utf8(bytes).ok()?;
    (encode(&key) == path).then_some(key)
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b',' | b'=' | b'+' | b'@' | b'-')
}

fn encode_segment(segment: &str, out: &mut String) {
    if segment.is_empty() {
        out.push('%');
        return;
    }
    let only_dots = segment.bytes().all(|b| b == b'.');
    for b in segment.bytes() {
        if is_plain(b) && !(only_dots && b == b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn decode_segment(segment: &str, out: &mut Vec<u8>) -> Option<()> {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_prefix_of_whole_segments_is_a_path_prefix() {
        assert_eq!(encode_dir("idx/").as_deref(), Some("idx/"));
        assert_eq!(encode_dir("a b/c/").as_deref(), Some("a%20b/c/"));
        assert!(encode("a b/c/d").starts_with(&encode_dir("a b/c/").unwrap()));
        assert_eq!(encode_dir("idx"), None);
    }

    #[test]
    fn keeps_component_keys_readable() {
        assert_eq!(encode("orig/abc123"), "orig/abc123~");
        assert_eq!(
            encode("var/abc/format=webp,width=320"),
            "var/abc/format=webp,width=320~"
        );
        assert_eq!(
            encode("var/abc/gravity=0.3x0.6"),
            "var/abc/gravity=0.3x0.6~"
        );
    }

    #[test]
    fn never_produces_traversal_or_empty_segments() {
        for key in [
            "..",
            "../etc/passwd",
            "a/../../b",
            ".",
            "/abs",
            "a//b",
            "",
            "a/",
            "~",
            "%tmp/x",
        ] {
            let path = encode(key);
            for segment in path.trim_end_matches('~').split('/') {
                assert!(!segment.is_empty(), "{key:?} -> {path:?}");
                assert!(segment != "." && segment != "..", "{key:?} -> {path:?}");
                assert_ne!(segment, RESERVED_DIR, "{key:?} -> {path:?}");
            }
            assert!(!path.starts_with('/'), "{key:?} -> {path:?}");
            assert!(!path.contains('\\'));
            assert_eq!(decode(&path).as_deref(), Some(key), "{key:?} -> {path:?}");
        }
    }

    #[test]
    fn file_and_directory_keys_do_not_collide() {
        let a = encode("var/x");
        let b = encode("var/x/y");
        assert!(!b.starts_with(&format!("{a}/")));
        assert_ne!(encode("a~"), encode("a"));
        assert_ne!(encode("a%2F"), encode("a/"));
    }

    #[test]
    fn round_trips_unicode_and_odd_bytes() {
        for key in [
            "ünïcødé/ключ",
            "sp ace",
            "q?x=1&y=2#f",
            "tab\tnl\n",
            "%41",
            "a\\b",
        ] {
            assert_eq!(decode(&encode(key)).as_deref(), Some(key));
        }
    }

    #[test]
    fn rejects_paths_it_never_made() {
        for path in [
            "orig/abc",
            "%tmp/orig/x~.tmp",
            "a/%4~x",
            "a//b~",
            "%2e~x",
            "%6a~",
        ] {
            assert_eq!(decode(path), None, "{path:?}");
        }
    }
}

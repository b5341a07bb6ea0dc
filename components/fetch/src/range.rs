//! Single byte-range requests (RFC 9110 §14).

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable single range: answer 200 with the whole body. Covers absent,
    /// malformed, non-`bytes` and multi-range headers, which RFC 9110 lets a
    /// server ignore.
    Full,
    /// Bytes `start..=end`: answer 206.
    Partial { start: u64, end: u64 },
    /// No byte of the range exists: answer 416.
    Unsatisfiable,
}

/// Interprets `header` against a body of `len` bytes.
pub fn parse(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(n) if len > 0 => RangeRequest::Partial {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Full,
        },
        // `bytes=N-` or `bytes=N-M`.
        (false, open_ended) => {
            let Some(start) = number(first) else {
                return RangeRequest::Full;
            };
            let end = if open_ended {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    _ => return RangeRequest::Full,
                }
            };
            if start >= len {
                RangeRequest::Unsatisfiable
            } else {
                RangeRequest::Partial {
                    start,
                    end: end.min(len - 1),
                }
            }
        }
        (true, true) => RangeRequest::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, RangeRequest::*};

    #[test]
    fn table() {
        let cases = [
            (None, Full),
            (Some("bytes=0-0"), Partial { start: 0, end: 0 }),
            (Some("bytes=0-99"), Partial { start: 0, end: 99 }),
            (Some("bytes=10-"), Partial { start: 10, end: 99 }),
            (Some("bytes=90-200"), Partial { start: 90, end: 99 }),
            (Some("bytes=-10"), Partial { start: 90, end: 99 }),
            (Some("bytes=-1000"), Partial { start: 0, end: 99 }),
            (Some("bytes=100-"), Unsatisfiable),
            (Some("bytes=500-600"), Unsatisfiable),
            (Some("bytes=-0"), Unsatisfiable),
            (Some("bytes=5-2"), Full),
            (Some("bytes=0-1,5-6"), Full),
            (Some("items=0-1"), Full),
            (Some("bytes=a-b"), Full),
            (Some("bytes=-"), Full),
            (Some("bytes=+1-2"), Full),
        ];
        for (header, want) in cases {
            assert_eq!(parse(header, 100), want, "{header:?}");
        }
        assert_eq!(parse(Some("bytes=0-"), 0), Unsatisfiable);
        assert_eq!(parse(Some("bytes=-5"), 0), Unsatisfiable);
    }
}

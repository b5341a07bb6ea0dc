//! A response whose body is either in hand or read from a chunked value as it
//! is sent, so a component serving a large original holds one chunk at a
//! time rather than the whole value (hosted Spin platforms give an instance
//! 128 MiB).

use crate::chunked::{ChunkedKv, Manifest};
use crate::kv::Kv;
use crate::{ApiError, Reply};

/// What a handler answers.
pub enum Answer<K> {
    /// Status, headers and the whole body.
    Whole(Reply),
    /// Status and headers (with `content-length`), then `body` read as sent.
    Streamed(Reply, ChunkedBody<K>),
}

/// Bytes `start..=end` of a chunked value, read chunk by chunk.
pub struct ChunkedBody<K> {
    store: ChunkedKv<K>,
    manifest: Manifest,
    start: u64,
    end: u64,
    /// A chunk already read (to sniff the content type), not read again.
    first: Option<(u64, Vec<u8>)>,
}

impl<K: Kv> ChunkedBody<K> {
    /// Bytes `start..=end` of the value `manifest` describes; `first` is a
    /// chunk the caller already holds (index, bytes).
    pub fn new(
        store: ChunkedKv<K>,
        manifest: Manifest,
        start: u64,
        end: u64,
        first: Option<(u64, Vec<u8>)>,
    ) -> Self {
        ChunkedBody {
            store,
            manifest,
            start,
            end,
            first,
        }
    }

    /// Bytes the body holds.
    pub fn len(&self) -> u64 {
        self.end + 1 - self.start
    }

    /// Never true: a chunked value is longer than one chunk, and a range
    /// holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The body's pieces in order, one chunk (or part of one) each; an error
    /// ends them.
    pub fn pieces(&mut self) -> impl Iterator<Item = Result<Vec<u8>, ApiError>> + '_ {
        let chunk = self.manifest.chunk;
        let (first, last) = (self.start / chunk, self.end / chunk);
        (first..=last).map(move |n| {
            let bytes = match self.first.take() {
                Some((held, bytes)) if held == n => bytes,
                _ => self.store.chunk(&self.manifest, n)?,
            };
            let offset = n * chunk;
            let from = self.start.saturating_sub(offset) as usize;
            let to = (self.end - offset).min(bytes.len() as u64 - 1) as usize;
            Ok(if from == 0 && to + 1 == bytes.len() {
                bytes
            } else {
                bytes[from..=to].to_vec()
            })
        })
    }
}

impl<K: Kv> Answer<K> {
    /// The whole response with its body read (for tests and small answers).
    pub fn into_reply(self) -> Result<Reply, ApiError> {
        match self {
            Answer::Whole(reply) => Ok(reply),
            Answer::Streamed(head, mut body) => {
                let mut bytes = Vec::with_capacity(body.len() as usize);
                for piece in body.pieces() {
                    bytes.extend_from_slice(&piece?);
                }
                Ok(head.with_body(bytes))
            }
        }
    }

    /// The status and headers.
    pub fn head(&self) -> &Reply {
        match self {
            Answer::Whole(reply) | Answer::Streamed(reply, _) => reply,
        }
    }
}

impl Answer<spin_sdk::key_value::Store> {
    /// Sends the answer through Spin's response outparam, streaming a
    /// chunked body. A chunk that fails mid-body ends the response short of
    /// its `content-length`, so the client sees a failed transfer, not a
    /// truncated image.
    pub async fn send(self, out: spin_sdk::http::ResponseOutparam) {
        use futures::SinkExt;
        let (head, body) = match self {
            Answer::Whole(reply) => (reply, None),
            Answer::Streamed(head, body) => (head, Some(body)),
        };
        let mut response: spin_sdk::http::Response = head.into();
        let whole = std::mem::take(response.body_mut());
        let outgoing = match spin_sdk::http::OutgoingResponse::try_from(response) {
            Ok(outgoing) => outgoing,
            Err(e) => {
                eprintln!("cannot build the response: {e}");
                return;
            }
        };
        let Some(mut body) = body else {
            if let Err(e) = out.set_with_body(outgoing, whole).await {
                eprintln!("cannot send the response: {e}");
            }
            return;
        };
        let mut sink = outgoing.take_body();
        out.set(outgoing);
        for piece in body.pieces() {
            let sent = match piece {
                Ok(bytes) => sink.send(bytes).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.message),
            };
            if let Err(e) = sent {
                eprintln!("response body cut short: {e}");
                std::mem::forget(sink);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunked::{Stored, MIN_CHUNK_BYTES};
    use crate::kv::MemoryKv;

    #[test]
    fn a_range_across_chunks_streams_exactly_its_bytes() {
        let backend = MemoryKv::default();
        let chunk = MIN_CHUNK_BYTES;
        let value: Vec<u8> = (0..3 * chunk + 7).map(|i| (i % 251) as u8).collect();
        ChunkedKv::new(&backend, chunk).set("k", &value).unwrap();
        let store = ChunkedKv::new(&backend, chunk);
        let Some(Stored::Chunked(m)) = store.stored("k").unwrap() else {
            panic!("not chunked")
        };
        let first = store.chunk(&m, 0).unwrap();
        for (start, end) in [
            (0, value.len() as u64 - 1),
            (chunk - 3, chunk + 2),
            (2 * chunk + 1, 3 * chunk + 6),
            (5, 9),
        ] {
            let body = ChunkedBody::new(
                ChunkedKv::new(&backend, chunk),
                m.clone(),
                start,
                end,
                Some((0, first.clone())),
            );
            assert_eq!(body.len(), end + 1 - start);
            let reply = Answer::Streamed(Reply::new(206), body)
                .into_reply()
                .unwrap();
            assert_eq!(
                reply.body,
                value[start as usize..=end as usize],
                "{start}-{end}"
            );
        }
    }
}

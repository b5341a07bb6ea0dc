//! The request body cap: a body wrapper that fails the guest's read once the
//! limit is crossed and remembers it, so the host answers 413 rather than
//! whatever the guest makes of a failed read.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// A request body that fails once more than `limit` bytes went through.
pub struct LimitedBody<B> {
    inner: B,
    remaining: u64,
    limit: u64,
    tripped: Arc<AtomicBool>,
}

impl<B> LimitedBody<B> {
    /// Wraps `inner`; the returned flag turns true when the limit is crossed.
    pub fn new(inner: B, limit: u64) -> (Self, Arc<AtomicBool>) {
        let tripped = Arc::new(AtomicBool::new(false));
        (
            Self {
                inner,
                remaining: limit,
                limit,
                tripped: tripped.clone(),
            },
            tripped,
        )
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > this.remaining {
                        this.tripped.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(
                            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(this.limit)),
                        )));
                    }
                    this.remaining -= len;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            other => other.map(|_| None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[tokio::test]
    async fn body_over_limit_fails_and_trips() {
        let inner = Full::new(Bytes::from(vec![0u8; 10])).map_err(
            |never: std::convert::Infallible| -> wasmtime_wasi_http::Error { match never {} },
        );
        let (body, tripped) = LimitedBody::new(inner, 5);
        assert!(body.collect().await.is_err());
        assert!(tripped.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn body_within_limit_passes() {
        let inner = Full::new(Bytes::from(vec![0u8; 5])).map_err(
            |never: std::convert::Infallible| -> wasmtime_wasi_http::Error { match never {} },
        );
        let (body, tripped) = LimitedBody::new(inner, 5);
        assert_eq!(body.collect().await.unwrap().to_bytes().len(), 5);
        assert!(!tripped.load(Ordering::Relaxed));
    }
}

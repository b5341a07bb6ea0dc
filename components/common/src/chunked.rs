//! Values bigger than a store takes, kept as chunks plus a small manifest.
//!
//! Hosted Spin platforms cap key-value values (Fermyon Cloud: 1 MB), and an
//! original photo is bigger. [`ChunkedKv`] wraps a store: a value longer than
//! its chunk size is written as chunks under `chunk/{key hash}/{value hash}/{n}`
//! and a manifest under the key itself, and read back transparently — whole
//! by [`Kv::get`], or piece by piece through [`ChunkedKv::stored`] so a
//! response can stream it without holding it (see `crate::answer`).
//!
//! Chunk keys name the value's hash, so rewriting the same value rewrites the
//! same chunks (a retried write leaves nothing behind), and a reader that got
//! a manifest never mixes chunks of two values. A new value's chunks are
//! written before its manifest, and the old value's chunks are deleted after
//! it, so a reader sees either value whole.
//!
//! A manifest starts with [`MAGIC`]; with chunking on, a short value that
//! starts with it is stored as one chunk, so no value is ever mistaken for a
//! manifest. With chunking off (size 0) values are written whole, and ones
//! written chunked before are still read and deleted whole: edgeimg's own
//! values (images, JSON, variants with their own header) never start with
//! [`MAGIC`].

use crate::kv::Kv;
use crate::ApiError;
use sha2::{Digest, Sha256};

/// First bytes of a manifest.
pub const MAGIC: &[u8] = b"edgeimg-chunked/1\n";

/// Prefix of every chunk key; [`Kv::get_keys`] of a [`ChunkedKv`] hides them.
pub const CHUNK_PREFIX: &str = "chunk/";

/// Smallest chunk size accepted: smaller ones would only multiply round trips.
pub const MIN_CHUNK_BYTES: u64 = 64 * 1024;

/// Where a chunked value's pieces are, as its manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Bytes of the whole value.
    pub len: u64,
    /// Bytes per chunk; the last one may be shorter.
    pub chunk: u64,
    /// `chunk/{key hash}/{value hash}/`: chunk `n` is `{base}{n}`.
    base: String,
}

impl Manifest {
    fn for_value(key: &str, value: &[u8], chunk: u64) -> Self {
        let key_hash = hex::encode(&Sha256::digest(key.as_bytes())[..16]);
        let value_hash = hex::encode(&Sha256::digest(value)[..8]);
        Manifest {
            len: value.len() as u64,
            chunk,
            base: format!("{CHUNK_PREFIX}{key_hash}/{value_hash}/"),
        }
    }

    /// How many chunks hold the value.
    pub fn chunks(&self) -> u64 {
        self.len.div_ceil(self.chunk)
    }

    /// The key of chunk `n`.
    pub fn chunk_key(&self, n: u64) -> String {
        format!("{}{n}", self.base)
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(
            format!(
                "len {}\nchunk {}\nbase {}\n",
                self.len, self.chunk, self.base
            )
            .as_bytes(),
        );
        out
    }

    /// The manifest `raw` holds; `None` for any other value.
    fn decode(raw: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(raw.strip_prefix(MAGIC)?).ok()?;
        let mut fields = text.lines().map(|l| l.split_once(' '));
        let mut next = |name: &str| match fields.next() {
            Some(Some((n, v))) if n == name => Some(v.to_string()),
            _ => None,
        };
        let len = next("len")?.parse().ok()?;
        let chunk: u64 = next("chunk")?.parse().ok()?;
        let base = next("base")?;
        (chunk > 0 && base.starts_with(CHUNK_PREFIX)).then_some(Manifest { len, chunk, base })
    }
}

/// A value as stored: whole, or chunked behind a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Whole(Vec<u8>),
    Chunked(Manifest),
}

/// A store whose values may be longer than its backend takes.
pub struct ChunkedKv<K> {
    inner: K,
    /// Values longer than this are chunked; 0 writes every value whole.
    chunk_bytes: u64,
}

impl<K: Kv> ChunkedKv<K> {
    pub fn new(inner: K, chunk_bytes: u64) -> Self {
        ChunkedKv { inner, chunk_bytes }
    }

    /// The value at `key` without reading its chunks: one backend read.
    pub fn stored(&self, key: &str) -> Result<Option<Stored>, ApiError> {
        Ok(self
            .inner
            .get(key)?
            .map(|raw| match Manifest::decode(&raw) {
                Some(manifest) => Stored::Chunked(manifest),
                None => Stored::Whole(raw),
            }))
    }

    /// Chunk `n` of a chunked value; 503 when it is gone (the value was
    /// replaced or deleted while being read).
    pub fn chunk(&self, manifest: &Manifest, n: u64) -> Result<Vec<u8>, ApiError> {
        let key = manifest.chunk_key(n);
        let bytes = self.inner.get(&key)?.ok_or_else(|| {
            ApiError::storage(format!(
                "chunk `{key}` is missing; the value changed while it was read"
            ))
        })?;
        let expected = manifest.chunk.min(manifest.len - n * manifest.chunk);
        if bytes.len() as u64 != expected {
            return Err(ApiError::storage(format!(
                "chunk `{key}` holds {} bytes, not {expected}",
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    fn manifest_at(&self, key: &str) -> Result<Option<Manifest>, ApiError> {
        Ok(match self.stored(key)? {
            Some(Stored::Chunked(manifest)) => Some(manifest),
            _ => None,
        })
    }

    fn delete_chunks(&self, manifest: &Manifest) -> Result<(), ApiError> {
        for n in 0..manifest.chunks() {
            self.inner.delete(&manifest.chunk_key(n))?;
        }
        Ok(())
    }

    fn must_chunk(&self, value: &[u8]) -> bool {
        self.chunk_bytes > 0 && (value.len() as u64 > self.chunk_bytes || value.starts_with(MAGIC))
    }
}

impl<K: Kv> Kv for ChunkedKv<K> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ApiError> {
        let manifest = match self.stored(key)? {
            None => return Ok(None),
            Some(Stored::Whole(bytes)) => return Ok(Some(bytes)),
            Some(Stored::Chunked(manifest)) => manifest,
        };
        let mut value = Vec::with_capacity(manifest.len as usize);
        for n in 0..manifest.chunks() {
            value.extend_from_slice(&self.chunk(&manifest, n)?);
        }
        Ok(Some(value))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), ApiError> {
        if self.chunk_bytes == 0 {
            return self.inner.set(key, value);
        }
        let old = self.manifest_at(key)?;
        let new = self.must_chunk(value).then(|| {
            let manifest = Manifest::for_value(key, value, self.chunk_bytes);
            (manifest.encode(), manifest)
        });
        match &new {
            Some((encoded, manifest)) => {
                for (n, piece) in value.chunks(self.chunk_bytes as usize).enumerate() {
                    self.inner.set(&manifest.chunk_key(n as u64), piece)?;
                }
                self.inner.set(key, encoded)?;
            }
            None => self.inner.set(key, value)?,
        }
        match old {
            Some(old) if new.as_ref().is_none_or(|(_, m)| m.base != old.base) => {
                self.delete_chunks(&old)
            }
            _ => Ok(()),
        }
    }

    fn delete(&self, key: &str) -> Result<(), ApiError> {
        let old = self.manifest_at(key)?;
        self.inner.delete(key)?;
        match old {
            Some(old) => self.delete_chunks(&old),
            None => Ok(()),
        }
    }

    fn exists(&self, key: &str) -> Result<bool, ApiError> {
        self.inner.exists(key)
    }

    fn get_keys(&self) -> Result<Vec<String>, ApiError> {
        let mut keys = self.inner.get_keys()?;
        keys.retain(|k| !k.starts_with(CHUNK_PREFIX));
        Ok(keys)
    }

    fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<crate::paging::KeyPage>, ApiError> {
        let page = self.inner.list_page(prefix, after, limit)?;
        Ok(page.map(|mut page| {
            page.keys.retain(|k| !k.starts_with(CHUNK_PREFIX));
            page
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryKv;

    const CHUNK: u64 = MIN_CHUNK_BYTES;

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    fn chunk_keys(store: &MemoryKv) -> Vec<String> {
        store
            .keys()
            .into_iter()
            .filter(|k| k.starts_with(CHUNK_PREFIX))
            .collect()
    }

    #[test]
    fn a_big_value_is_stored_as_chunks_no_bigger_than_the_cap_and_read_back_whole() {
        let backend = MemoryKv::default();
        let kv = ChunkedKv::new(&backend, CHUNK);
        let value = bytes(2 * CHUNK as usize + 10, 1);
        kv.set("orig/a", &value).unwrap();
        assert_eq!(kv.get("orig/a").unwrap().unwrap(), value);
        assert!(backend
            .map
            .borrow()
            .values()
            .all(|v| v.len() as u64 <= CHUNK));
        assert_eq!(chunk_keys(&backend).len(), 3);
        assert!(kv.exists("orig/a").unwrap());
        assert_eq!(kv.get_keys().unwrap(), vec!["orig/a".to_string()]);
        let Some(Stored::Chunked(m)) = kv.stored("orig/a").unwrap() else {
            panic!("not chunked")
        };
        assert_eq!((m.len, m.chunks()), (value.len() as u64, 3));
        assert_eq!(kv.chunk(&m, 2).unwrap(), value[2 * CHUNK as usize..]);
    }

    #[test]
    fn small_values_stay_whole_and_a_lookalike_is_never_taken_for_a_manifest() {
        let backend = MemoryKv::default();
        let kv = ChunkedKv::new(&backend, CHUNK);
        kv.set("meta/a", b"{}").unwrap();
        assert_eq!(backend.get("meta/a").unwrap().unwrap(), b"{}");
        let mut lookalike = MAGIC.to_vec();
        lookalike.extend_from_slice(b"len 1\nchunk 1\nbase chunk/x/\n");
        kv.set("var/a", &lookalike).unwrap();
        assert_eq!(kv.get("var/a").unwrap().unwrap(), lookalike);
        assert_eq!(chunk_keys(&backend).len(), 1);
    }

    #[test]
    fn replacing_and_deleting_leave_no_chunks_behind() {
        let backend = MemoryKv::default();
        let kv = ChunkedKv::new(&backend, CHUNK);
        let first = bytes(3 * CHUNK as usize, 1);
        let second = bytes(2 * CHUNK as usize, 2);
        kv.set("k", &first).unwrap();
        kv.set("k", &first).unwrap();
        assert_eq!(chunk_keys(&backend).len(), 3, "same value, same chunks");
        kv.set("k", &second).unwrap();
        assert_eq!(chunk_keys(&backend).len(), 2);
        assert_eq!(kv.get("k").unwrap().unwrap(), second);
        kv.set("k", b"small").unwrap();
        assert!(chunk_keys(&backend).is_empty());
        kv.set("k", &second).unwrap();
        kv.delete("k").unwrap();
        assert!(backend.keys().is_empty());
        kv.delete("k").unwrap();
    }

    #[test]
    fn chunking_off_writes_whole_but_still_reads_and_deletes_chunked_values() {
        let backend = MemoryKv::default();
        let value = bytes(2 * CHUNK as usize, 3);
        ChunkedKv::new(&backend, CHUNK).set("k", &value).unwrap();
        let off = ChunkedKv::new(&backend, 0);
        assert_eq!(off.get("k").unwrap().unwrap(), value);
        off.set("whole", &value).unwrap();
        assert_eq!(backend.get("whole").unwrap().unwrap(), value);
        off.delete("k").unwrap();
        assert_eq!(backend.keys(), vec!["whole".to_string()]);
    }

    #[test]
    fn a_missing_chunk_is_a_503_not_a_short_value() {
        let backend = MemoryKv::default();
        let kv = ChunkedKv::new(&backend, CHUNK);
        kv.set("k", &bytes(2 * CHUNK as usize, 4)).unwrap();
        let first = chunk_keys(&backend).remove(0);
        backend.delete(&first).unwrap();
        assert_eq!(kv.get("k").unwrap_err().status, 503);
    }

    #[test]
    fn manifests_round_trip_and_reject_foreign_text() {
        let m = Manifest::for_value("orig/a", &bytes(10, 0), 4);
        assert_eq!(Manifest::decode(&m.encode()), Some(m.clone()));
        assert_eq!(m.chunks(), 3);
        assert!(m.chunk_key(2).len() < 80 && m.chunk_key(2).ends_with("/2"));
        for raw in [
            &b"{}"[..],
            MAGIC,
            b"edgeimg-chunked/1\nlen 1\nchunk 0\nbase chunk/x/\n",
        ] {
            assert_eq!(Manifest::decode(raw), None);
        }
    }
}

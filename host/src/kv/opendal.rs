//! `type = "opendal"`: a key-value store on an OpenDAL operator (fs, s3, gcs,
//! azblob, memory), for durable data such as originals.
//!
//! ```toml
//! [key_value_store.images]
//! type = "opendal"
//! scheme = "s3"                 # default "fs"
//! bucket = "edgeimg-eu"         # every other key is passed to OpenDAL as is
//! region = "eu-west-1"
//! read_cache_bytes = 268435456  # host keys: see `HOST_KEYS`
//! ```
//!
//! Keys become object paths through [`super::object_key`]. Writes
//! are atomic: object stores replace an object in one request, and on `fs`
//! OpenDAL writes a temporary file and renames it into place.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use opendal::layers::{RetryLayer, TimeoutLayer};
use opendal::{ErrorKind, Operator};

use super::fs_batch;
use super::listing::{KeyIndex, KeyPage};
use super::object_key::{self, RESERVED_DIR};
use super::stats::StoreStats;
use super::{other, Error, Store};

/// Runtime-config keys the host reads itself; all others go to OpenDAL.
pub const HOST_KEYS: &[&str] = &[
    "type",
    "scheme",
    "timeout_secs",
    "io_timeout_secs",
    "retry_max_times",
    "read_cache_bytes",
    "read_cache_max_item_bytes",
];

/// How to build an [`OpendalStore`]: an OpenDAL scheme, its options, and the
/// retry and timeout layers around it.
#[derive(Clone, Debug)]
pub struct OpendalConfig {
    /// OpenDAL scheme: `fs`, `s3`, `gcs`, `azblob`, `memory`.
    pub scheme: String,
    /// Options exactly as OpenDAL's builder for `scheme` takes them.
    pub options: Vec<(String, String)>,
    /// Deadline of a whole non-IO operation (stat, delete, list page).
    pub timeout: Duration,
    /// Deadline of each read or write step of an IO operation.
    pub io_timeout: Duration,
    /// Retries of temporary failures, with exponential backoff and jitter.
    pub retry_max_times: usize,
}

impl OpendalConfig {
    /// An `fs` store under `root`.
    pub fn fs(root: impl Into<String>) -> Self {
        Self {
            scheme: "fs".into(),
            options: vec![("root".into(), root.into())],
            timeout: Duration::from_secs(30),
            io_timeout: Duration::from_secs(10),
            retry_max_times: 4,
        }
    }

    /// Reads the config from a runtime-config table; keys other than
    /// [`HOST_KEYS`] are OpenDAL options (strings, numbers and booleans).
    /// An `fs` root defaults to `default_root` and a relative one is taken
    /// from `data_dir`.
    pub fn from_table(table: &toml::Table, data_dir: &Path, default_root: &Path) -> Result<Self> {
        let mut config = Self::fs("");
        config.options.clear();
        if let Some(scheme) = table.get("scheme") {
            config.scheme = scheme
                .as_str()
                .context("`scheme` must be a string")?
                .to_string();
        }
        if let Some(secs) = secs(table, "timeout_secs")? {
            config.timeout = secs;
        }
        if let Some(secs) = secs(table, "io_timeout_secs")? {
            config.io_timeout = secs;
        }
        if let Some(n) = table.get("retry_max_times") {
            let n = n
                .as_integer()
                .filter(|n| *n >= 0)
                .context("`retry_max_times` must be a count")?;
            config.retry_max_times = n as usize;
        }
        for (key, value) in table {
            if HOST_KEYS.contains(&key.as_str()) {
                continue;
            }
            let value = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                _ => bail!("OpenDAL option `{key}` must be a string, number or boolean"),
            };
            config.options.push((key.clone(), value));
        }
        if config.scheme == "fs" {
            let root = config
                .option("root")
                .map(|r| data_dir.join(r))
                .unwrap_or_else(|| default_root.to_path_buf());
            config.options.retain(|(k, _)| k != "root");
            config
                .options
                .push(("root".into(), root.to_string_lossy().into_owned()));
        }
        Ok(config)
    }

    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Builds the operator with OpenDAL's timeout and retry layers. On `fs`
    /// the temporary files of atomic writes go under `<root>/%tmp` (same
    /// filesystem, so the final rename is atomic) unless configured.
    pub fn operator(&self) -> Result<Operator> {
        install_opendal();
        let mut options = self.options.clone();
        if self.scheme == "fs" {
            let root = self.option("root").filter(|r| !r.is_empty());
            let root = root
                .context("an `fs` store needs a `root` directory")?
                .to_string();
            if self.option("atomic_write_dir").is_none() {
                let dir = std::path::Path::new(&root).join(RESERVED_DIR);
                options.push((
                    "atomic_write_dir".into(),
                    dir.to_string_lossy().into_owned(),
                ));
            }
        }
        let op = Operator::via_iter(&self.scheme, options)
            .with_context(|| format!("configuring OpenDAL scheme `{}`", self.scheme))?;
        Ok(op
            .layer(
                TimeoutLayer::new()
                    .with_timeout(self.timeout)
                    .with_io_timeout(self.io_timeout),
            )
            .layer(
                RetryLayer::new()
                    .with_max_times(self.retry_max_times)
                    .with_jitter(),
            ))
    }
}

fn secs(table: &toml::Table, key: &str) -> Result<Option<Duration>> {
    let Some(value) = table.get(key) else {
        return Ok(None);
    };
    let secs = match value {
        toml::Value::Integer(i) if *i > 0 => *i as f64,
        toml::Value::Float(f) if *f > 0.0 => *f,
        _ => bail!("`{key}` must be a positive number of seconds"),
    };
    Ok(Some(Duration::from_secs_f64(secs)))
}

/// Makes rustls use the ring provider (the one wasmtime-wasi-http already
/// links) for every TLS client of the process.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Registers OpenDAL's services and its reqwest HTTP transport on rustls.
fn install_opendal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        install_tls();
        opendal::init_default_registry();
        opendal_http_transport_reqwest::install_default();
    });
}

/// A key-value store on an OpenDAL operator.
pub struct OpendalStore {
    op: Operator,
    tier: String,
    stats: StoreStats,
    /// The root of an `fs` store, whose directories are synced after writes.
    fs_root: Option<std::path::PathBuf>,
    /// Directories of an `fs` store known to be durable already: a write
    /// there syncs only its own directory.
    durable_dirs: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
    /// Ordered keys of the prefixes paged so far (`fs`: a directory lists
    /// in no order, so each page would otherwise read all of it).
    index: tokio::sync::RwLock<KeyIndex>,
}

impl OpendalStore {
    /// Builds the operator (no I/O yet).
    pub fn new(config: &OpendalConfig, stats: StoreStats) -> Result<Self> {
        let fs_root = (config.scheme == "fs")
            .then(|| config.option("root").map(std::path::PathBuf::from))
            .flatten();
        Ok(Self {
            op: config.operator()?,
            tier: config.scheme.clone(),
            stats,
            fs_root,
            durable_dirs: Default::default(),
            index: Default::default(),
        })
    }

    /// Checks that the store answers (lists its root).
    pub async fn check(&self) -> Result<()> {
        self.op
            .check()
            .await
            .with_context(|| format!("OpenDAL `{}` store is not reachable", self.tier))
    }

    fn failed(&self, op: &str, key: &str, err: opendal::Error) -> anyhow::Error {
        self.stats.backend_error(&self.tier, op);
        anyhow::Error::new(err).context(format!("{op} `{key}` on {}", self.tier))
    }

    /// Reads a value; `None` if the key is absent.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        self.stats.backend_read(&self.tier);
        if let Some(root) = &self.fs_root {
            return self
                .read_file(key, root.join(object_key::encode(key)))
                .await;
        }
        match self.op.read(&object_key::encode(key)).await {
            Ok(buf) => {
                let bytes = buf.to_bytes();
                self.stats.read_bytes(&self.tier, bytes.len());
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.failed("get", key, e)),
        }
    }

    /// Reads a file of an `fs` store whole, into a buffer of its size.
    /// (OpenDAL's `fs` reader fills a zeroed 2 MiB buffer per read and
    /// hands out a slice of it, so every small value cost 2 MiB of page
    /// zeroing and pinned 2 MiB in the read cache.)
    async fn read_file(&self, key: &str, path: std::path::PathBuf) -> Result<Option<Bytes>> {
        let read = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .context("file read panicked")?;
        match read {
            Ok(bytes) => {
                self.stats.read_bytes(&self.tier, bytes.len());
                Ok(Some(Bytes::from(bytes)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => {
                self.stats.backend_error(&self.tier, "get");
                Err(anyhow::Error::new(e).context(format!("get `{key}` on {}", self.tier)))
            }
        }
    }

    /// Stores a value; readers see the old or the new value, never a part.
    /// On `fs` the value is durable on return: OpenDAL syncs the temporary
    /// file before renaming it into place, and the directories that hold
    /// the new name are synced here (a rename is only durable once its
    /// directory is).
    pub async fn set(&self, key: &str, value: Bytes) -> Result<()> {
        let len = value.len();
        let path = object_key::encode(key);
        self.op
            .write(&path, value)
            .await
            .map_err(|e| self.failed("set", key, e))?;
        if let Some(root) = &self.fs_root {
            self.sync_dirs(root, &path)
                .await
                .with_context(|| format!("syncing the directory of `{key}`"))?;
        }
        self.indexed([key], true).await;
        self.stats.written_bytes(&self.tier, len);
        Ok(())
    }

    /// Stores every entry, durable on return, paying for durability once:
    /// on `fs` each value goes to a temporary file, the files are synced
    /// together (the file system joins concurrent syncs into one journal
    /// commit), renamed into place, and each directory involved is synced
    /// once (see [`fs_batch::group_write`]). Object stores take the writes
    /// a few at a time. A key given twice keeps its last value.
    pub async fn set_many(&self, entries: Vec<(String, Bytes)>) -> Result<()> {
        let entries = last_value_of_each_key(entries);
        let Some(root) = self.fs_root.clone() else {
            return stream::iter(entries)
                .map(|(key, value)| async move { self.set(&key, value).await })
                .buffer_unordered(16)
                .try_collect()
                .await;
        };
        let bytes: usize = entries.iter().map(|(_, v)| v.len()).sum();
        let keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
        let files: Vec<(std::path::PathBuf, Bytes)> = entries
            .into_iter()
            .map(|(key, value)| (root.join(object_key::encode(&key)), value))
            .collect();
        let mut dirs: Vec<std::path::PathBuf> = Vec::new();
        {
            let known = self.durable_dirs.lock().unwrap();
            for (path, _) in &files {
                let parent = path.parent().unwrap_or(&root);
                if known.contains(parent) {
                    dirs.push(parent.to_path_buf());
                } else {
                    dirs.extend(
                        parent
                            .ancestors()
                            .take_while(|d| d.starts_with(&root))
                            .map(Path::to_path_buf),
                    );
                }
            }
        }
        dirs.sort();
        dirs.dedup();
        let synced = dirs.clone();
        tokio::task::spawn_blocking(move || fs_batch::group_write(files, &dirs))
            .await
            .context("group write panicked")?
            .context("writing a batch of values")?;
        self.durable_dirs.lock().unwrap().extend(synced);
        self.indexed(keys.iter().map(String::as_str), true).await;
        self.stats.written_bytes(&self.tier, bytes);
        Ok(())
    }

    /// Removes a key; absent keys are fine.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.op
            .delete(&object_key::encode(key))
            .await
            .map_err(|e| self.failed("delete", key, e))?;
        self.indexed([key], false).await;
        Ok(())
    }

    /// Keeps the ordered index current after a write or delete of `keys`.
    async fn indexed<'a>(&self, keys: impl IntoIterator<Item = &'a str>, exists: bool) {
        let keys: Vec<&str> = {
            let index = self.index.read().await;
            keys.into_iter().filter(|k| index.covers(k)).collect()
        };
        if !keys.is_empty() {
            let mut index = self.index.write().await;
            for key in keys {
                index.update(key, exists);
            }
        }
    }

    /// Up to `limit` keys with `prefix` after `after`, in order: from the
    /// ordered index on `fs` (built by one listing of the prefix the first
    /// time), from the service's own ordered listing where it starts after
    /// a key (S3: object paths order like keys of plain characters, as
    /// edgeimg's are), else by sorting a whole listing.
    pub async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<KeyPage> {
        let Some(dir) = object_key::encode_dir(prefix) else {
            return self.scan_page(prefix, after, limit).await;
        };
        if self.fs_root.is_none() {
            if self.op.info().capability().list_with_start_after {
                return self.service_page(&dir, prefix, after, limit).await;
            }
            return self.scan_page(prefix, after, limit).await;
        }
        if let Some(page) = self.index.read().await.page(prefix, after, limit) {
            return Ok(page);
        }
        let mut index = self.index.write().await;
        if index.page(prefix, after, limit).is_none() {
            let keys = self.keys_under(&dir).await?;
            tracing::debug!(prefix, keys = keys.len(), "ordered key index built");
            index.build(prefix, keys);
        }
        Ok(index.page(prefix, after, limit).expect("built above"))
    }

    async fn scan_page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<KeyPage> {
        let mut keys = self.get_keys().await?;
        keys.sort_unstable();
        Ok(super::listing::page_of(&keys, prefix, after, limit))
    }

    /// The keys below the object path `dir` (none when it does not exist).
    async fn keys_under(&self, dir: &str) -> Result<Vec<String>> {
        let mut lister = match self.op.lister_with(dir).recursive(true).await {
            Ok(lister) => lister,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.failed("list", dir, e)),
        };
        let mut keys = Vec::new();
        loop {
            match lister.try_next().await {
                Ok(Some(entry)) => keys.extend(object_key::decode(entry.path())),
                Ok(None) => return Ok(keys),
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(keys),
                Err(e) => return Err(self.failed("list", dir, e)),
            }
        }
    }

    async fn service_page(
        &self,
        dir: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<KeyPage> {
        let mut listing = self.op.lister_with(dir).recursive(true).limit(limit + 1);
        if let Some(after) = after.filter(|a| *a >= prefix) {
            listing = listing.start_after(&object_key::encode(after));
        }
        let mut lister = listing.await.map_err(|e| self.failed("list", dir, e))?;
        let mut keys = Vec::with_capacity(limit + 1);
        while keys.len() <= limit {
            let Some(entry) = lister
                .try_next()
                .await
                .map_err(|e| self.failed("list", dir, e))?
            else {
                break;
            };
            if let Some(key) = object_key::decode(entry.path()) {
                if after.is_none_or(|a| key.as_str() > a) {
                    keys.push(key);
                }
            }
        }
        let more = keys.len() > limit;
        keys.truncate(limit);
        Ok(KeyPage { keys, more })
    }

    /// Whether the key is present, without reading its value.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        self.op
            .exists(&object_key::encode(key))
            .await
            .map_err(|e| self.failed("exists", key, e))
    }

    /// Every key, from a recursive listing (values are not read).
    pub async fn get_keys(&self) -> Result<Vec<String>> {
        let mut lister = self
            .op
            .lister_with("")
            .recursive(true)
            .await
            .map_err(|e| self.failed("get_keys", "", e))?;
        let mut keys = Vec::new();
        while let Some(entry) = lister
            .try_next()
            .await
            .map_err(|e| self.failed("get_keys", "", e))?
        {
            let path = entry.path();
            if path.ends_with('/') || path.starts_with(&format!("{RESERVED_DIR}/")) {
                continue;
            }
            if let Some(key) = object_key::decode(path) {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}

impl OpendalStore {
    /// Makes the name `path` durable: syncs the directory holding it, and
    /// the first time a directory is seen, every directory from `root` down
    /// to it (one of them may have just been created).
    async fn sync_dirs(&self, root: &Path, path: &str) -> std::io::Result<()> {
        let mut chain = vec![root.to_path_buf()];
        let segments: Vec<&str> = path.split('/').collect();
        for segment in &segments[..segments.len().saturating_sub(1)] {
            let next = chain.last().unwrap().join(segment);
            chain.push(next);
        }
        let parent = chain.last().unwrap().clone();
        let known = self.durable_dirs.lock().unwrap().contains(&parent);
        let dirs = if known { vec![parent] } else { chain };
        let synced = dirs.clone();
        tokio::task::spawn_blocking(move || {
            for dir in dirs.iter().rev() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok::<_, std::io::Error>(())
        })
        .await??;
        if !known {
            self.durable_dirs.lock().unwrap().extend(synced);
        }
        Ok(())
    }
}

/// `entries` with only the last value of each key, in their order: writes
/// taken a few at a time in any order must not let an earlier value win.
fn last_value_of_each_key(entries: Vec<(String, Bytes)>) -> Vec<(String, Bytes)> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<(String, Bytes)> = entries
        .into_iter()
        .rev()
        .filter(|(key, _)| seen.insert(key.clone()))
        .collect();
    kept.reverse();
    kept
}

#[async_trait]
impl Store for OpendalStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        OpendalStore::get(self, key).await.map_err(other)
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        OpendalStore::set(self, key, value).await.map_err(other)
    }

    async fn set_many(&self, entries: Vec<(String, Bytes)>) -> Result<(), Error> {
        OpendalStore::set_many(self, entries).await.map_err(other)
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        OpendalStore::delete(self, key).await.map_err(other)
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        OpendalStore::exists(self, key).await.map_err(other)
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        OpendalStore::get_keys(self).await.map_err(other)
    }

    async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<KeyPage>, Error> {
        OpendalStore::list_page(self, prefix, after, limit)
            .await
            .map(Some)
            .map_err(other)
    }

    /// Another host sharing the store changed `key`: the index follows.
    async fn invalidate(&self, key: &str) {
        if self.index.read().await.covers(key) {
            if let Ok(exists) = OpendalStore::exists(self, key).await {
                self.indexed([key], exists).await;
            }
        }
    }
}

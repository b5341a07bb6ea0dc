//! `type = "redis"`: a key-value store in Redis (Spin's runtime-config form,
//! `url = "redis://host:port"`), used alone or as the shared tier of the
//! `cache` label for several hosts of one region.
//!
//! ```toml
//! [key_value_store.sessions]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//! prefix = "edgeimg:sessions:"   # default "edgeimg:<label>:"
//! ttl_secs = 3600                # optional expiry of every value
//! timeout_ms = 250               # deadline of each command
//! retry_after_ms = 1000          # how long an outage skips Redis
//! ```
//!
//! Every command has a short deadline, and after a failure the store answers
//! "unavailable" at once for `retry_after_ms` (a circuit breaker) instead of
//! making each request wait for a dead server; the connection manager
//! reconnects in the background.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::FromRedisValue;

use super::stats::StoreStats;
use super::{other, Error, Store};

const TIER: &str = "redis";

/// How to reach Redis and how patient to be with it.
#[derive(Clone, Debug)]
pub struct RedisConfig {
    /// `redis://[user:pass@]host:port[/db]`.
    pub url: String,
    /// Prepended to every key, so several labels can share one server.
    pub prefix: String,
    /// Expiry of every value written, if any.
    pub ttl: Option<Duration>,
    /// Deadline of one command (and of connecting).
    pub timeout: Duration,
    /// How long to skip Redis after a failure.
    pub retry_after: Duration,
}

impl RedisConfig {
    /// Reads the config of the store labelled `label`.
    pub fn from_table(label: &str, table: &toml::Table) -> Result<Self> {
        let url = table
            .get("url")
            .and_then(|v| v.as_str())
            .context("a `redis` store needs a `url`")?;
        let millis = |key: &str, default: u64| -> Result<Duration> {
            match table.get(key) {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v
                    .as_integer()
                    .filter(|n| *n > 0)
                    .map(|n| Duration::from_millis(n as u64))
                    .with_context(|| format!("`{key}` must be a positive number of milliseconds")),
            }
        };
        let ttl = match table.get("ttl_secs") {
            None => None,
            Some(v) => Some(Duration::from_secs(
                v.as_integer()
                    .filter(|n| *n > 0)
                    .context("`ttl_secs` must be a positive number")? as u64,
            )),
        };
        let prefix = match table.get("prefix") {
            None => format!("edgeimg:{label}:"),
            Some(v) => v.as_str().context("`prefix` must be a string")?.to_string(),
        };
        Ok(Self {
            url: url.to_string(),
            prefix,
            ttl,
            timeout: millis("timeout_ms", 250)?,
            retry_after: millis("retry_after_ms", 1000)?,
        })
    }
}

/// A key-value store in Redis that fails fast while Redis is down.
pub struct RedisStore {
    conn: ConnectionManager,
    config: RedisConfig,
    /// Milliseconds since `epoch` until which Redis is skipped.
    open_until: AtomicU64,
    epoch: Instant,
    stats: StoreStats,
}

impl RedisStore {
    /// Prepares the store; connects lazily, so a Redis that is down at start
    /// does not stop the host.
    pub fn new(config: RedisConfig, stats: StoreStats) -> Result<Self> {
        let client = redis::Client::open(config.url.as_str())
            .with_context(|| format!("invalid Redis url `{}`", config.url))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(100));
        let conn = ConnectionManager::new_lazy_with_config(client, manager_config)
            .context("setting up the Redis connection")?;
        Ok(Self {
            conn,
            config,
            open_until: AtomicU64::new(0),
            epoch: Instant::now(),
            stats,
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Runs one command under the deadline and the circuit breaker.
    async fn query<T: FromRedisValue>(&self, op: &str, cmd: redis::Cmd) -> Result<T> {
        if self.now_ms() < self.open_until.load(Ordering::Relaxed) {
            bail!("Redis is unavailable (skipping it after a recent failure)");
        }
        let mut conn = self.conn.clone();
        let result = match tokio::time::timeout(
            self.config.timeout,
            cmd.query_async::<T>(&mut conn),
        )
        .await
        {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => anyhow!(e).context(format!("Redis {op}")),
            Err(_) => anyhow!("Redis {op} timed out after {:?}", self.config.timeout),
        };
        self.stats.backend_error(TIER, op);
        let until = self.now_ms() + self.config.retry_after.as_millis() as u64;
        self.open_until.store(until, Ordering::Relaxed);
        Err(result)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.config.prefix)
    }

    /// Reads a value; `None` if absent.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        self.stats.backend_read(TIER);
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(key));
        let value: Option<Vec<u8>> = self.query("get", cmd).await?;
        if let Some(v) = &value {
            self.stats.read_bytes(TIER, v.len());
        }
        Ok(value.map(Bytes::from))
    }

    /// Stores a value (with the configured expiry).
    pub async fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = self.config.ttl {
            cmd.arg("PX").arg(ttl.as_millis() as u64);
        }
        self.query::<()>("set", cmd).await?;
        self.stats.written_bytes(TIER, value.len());
        Ok(())
    }

    /// Removes a key.
    pub async fn delete(&self, key: &str) -> Result<()> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key(key));
        self.query::<i64>("delete", cmd).await.map(drop)
    }

    /// Whether the key is present.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(self.key(key));
        Ok(self.query::<i64>("exists", cmd).await? > 0)
    }

    /// Every key under the prefix, by `SCAN` (never `KEYS`, which blocks Redis).
    pub async fn get_keys(&self) -> Result<Vec<String>> {
        let pattern = format!("{}*", glob_escape(&self.config.prefix));
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000);
            let (next, batch): (u64, Vec<Vec<u8>>) = self.query("get_keys", cmd).await?;
            for raw in batch {
                if let Ok(key) = String::from_utf8(raw) {
                    if let Some(key) = key.strip_prefix(&self.config.prefix) {
                        keys.push(key.to_string());
                    }
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}

/// Escapes Redis glob metacharacters so a prefix matches literally.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, Error> {
        RedisStore::get(self, key).await.map_err(other)
    }

    async fn set(&self, key: &str, value: Bytes) -> Result<(), Error> {
        RedisStore::set(self, key, &value).await.map_err(other)
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        RedisStore::delete(self, key).await.map_err(other)
    }

    async fn exists(&self, key: &str) -> Result<bool, Error> {
        RedisStore::exists(self, key).await.map_err(other)
    }

    async fn get_keys(&self) -> Result<Vec<String>, Error> {
        RedisStore::get_keys(self).await.map_err(other)
    }
}

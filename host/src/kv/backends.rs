//! Builds the storage backends from runtime config — `opendal` (durable
//! objects, behind a read cache), `redis`, `cache` (the tiered cache) — and
//! the embedded defaults: `images` on `fs` under `<data-dir>/images`, `cache`
//! as a memory tier.

use std::sync::Arc;

use anyhow::Result;

use super::cache_tier::TieredCache;
use super::opendal::{OpendalConfig, OpendalStore};
use super::read_cache::{ReadCache, ReadCacheConfig};
use super::redis::{RedisConfig, RedisStore};
use super::registry::{reject_unknown_keys, BackendContext};
use super::stats::storage_metrics;
use super::{Error, Store};

/// Backend failures reach the guest as `error::other` with the whole chain.
pub fn other(e: anyhow::Error) -> Error {
    Error::Other(format!("{e:#}"))
}

/// `type = "opendal"`: an object store behind a read cache that collapses
/// concurrent reads (and keeps nothing when `read_cache_bytes = 0`). A local
/// `fs` store must be usable at start; a remote one that does not answer yet
/// is only logged, so an outage of the object store does not keep the host
/// down.
pub async fn opendal(
    label: &str,
    table: &toml::Table,
    ctx: &BackendContext,
) -> Result<Arc<dyn Store>> {
    let config = OpendalConfig::from_table(table, &ctx.data_dir, &ctx.data_dir.join(label))?;
    let read_cache = ReadCacheConfig::from_table(table)?;
    let stats = storage_metrics().store(label);
    let store = OpendalStore::new(&config, stats.clone())?;
    if let Err(e) = store.check().await {
        if config.scheme == "fs" {
            return Err(e);
        }
        tracing::warn!(label, error = %format!("{e:#}"), "object store not reachable yet");
    }
    Ok(Arc::new(ReadCache::new(Arc::new(store), read_cache, stats)))
}

/// `type = "redis"`: Spin's Redis store (`url`), connected lazily.
pub fn redis(label: &str, table: &toml::Table) -> Result<Arc<dyn Store>> {
    reject_unknown_keys(
        table,
        &[
            "type",
            "url",
            "prefix",
            "ttl_secs",
            "timeout_ms",
            "retry_after_ms",
        ],
    )?;
    let config = RedisConfig::from_table(label, table)?;
    Ok(Arc::new(RedisStore::new(
        config,
        storage_metrics().store(label),
    )?))
}

/// `type = "cache"`: a memory tier with optional Redis and OpenDAL tiers.
pub async fn cache(
    label: &str,
    table: &toml::Table,
    ctx: &BackendContext,
) -> Result<Arc<dyn Store>> {
    reject_unknown_keys(
        table,
        &[
            "type",
            "capacity_bytes",
            "max_item_bytes",
            "ttl_secs",
            "tiers",
        ],
    )?;
    let stats = storage_metrics().store(label);
    Ok(Arc::new(
        TieredCache::from_table(label, table, &ctx.data_dir, stats).await?,
    ))
}

/// The embedded default of a label the runtime config does not mention:
/// `images` on local `fs`, `cache` in memory; `None` for other labels.
pub async fn embedded_default(label: &str, ctx: &BackendContext) -> Result<Option<Arc<dyn Store>>> {
    let table = match label {
        "images" => toml::toml! { type = "opendal" },
        "cache" => toml::toml! { type = "cache" },
        _ => return Ok(None),
    };
    let store = match label {
        "images" => opendal(label, &table, ctx).await?,
        _ => cache(label, &table, ctx).await?,
    };
    Ok(Some(store))
}

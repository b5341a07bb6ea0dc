//! Builds the storage backends from runtime config — `opendal` (durable
//! objects, behind a read cache), `redis`, `cache` (the tiered cache) — and
//! the embedded defaults: `images` on `fs` under `<data-dir>/images`, `cache`
//! as a memory tier.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::config::{memory_tier, reject_unknown_keys, BackendContext, MemoryTierKeys};
use super::integrity::VerifiedStore;
use super::opendal::{OpendalConfig, OpendalStore};
use super::redis::{RedisConfig, RedisStore};
use super::stats::{storage_metrics, StoreStats};
use super::tiered::{MemoryTierConfig, Tier, TieredStore};
use super::Store;

/// The read cache's keys in an `opendal` table.
const READ_CACHE_KEYS: MemoryTierKeys = MemoryTierKeys {
    capacity: "read_cache_bytes",
    max_item: "read_cache_max_item_bytes",
    ttl_secs: None,
};

/// The memory tier's keys in a `cache` table.
const CACHE_KEYS: MemoryTierKeys = MemoryTierKeys {
    capacity: "capacity_bytes",
    max_item: "max_item_bytes",
    ttl_secs: Some("ttl_secs"),
};

/// `type = "opendal"`: an object store behind a read cache that collapses
/// concurrent reads (and keeps nothing when `read_cache_bytes = 0`); what
/// it reads is checked for integrity before memory keeps it. A local
/// `fs` store must be usable at start; a remote one that does not answer yet
/// is only logged, so an outage of the object store does not keep the host
/// down.
pub async fn opendal(
    label: &str,
    table: &toml::Table,
    ctx: &BackendContext,
) -> Result<Arc<dyn Store>> {
    let config = OpendalConfig::from_table(table, &ctx.data_dir, &ctx.data_dir.join(label))?;
    let memory = memory_tier(table, &READ_CACHE_KEYS, MemoryTierConfig::READ_CACHE)?;
    let stats = storage_metrics().store(label);
    let store = OpendalStore::new(&config, stats.clone())?;
    if let Err(e) = store.check().await {
        if config.scheme == "fs" {
            return Err(e);
        }
        tracing::warn!(label, error = %format!("{e:#}"), "object store not reachable yet");
    }
    let verified = VerifiedStore::new(Arc::new(store), label, stats.clone());
    let tier = Tier::durable(config.scheme.clone(), Arc::new(verified));
    Ok(Arc::new(TieredStore::new(
        "read_cache",
        memory,
        vec![tier],
        stats,
    )))
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

/// `type = "cache"`: a memory tier with optional Redis and OpenDAL tiers
/// (`[[tiers]]`, tried in order).
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
    let memory = memory_tier(table, &CACHE_KEYS, MemoryTierConfig::CACHE)?;
    let stats = storage_metrics().store(label);
    let mut tiers = Vec::new();
    if let Some(list) = table.get("tiers") {
        let list = list
            .as_array()
            .context("`tiers` must be an array of tables")?;
        for (i, tier) in list.iter().enumerate() {
            let tier = tier
                .as_table()
                .with_context(|| format!("`tiers[{i}]` must be a table"))?;
            let tier = cache_tier(label, tier, &ctx.data_dir, stats.clone())
                .await
                .with_context(|| format!("cache tier {i} of `{label}`"))?;
            tiers.push(tier);
        }
    }
    Ok(Arc::new(TieredStore::new("memory", memory, tiers, stats)))
}

/// One `[[tiers]]` table of a cache: `type = "redis"` or `"opendal"`.
async fn cache_tier(
    label: &str,
    table: &toml::Table,
    data_dir: &Path,
    stats: StoreStats,
) -> Result<Tier> {
    match table.get("type").and_then(|t| t.as_str()) {
        Some("redis") => {
            let store = RedisStore::new(RedisConfig::from_table(label, table)?, stats)?;
            Ok(Tier::cache("redis", Arc::new(store)))
        }
        Some("opendal") => {
            let config = OpendalConfig::from_table(table, data_dir, &data_dir.join(label))?;
            let store = OpendalStore::new(&config, stats)?;
            store.check().await?;
            Ok(Tier::cache(config.scheme.clone(), Arc::new(store)))
        }
        Some(other) => {
            bail!("unknown cache tier type `{other}` (expected `redis` or `opendal`)")
        }
        None => bail!("a cache tier needs a `type`"),
    }
}

/// The embedded default of a label the runtime config does not mention:
/// `images` on local `fs`, `cache` in memory; `None` for other labels.
pub async fn embedded_default(label: &str, ctx: &BackendContext) -> Result<Option<Arc<dyn Store>>> {
    let store = match label {
        "images" => opendal(label, &toml::toml! { type = "opendal" }, ctx).await?,
        "cache" => cache(label, &toml::toml! { type = "cache" }, ctx).await?,
        _ => return Ok(None),
    };
    Ok(Some(store))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use bytes::Bytes;

    use super::*;

    fn ctx(dir: &Path) -> BackendContext {
        BackendContext {
            data_dir: dir.to_path_buf(),
        }
    }

    fn temp(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("edgeimg-backends-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn embedded_default_puts_images_on_fs_under_the_data_dir() {
        let dir = temp("default");
        let images = embedded_default("images", &ctx(&dir))
            .await
            .unwrap()
            .unwrap();
        images
            .set("orig/abc", Bytes::from_static(b"jpeg"))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(dir.join("images/orig/abc~")).unwrap(),
            b"jpeg"
        );
        let cache = embedded_default("cache", &ctx(&dir))
            .await
            .unwrap()
            .unwrap();
        cache
            .set("var/abc/w=1", Bytes::from_static(b"v"))
            .await
            .unwrap();
        assert!(
            !dir.join("cache").exists(),
            "the default cache is memory only"
        );
        assert!(embedded_default("other", &ctx(&dir))
            .await
            .unwrap()
            .is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn opendal_options_pass_through_and_host_keys_do_not() {
        let table: toml::Table = toml::from_str(
            "type = \"opendal\"\nscheme = \"s3\"\nbucket = \"b\"\nenable_virtual_host_style = true\n\
             read_cache_bytes = 0\ntimeout_secs = 5\nretry_max_times = 2\n",
        )
        .unwrap();
        let config =
            OpendalConfig::from_table(&table, Path::new("/data"), Path::new("/data/x")).unwrap();
        let mut options = config.options.clone();
        options.sort();
        let expected = [("bucket", "b"), ("enable_virtual_host_style", "true")];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(options, expected);
        assert_eq!((config.scheme.as_str(), config.retry_max_times), ("s3", 2));
        assert_eq!(config.timeout.as_secs(), 5);

        let fs: toml::Table = toml::from_str("type = \"opendal\"\nroot = \"images\"").unwrap();
        let config = OpendalConfig::from_table(&fs, Path::new("/data"), Path::new("/d")).unwrap();
        assert_eq!(
            config.options,
            vec![("root".to_string(), "/data/images".to_string())]
        );
    }

    #[tokio::test]
    async fn typos_in_cache_and_redis_tables_fail_at_start() {
        let dir = temp("typos");
        let cache: toml::Table = toml::from_str("type = \"cache\"\ncapacity = 10").unwrap();
        let e = cache_store(&cache, &dir).await.err().expect("a typo fails");
        assert!(format!("{e:#}").contains("capacity"), "{e:#}");
        let redis_table: toml::Table =
            toml::from_str("type = \"redis\"\nuri = \"redis://x\"").unwrap();
        assert!(redis("r", &redis_table).is_err());
        let tier: toml::Table =
            toml::from_str("type = \"cache\"\n[[tiers]]\ntype = \"memcached\"").unwrap();
        assert!(cache_store(&tier, &dir).await.is_err());
    }

    async fn cache_store(table: &toml::Table, dir: &Path) -> Result<Arc<dyn Store>> {
        cache("cache", table, &ctx(dir)).await
    }
}

//! What every backend reads from its runtime-config table: the host's data
//! folder, byte counts, and a check that no key is a typo.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use super::tiered::MemoryTierConfig;

/// What backends may need besides their own table.
#[derive(Debug, Clone)]
pub struct BackendContext {
    /// The host's data folder (`--data-dir`); file-backed stores live below it.
    pub data_dir: PathBuf,
}

/// Fails on a key the backend does not read, so typos do not pass silently.
pub fn reject_unknown_keys(table: &toml::Table, known: &[&str]) -> Result<()> {
    for key in table.keys() {
        if !known.contains(&key.as_str()) {
            bail!(
                "unknown field `{key}` (expected one of: {})",
                known.join(", ")
            );
        }
    }
    Ok(())
}

/// Reads a non-negative integer (bytes, seconds) named `key`, if present.
pub fn count(table: &toml::Table, key: &str) -> Result<Option<u64>> {
    match table.get(key) {
        None => Ok(None),
        Some(value) => match value.as_integer().and_then(|n| u64::try_from(n).ok()) {
            Some(n) => Ok(Some(n)),
            None => bail!("`{key}` must be a non-negative integer"),
        },
    }
}

/// The keys a memory tier is configured by, in one backend's table.
pub struct MemoryTierKeys {
    pub capacity: &'static str,
    pub max_item: &'static str,
    pub ttl_secs: Option<&'static str>,
}

/// Reads a memory tier's sizes from `table`, starting from `defaults`; a
/// capacity of 0 keeps nothing in memory.
pub fn memory_tier(
    table: &toml::Table,
    keys: &MemoryTierKeys,
    defaults: MemoryTierConfig,
) -> Result<MemoryTierConfig> {
    let mut config = defaults;
    if let Some(bytes) = count(table, keys.capacity)? {
        config = config.with_capacity(bytes);
    }
    if let Some(bytes) = count(table, keys.max_item)? {
        config.max_item_bytes = bytes;
    }
    if let Some(secs) = keys
        .ttl_secs
        .map(|k| count(table, k))
        .transpose()?
        .flatten()
    {
        config.ttl = Some(Duration::from_secs(secs.max(1)));
    }
    Ok(config)
}

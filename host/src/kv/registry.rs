//! Label → backend, built once at start-up from the runtime config.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::backends;
use super::memory::MemoryStore;
use super::Store;

/// Labels every host provides when the runtime config does not mention them.
pub const DEFAULT_LABELS: [&str; 3] = ["default", "images", "cache"];

/// What backends may need besides their own table.
#[derive(Debug, Clone)]
pub struct BackendContext {
    /// The host's data folder (`--data-dir`); file-backed stores live below it.
    pub data_dir: PathBuf,
}

/// The stores of one host, by label.
pub struct StoreRegistry {
    stores: HashMap<String, Arc<dyn Store>>,
}

impl StoreRegistry {
    /// Builds every store: the embedded defaults for [`DEFAULT_LABELS`], then
    /// one per `[key_value_store.<label>]` table (which replaces a default).
    pub async fn from_config(
        tables: &BTreeMap<String, toml::Table>,
        ctx: &BackendContext,
    ) -> Result<Self> {
        let mut stores: HashMap<String, Arc<dyn Store>> = HashMap::new();
        for label in DEFAULT_LABELS {
            if !tables.contains_key(label) {
                let store = match backends::embedded_default(label, ctx).await? {
                    Some(store) => store,
                    None => Arc::new(MemoryStore::new()),
                };
                stores.insert(label.to_string(), store);
            }
        }
        for (label, table) in tables {
            let store = build_store(label, table, ctx)
                .await
                .with_context(|| format!("[key_value_store.{label}]"))?;
            stores.insert(label.clone(), store);
        }
        Ok(Self { stores })
    }

    pub fn get(&self, label: &str) -> Option<Arc<dyn Store>> {
        self.stores.get(label).cloned()
    }

    pub fn contains(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }

    /// Sorted labels, for messages.
    pub fn labels(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = self.stores.keys().map(String::as_str).collect();
        labels.sort();
        labels
    }
}

/// Builds one backend from its runtime-config table; the `type` tag picks it.
pub async fn build_store(
    label: &str,
    table: &toml::Table,
    ctx: &BackendContext,
) -> Result<Arc<dyn Store>> {
    let kind = match table.get("type") {
        Some(toml::Value::String(kind)) => kind.as_str(),
        Some(_) => bail!("`type` must be a string"),
        None => bail!("`type` is missing (e.g. type = \"memory\")"),
    };
    match kind {
        "memory" => {
            reject_unknown_keys(table, &["type"])?;
            Ok(Arc::new(MemoryStore::new()))
        }
        "opendal" => backends::opendal(label, table, ctx).await,
        "redis" => backends::redis(label, table),
        "cache" => backends::cache(label, table, ctx).await,
        other => bail!(
            "`type`: unknown key-value backend {other:?} (known: memory, opendal, redis, cache)"
        ),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::kv::backend_tests::{tempdir, TempDir};

    /// A context whose data dir lives as long as the returned guard.
    fn ctx() -> (BackendContext, TempDir) {
        let dir = tempdir();
        (
            BackendContext {
                data_dir: dir.0.clone(),
            },
            dir,
        )
    }

    #[tokio::test]
    async fn defaults_exist_without_config() {
        let (ctx, _dir) = ctx();
        let r = StoreRegistry::from_config(&BTreeMap::new(), &ctx)
            .await
            .unwrap();
        assert_eq!(r.labels(), vec!["cache", "default", "images"]);
    }

    #[tokio::test]
    async fn config_adds_labels_and_rejects_unknown_types() {
        let mut tables = BTreeMap::new();
        tables.insert(
            "extra".to_string(),
            toml::from_str("type = \"memory\"").unwrap(),
        );
        let (ctx, _dir) = ctx();
        let r = StoreRegistry::from_config(&tables, &ctx).await.unwrap();
        assert!(r.contains("extra") && r.contains("default"));

        tables.insert(
            "bad".to_string(),
            toml::from_str("type = \"nope\"").unwrap(),
        );
        let e = StoreRegistry::from_config(&tables, &ctx)
            .await
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("[key_value_store.bad]"), "{e:#}");
    }
}

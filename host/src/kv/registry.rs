//! Label → backend, built once at start-up from the runtime config.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::backends;
use super::config::{reject_unknown_keys, BackendContext};
use super::memory::MemoryStore;
use super::Store;

/// Labels every host provides when the runtime config does not mention them.
pub const DEFAULT_LABELS: [&str; 3] = ["default", "images", "cache"];

/// The stores of one host, by label.
pub struct StoreRegistry {
    stores: HashMap<String, Arc<dyn Store>>,
    /// For labels whose store may reach beyond this region (replication's
    /// pull-through): the view that stays inside it, for requests that must
    /// not wait on other regions.
    regional: HashMap<String, Arc<dyn Store>>,
}

impl StoreRegistry {
    /// Builds every store: the embedded defaults for [`DEFAULT_LABELS`], then
    /// one per `[key_value_store.<label>]` table (which replaces a default).
    pub async fn from_config(
        tables: &BTreeMap<String, toml::Table>,
        ctx: &BackendContext,
    ) -> Result<Self> {
        Self::from_config_with_defaults(tables, ctx, &DEFAULT_LABELS).await
    }

    /// [`StoreRegistry::from_config`] with `defaults` as the labels that
    /// exist without a table.
    pub async fn from_config_with_defaults(
        tables: &BTreeMap<String, toml::Table>,
        ctx: &BackendContext,
        defaults: &[&str],
    ) -> Result<Self> {
        let mut stores: HashMap<String, Arc<dyn Store>> = HashMap::new();
        for &label in defaults {
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
        Ok(Self {
            stores,
            regional: HashMap::new(),
        })
    }

    /// A registry of one store (an emulated platform's).
    pub fn single(label: &str, store: Arc<dyn Store>) -> Self {
        Self {
            stores: HashMap::from([(label.to_string(), store)]),
            regional: HashMap::new(),
        }
    }

    /// The store of `label`; with `regional`, the view that never asks
    /// other regions.
    pub fn get(&self, label: &str, regional: bool) -> Option<Arc<dyn Store>> {
        if regional {
            if let Some(store) = self.regional.get(label) {
                return Some(store.clone());
            }
        }
        self.stores.get(label).cloned()
    }

    /// Puts `store` in front of `label` (its `regional` view beside it), for
    /// a layer such as replication that wraps the backend.
    pub fn wrap(&mut self, label: &str, store: Arc<dyn Store>, regional: Arc<dyn Store>) {
        self.stores.insert(label.to_string(), store);
        self.regional.insert(label.to_string(), regional);
    }

    /// Puts a layer (`wrap` of the current store) around the backend of
    /// `label`, below any view [`StoreRegistry::wrap`] adds later; `false`
    /// when there is no such label.
    pub fn layer(
        &mut self,
        label: &str,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> bool {
        let Some(store) = self.stores.remove(label) else {
            return false;
        };
        self.stores.insert(label.to_string(), wrap(store));
        true
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

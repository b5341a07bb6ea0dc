//! `edgeimg up --emulate <platform>`: serve an app as a hosted Spin platform
//! would, so what will run there can be tried here first.
//!
//! An emulation is a table of the platform's documented limits, applied
//! where the host already enforces each kind of limit: one key-value label
//! (`default`) behind [`CappedStore`], the request-body cap, instance memory
//! and the execution deadline (each the smaller of the platform's and the
//! command line's). The edge cache is off, because the platform has none of
//! ours. Nothing else changes, so what passes here fails there only where
//! the platform behaves beyond its documentation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::kv::capped::{CappedStore, Caps};
use crate::kv::{BackendContext, StoreRegistry};

/// The only key-value label hosted platforms offer.
pub const LABEL: &str = "default";

/// A hosted Spin platform edgeimg can emulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// Fermyon Cloud (developer.fermyon.com/cloud/faq).
    FermyonCloud,
    /// Fermyon Wasm Functions on Akamai (developer.fermyon.com/wasm-functions/faq).
    WasmFunctions,
}

/// A platform's limits, as its documentation states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub name: &'static str,
    pub store: Caps,
    /// Request bodies up to this many bytes (the platforms cap responses
    /// alike; the host does not).
    pub max_body_bytes: u64,
    /// Linear memory per instance, when documented.
    pub memory_mib: Option<u64>,
    pub timeout: Duration,
}

impl Platform {
    /// The limits to emulate. Fermyon Cloud documents its key-value caps
    /// (keys 255 bytes, values 1 MB, 1,024 keys), 10 MB bodies and 30 s per
    /// request, but no memory cap. Wasm Functions documents 128 MiB,
    /// 10 MiB request and response bodies and 30 s, but no key-value sizes:
    /// Fermyon Cloud's are assumed.
    pub fn limits(self) -> Limits {
        const MB: u64 = 1_000_000;
        let cloud_store = Caps {
            max_key_bytes: 255,
            max_value_bytes: MB as usize,
            max_keys: Some(1024),
        };
        match self {
            Platform::FermyonCloud => Limits {
                name: "Fermyon Cloud",
                store: cloud_store,
                max_body_bytes: 10 * MB,
                memory_mib: None,
                timeout: Duration::from_secs(30),
            },
            Platform::WasmFunctions => Limits {
                name: "Fermyon Wasm Functions",
                store: Caps {
                    max_keys: None,
                    ..cloud_store
                },
                max_body_bytes: 10 << 20,
                memory_mib: Some(128),
                timeout: Duration::from_secs(30),
            },
        }
    }
}

impl Limits {
    /// The one store an emulated app gets: `default` as the runtime config
    /// backs it (memory when it does not say), behind the platform's caps.
    /// A runtime config that defines any other label is refused, since the
    /// platform would have no such store.
    pub async fn registry(
        &self,
        tables: &BTreeMap<String, toml::Table>,
        ctx: &BackendContext,
    ) -> Result<StoreRegistry> {
        if let Some(label) = tables.keys().find(|l| *l != LABEL) {
            bail!(
                "[key_value_store.{label}]: {} offers only the `{LABEL}` key-value label",
                self.name
            );
        }
        let mut only_default = BTreeMap::new();
        if let Some(table) = tables.get(LABEL) {
            only_default.insert(LABEL.to_string(), table.clone());
        }
        let registry = StoreRegistry::from_config_with_defaults(&only_default, ctx, &[LABEL])
            .await
            .context("emulated platform store")?;
        let inner = registry.get(LABEL, false).context("no `default` store")?;
        let capped = Arc::new(CappedStore::new(inner, self.store, self.name));
        Ok(StoreRegistry::single(LABEL, capped))
    }

    /// One line for the start-up log.
    pub fn describe(&self) -> String {
        let keys = self
            .store
            .max_keys
            .map_or(String::new(), |n| format!(", at most {n} keys"));
        let memory = self
            .memory_mib
            .map_or(String::new(), |m| format!(", {m} MiB per instance"));
        format!(
            "only the `{LABEL}` key-value label (values up to {} bytes, keys up to {} bytes{keys}), bodies up to {} bytes{memory}, {} s per request",
            self.store.max_value_bytes,
            self.store.max_key_bytes,
            self.max_body_bytes,
            self.timeout.as_secs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(dir: &std::path::Path) -> BackendContext {
        BackendContext {
            data_dir: dir.to_path_buf(),
        }
    }

    #[tokio::test]
    async fn the_emulated_registry_has_only_default_and_refuses_other_labels() {
        let dir = std::env::temp_dir().join(format!("edgeimg-platform-{}", std::process::id()));
        let limits = Platform::WasmFunctions.limits();
        let registry = limits.registry(&BTreeMap::new(), &ctx(&dir)).await.unwrap();
        assert_eq!(registry.labels(), vec![LABEL]);
        let big = bytes::Bytes::from(vec![0u8; 1_000_001]);
        let store = registry.get(LABEL, false).unwrap();
        assert!(store.set("k", big).await.is_err());

        let mut tables = BTreeMap::new();
        tables.insert(
            "images".to_string(),
            toml::from_str("type = \"memory\"").unwrap(),
        );
        let e = limits.registry(&tables, &ctx(&dir)).await.err().unwrap();
        assert!(e.to_string().contains("[key_value_store.images]"), "{e}");
        assert!(!dir.exists(), "no store was created on disk");
    }
}

//! runtime-config.toml: what backs each key-value label (Spin's syntax,
//! `[key_value_store.<label>] type = "..."`), plus one section per host
//! feature (`[edge_cache]`, `[collapsed_forwarding]`, `[replication]`), each
//! read by [`RuntimeConfig::section`] into the feature's own config type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

/// A parsed runtime config; empty when no file is given.
#[derive(Debug, Default, Clone)]
pub struct RuntimeConfig {
    pub path: Option<PathBuf>,
    /// `[key_value_store.<label>]` tables, each with a `type` tag.
    pub key_value_stores: BTreeMap<String, toml::Table>,
    /// The whole file, for sections other features own (region, peers, ...).
    pub raw: toml::Table,
}

impl RuntimeConfig {
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read runtime config {}", path.display()))?;
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file = path.display();
        let raw: toml::Table =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: invalid TOML: {e}"))?;
        let mut key_value_stores = BTreeMap::new();
        match raw.get("key_value_store") {
            None => {}
            Some(toml::Value::Table(stores)) => {
                for (label, table) in stores {
                    match table {
                        toml::Value::Table(t) => {
                            key_value_stores.insert(label.clone(), t.clone());
                        }
                        _ => bail!("{file}: [key_value_store.{label}] must be a table"),
                    }
                }
            }
            Some(_) => bail!(
                "{file}: `key_value_store` must be a table of [key_value_store.<label>] tables"
            ),
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            key_value_stores,
            raw,
        })
    }

    /// Section `[name]` as `T` (its `Default` when absent). `T` derives
    /// `Deserialize` with `#[serde(default, deny_unknown_fields)]`, so a typo
    /// fails at start, naming the file, the section and the field.
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T> {
        section(&self.raw, name).with_context(|| self.describe())
    }

    /// "runtime-config.toml" or "the embedded defaults", for messages.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "the embedded defaults".to_string(),
        }
    }
}

/// Section `[name]` of a parsed runtime config as `T` (see [`RuntimeConfig::section`]).
pub fn section<T: DeserializeOwned + Default>(raw: &toml::Table, name: &str) -> Result<T> {
    match raw.get(name) {
        None => Ok(T::default()),
        Some(value) => value
            .clone()
            .try_into()
            .map_err(|e| anyhow::anyhow!("[{name}]: {}", e.message())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_key_value_tables() {
        let c = RuntimeConfig::parse(
            "[key_value_store.images]\ntype = \"memory\"\n[region]\nname = \"eu\"\n",
            Path::new("rc.toml"),
        )
        .unwrap();
        assert_eq!(
            c.key_value_stores["images"]["type"].as_str(),
            Some("memory")
        );
        assert!(c.raw.contains_key("region"));
    }

    #[test]
    fn rejects_a_bad_shape() {
        let e = RuntimeConfig::parse("key_value_store = 3\n", Path::new("rc.toml")).unwrap_err();
        assert!(e.to_string().contains("rc.toml"), "{e}");
    }
}

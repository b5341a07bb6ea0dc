//! spin.toml (Spin application manifest v2): the subset edgeimg runs, read
//! and checked once at start-up. Every error names the file and the field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indexmap::IndexMap;
use serde::Deserialize;

use super::template::{check_variable_name, template_references};
use crate::serve::router::RoutePattern;
use crate::wasm::outbound::OutboundPolicy;

/// A checked application manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The spin.toml path as given (used in error messages).
    pub path: PathBuf,
    /// The folder relative paths are resolved against.
    pub dir: PathBuf,
    pub name: String,
    /// Application variables (`[variables]`).
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]` entries in file order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[component.<id>]` entries in file order, which `edgeimg build`
    /// follows as `spin build` does.
    pub components: IndexMap<String, ComponentDecl>,
}

/// `[variables.<name>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone)]
pub struct HttpTrigger {
    pub route: RoutePattern,
    pub component: String,
}

/// One `[component.<id>]` entry.
#[derive(Debug, Clone)]
pub struct ComponentDecl {
    pub id: String,
    /// Absolute path of the `.wasm` file.
    pub source: PathBuf,
    pub key_value_stores: Vec<String>,
    /// Component variables: name → template (`"{{ app_var }}"`).
    pub variables: BTreeMap<String, String>,
    /// Parsed `allowed_outbound_hosts`.
    pub allowed_outbound_hosts: OutboundPolicy,
    pub environment: BTreeMap<String, String>,
    pub build: Option<BuildDecl>,
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone)]
pub struct BuildDecl {
    /// Commands run in order with `sh -c`.
    pub commands: Vec<String>,
    /// Absolute working directory.
    pub workdir: PathBuf,
}

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: Option<toml::Value>,
    #[serde(default)]
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<toml::Table>>,
    #[serde(default)]
    component: IndexMap<String, RawComponent>,
}

#[derive(Deserialize, Default)]
struct RawApplication {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
struct RawComponent {
    source: Option<toml::Value>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    build: Option<RawBuild>,
    files: Option<toml::Value>,
}

#[derive(Deserialize)]
struct RawBuild {
    command: Option<StringOrList>,
    workdir: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl Manifest {
    /// Reads and checks `path`. Does not look at the `.wasm` files; see
    /// [`Manifest::check_sources_exist`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .canonicalize()
            .with_context(|| format!("cannot resolve the folder of {}", path.display()))?;
        Self::parse(&text, path, &dir)
    }

    /// Parses manifest text; `path` is for messages, `dir` resolves relative paths.
    pub fn parse(text: &str, path: &Path, dir: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: invalid manifest: {e}"))?;

        match raw
            .spin_manifest_version
            .as_ref()
            .and_then(toml::Value::as_integer)
        {
            Some(2) => {}
            _ => bail!("{file}: `spin_manifest_version`: expected 2 (Spin manifest v2)"),
        }

        let mut variables = BTreeMap::new();
        for (name, v) in raw.variables {
            check_variable_name(&name)
                .map_err(|e| anyhow::anyhow!("{file}: [variables.{name}]: {e}"))?;
            match (&v.default, v.required) {
                (Some(_), true) => bail!("{file}: [variables.{name}]: `default` and `required = true` exclude each other"),
                (None, false) => bail!("{file}: [variables.{name}]: needs a `default` or `required = true`"),
                _ => {}
            }
            variables.insert(
                name,
                VariableDecl {
                    default: v.default,
                    required: v.required,
                    secret: v.secret,
                },
            );
        }

        let mut components = IndexMap::new();
        for (id, c) in raw.component {
            let field = |f: &str| format!("{file}: [component.{id}] `{f}`");
            let source = match &c.source {
                Some(toml::Value::String(s)) => dir.join(s),
                Some(_) => bail!("{}: only a local file path is supported", field("source")),
                None => bail!("{}: missing", field("source")),
            };
            if c.files.is_some() {
                bail!(
                    "{}: mounting files is not supported by edgeimg",
                    field("files")
                );
            }
            let allowed_outbound_hosts = OutboundPolicy::parse(&c.allowed_outbound_hosts)
                .map_err(|e| anyhow::anyhow!("{}: {e}", field("allowed_outbound_hosts")))?;
            for label in &c.key_value_stores {
                if label.is_empty() {
                    bail!("{}: empty label", field("key_value_stores"));
                }
            }
            for (name, template) in &c.variables {
                check_variable_name(name)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", field(&format!("variables.{name}"))))?;
                for var in template_references(template)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", field(&format!("variables.{name}"))))?
                {
                    if !variables.contains_key(&var) {
                        bail!(
                            "{}: refers to undefined application variable {var:?} (declare it under [variables])",
                            field(&format!("variables.{name}"))
                        );
                    }
                }
            }
            let build = match c.build {
                None => None,
                Some(b) => {
                    let commands = match b.command {
                        Some(StringOrList::One(s)) => vec![s],
                        Some(StringOrList::Many(v)) => v,
                        None => bail!("{}: missing", field("build.command")),
                    };
                    let workdir = dir.join(b.workdir.unwrap_or_default());
                    Some(BuildDecl { commands, workdir })
                }
            };
            components.insert(
                id.clone(),
                ComponentDecl {
                    id,
                    source,
                    key_value_stores: c.key_value_stores,
                    variables: c.variables,
                    allowed_outbound_hosts,
                    environment: c.environment,
                    build,
                },
            );
        }

        let mut http_triggers = Vec::new();
        for (kind, entries) in &raw.trigger {
            if kind != "http" {
                bail!("{file}: [[trigger.{kind}]]: only HTTP triggers are supported");
            }
            for (i, t) in entries.iter().enumerate() {
                let at = format!("{file}: [[trigger.http]] #{} ", i + 1);
                let route = match t.get("route") {
                    Some(toml::Value::String(r)) => {
                        RoutePattern::parse(r).map_err(|e| anyhow::anyhow!("{at}`route`: {e}"))?
                    }
                    Some(_) => {
                        bail!("{at}`route`: only a route string is supported (no private routes)")
                    }
                    None => bail!("{at}`route`: missing"),
                };
                let component = match t.get("component") {
                    Some(toml::Value::String(c)) => c.clone(),
                    Some(_) => bail!("{at}`component`: must name a [component.<id>] (inline components are not supported)"),
                    None => bail!("{at}`component`: missing"),
                };
                if !components.contains_key(&component) {
                    let known: Vec<&str> = components.keys().map(String::as_str).collect();
                    bail!(
                        "{at}`component`: unknown component {component:?} (defined: {})",
                        known.join(", ")
                    );
                }
                if let Some(executor) = t.get("executor") {
                    let spin = executor.get("type").and_then(toml::Value::as_str) == Some("spin");
                    if !spin {
                        bail!("{at}`executor`: only the default Spin executor is supported");
                    }
                }
                http_triggers.push(HttpTrigger { route, component });
            }
        }
        if http_triggers.is_empty() {
            bail!("{file}: no [[trigger.http]] entries: nothing to serve");
        }

        Ok(Self {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            name: raw.application.name,
            variables,
            http_triggers,
            components,
        })
    }

    /// Fails naming every component whose `.wasm` is missing.
    pub fn check_sources_exist(&self) -> Result<()> {
        let missing: Vec<String> = self
            .components
            .values()
            .filter(|c| !c.source.is_file())
            .map(|c| {
                format!(
                    "  [component.{}] `source`: {} does not exist",
                    c.id,
                    c.source.display()
                )
            })
            .collect();
        if !missing.is_empty() {
            bail!(
                "{}: missing component files (run `edgeimg build -f {0}` or pass --build):\n{}",
                self.path.display(),
                missing.join("\n")
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
token = { default = "" }
key = { required = true, secret = true }
[[trigger.http]]
route = "/upload"
component = "upload"
[[trigger.http]]
route = "/images/..."
component = "upload"
[component.upload]
source = "target/upload.wasm"
key_value_stores = ["images"]
[component.upload.variables]
token = "{{ token }}"
[component.upload.build]
command = "cargo build"
workdir = "components/upload"
"#;

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new("spin.toml"), Path::new("/app"))
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.name, "app");
        assert_eq!(m.http_triggers.len(), 2);
        let c = &m.components["upload"];
        assert_eq!(c.source, Path::new("/app/target/upload.wasm"));
        assert_eq!(c.key_value_stores, vec!["images"]);
        assert_eq!(
            c.build.as_ref().unwrap().workdir,
            Path::new("/app/components/upload")
        );
        assert!(m.variables["key"].required);
    }

    #[test]
    fn components_keep_file_order() {
        let text = format!(
            "{GOOD}\n[component.zeta]\nsource = \"z.wasm\"\n[component.zeta.build]\ncommand = \"z\"\n[component.alpha]\nsource = \"a.wasm\"\n"
        );
        let m = parse(&text).unwrap();
        let ids: Vec<&str> = m.components.keys().map(String::as_str).collect();
        assert_eq!(ids, ["upload", "zeta", "alpha"]);
    }

    fn error_of(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn errors_name_file_and_field() {
        let unknown = GOOD.replace(
            "component = \"upload\"\n[[trigger",
            "component = \"nope\"\n[[trigger",
        );
        let e = error_of(&unknown);
        assert!(
            e.contains("spin.toml") && e.contains("`component`") && e.contains("\"nope\""),
            "{e}"
        );

        let e = error_of(&GOOD.replace("\"/images/...\"", "\"images\""));
        assert!(e.contains("[[trigger.http]] #2 `route`"), "{e}");

        let e = error_of(&GOOD.replace("{{ token }}", "{{ missing }}"));
        assert!(
            e.contains("variables.token") && e.contains("missing"),
            "{e}"
        );

        let e = error_of(&GOOD.replace("spin_manifest_version = 2", "spin_manifest_version = 1"));
        assert!(e.contains("spin_manifest_version"), "{e}");

        let e = error_of(&GOOD.replace(
            "key = { required = true, secret = true }",
            "Key = { default = \"x\" }",
        ));
        assert!(e.contains("[variables.Key]"), "{e}");

        let e = error_of(&GOOD.replace("source = \"target/upload.wasm\"", ""));
        assert!(e.contains("[component.upload] `source`"), "{e}");
    }
}

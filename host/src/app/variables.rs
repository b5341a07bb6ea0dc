//! Spin variables: application variables from spin.toml `[variables]`
//! (defaults, overridden by `SPIN_VARIABLE_<NAME>` in the environment, as
//! Spin does), and component variables, templates over them
//! (`greeting = "{{ greeting }} from {{ region }}"`).
//!
//! Everything resolves once at start-up; a required variable without a value
//! stops the host before it binds its port.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Result};

use super::manifest::{ComponentDecl, Manifest};
use super::template::{check_variable_name, parse_template, Part};
use crate::wasm::bindings::fermyon::spin::variables::{Error, Host};

/// Resolves application variables: `SPIN_VARIABLE_<NAME>` from `env`, else
/// the default. Fails naming every required variable that has no value.
pub fn resolve_application(
    manifest: &Manifest,
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, decl) in &manifest.variables {
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        match env(&env_name).or_else(|| decl.default.clone()) {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None => missing.push(format!("{name} (set {env_name})")),
        }
    }
    if !missing.is_empty() {
        bail!(
            "{}: required variables have no value: {}",
            manifest.path.display(),
            missing.join(", ")
        );
    }
    Ok(values)
}

/// A component's variables with their templates expanded.
#[derive(Debug, Default, Clone)]
pub struct ComponentVariables {
    values: HashMap<String, String>,
}

impl ComponentVariables {
    /// Expands `component`'s templates over the resolved application variables.
    pub fn resolve(component: &ComponentDecl, app: &BTreeMap<String, String>) -> Result<Self> {
        let mut values = HashMap::new();
        for (name, template) in &component.variables {
            let mut value = String::new();
            for part in parse_template(template).map_err(anyhow::Error::msg)? {
                match part {
                    Part::Text(text) => value.push_str(text),
                    Part::Var(var) => match app.get(var) {
                        Some(v) => value.push_str(v),
                        None => bail!(
                            "[component.{}] `variables.{name}`: undefined variable {var:?}",
                            component.id
                        ),
                    },
                }
            }
            values.insert(name.clone(), value);
        }
        Ok(Self { values })
    }

    /// Spin's `variables.get`: invalid names and unknown names are distinct errors.
    pub fn get(&self, name: &str) -> Result<String, Error> {
        check_variable_name(name).map_err(|_| Error::InvalidName(name.to_string()))?;
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Undefined(name.to_string()))
    }
}

/// Binds `fermyon:spin/variables` to a component's resolved variables.
pub struct VariablesData;

impl wasmtime::component::HasData for VariablesData {
    type Data<'a> = &'a ComponentVariables;
}

impl Host for &ComponentVariables {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(ComponentVariables::get(self, &name))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "app"
[variables]
greeting = { default = "hello" }
region = { default = "local" }
api_key = { required = true }
[[trigger.http]]
route = "/"
component = "c"
[component.c]
source = "c.wasm"
[component.c.variables]
message = "{{ greeting }} from {{region}}!"
key = "{{ api_key }}"
"#;

    fn manifest() -> Manifest {
        Manifest::parse(MANIFEST, Path::new("spin.toml"), Path::new("/app")).unwrap()
    }

    #[test]
    fn environment_overrides_defaults() {
        let env = |name: &str| match name {
            "SPIN_VARIABLE_REGION" => Some("eu-west".to_string()),
            "SPIN_VARIABLE_API_KEY" => Some("k".to_string()),
            _ => None,
        };
        let app = resolve_application(&manifest(), env).unwrap();
        let vars = ComponentVariables::resolve(&manifest().components["c"], &app).unwrap();
        assert_eq!(vars.get("message").unwrap(), "hello from eu-west!");
        assert_eq!(vars.get("key").unwrap(), "k");
    }

    #[test]
    fn missing_required_variable_is_named() {
        let e = resolve_application(&manifest(), |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("api_key") && e.contains("SPIN_VARIABLE_API_KEY"),
            "{e}"
        );
    }

    #[test]
    fn get_distinguishes_invalid_and_undefined() {
        let app = resolve_application(&manifest(), |_| Some("x".into())).unwrap();
        let vars = ComponentVariables::resolve(&manifest().components["c"], &app).unwrap();
        assert!(matches!(vars.get("Nope"), Err(Error::InvalidName(_))));
        assert!(matches!(vars.get("nope"), Err(Error::Undefined(_))));
    }
}

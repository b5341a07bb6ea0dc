//! Loading components at start-up: the import allow-list, linking and
//! `InstancePre`. Nothing here runs per request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use wasmtime::component::{Component, Linker};
use wasmtime::Engine;
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use super::bindings::fermyon::spin::{key_value, variables};
use super::engine::{wt, CacheOutcome, CompiledCache};
use super::outbound::OutboundPolicy;
use super::state::InstanceState;
use crate::app::manifest::ComponentDecl;
use crate::app::variables::{ComponentVariables, VariablesData};
use crate::kv::host::{KvAccess, KvData};

/// A component ready to serve: pre-instantiated, with its grants.
pub struct LoadedComponent {
    pub id: String,
    pub pre: ProxyPre<InstanceState>,
    pub kv: KvAccess,
    pub variables: Arc<ComponentVariables>,
    pub outbound: Arc<OutboundPolicy>,
    environment: Vec<(String, String)>,
}

impl LoadedComponent {
    /// A WASI context for one request: the component's environment, its
    /// stdout and stderr on the host's stderr (the host's stdout is for the
    /// listening line), no network or files.
    pub fn wasi_ctx(&self) -> WasiCtx {
        WasiCtx::builder()
            .envs(&self.environment)
            .stdout(tokio::io::stderr())
            .inherit_stderr()
            .build()
    }
}

/// The linker every component is pre-instantiated against: WASI 0.2,
/// wasi:http 0.2, Spin key-value and variables.
pub fn new_linker(engine: &Engine) -> Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(wt)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(wt)?;
    key_value::add_to_linker::<_, KvData>(&mut linker, InstanceState::kv).map_err(wt)?;
    variables::add_to_linker::<_, VariablesData>(&mut linker, InstanceState::variables)
        .map_err(wt)?;
    Ok(linker)
}

/// Loads components, sharing compiled code between entries with the same source.
pub struct Loader<'a> {
    engine: &'a Engine,
    linker: &'a Linker<InstanceState>,
    cache: &'a CompiledCache,
    manifest_path: &'a Path,
    compiled: HashMap<PathBuf, Component>,
}

impl<'a> Loader<'a> {
    pub fn new(
        engine: &'a Engine,
        linker: &'a Linker<InstanceState>,
        cache: &'a CompiledCache,
        manifest_path: &'a Path,
    ) -> Self {
        Self {
            engine,
            linker,
            cache,
            manifest_path,
            compiled: HashMap::new(),
        }
    }

    pub fn load(
        &mut self,
        decl: &ComponentDecl,
        kv: KvAccess,
        variables: ComponentVariables,
    ) -> Result<LoadedComponent> {
        let at = format!(
            "{}: [component.{}] `source` {}",
            self.manifest_path.display(),
            decl.id,
            decl.source.display()
        );
        let component = match self.compiled.get(&decl.source) {
            Some(c) => c.clone(),
            None => {
                let (c, outcome, took) = self
                    .cache
                    .load(self.engine, &decl.source)
                    .with_context(|| at.clone())?;
                let how = if outcome == CacheOutcome::Hit {
                    "loaded from the compiled-code cache"
                } else {
                    "compiled"
                };
                tracing::info!(component = %decl.id, took_ms = took.as_secs_f64() * 1e3, "{how}");
                self.compiled.insert(decl.source.clone(), c.clone());
                c
            }
        };
        check_world(self.engine, &component).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(ProxyPre::new)
            .map_err(wt)
            .with_context(|| at.clone())?;
        Ok(LoadedComponent {
            id: decl.id.clone(),
            pre,
            kv,
            variables: Arc::new(variables),
            outbound: Arc::new(decl.allowed_outbound_hosts.clone()),
            environment: decl
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

/// WASI 0.2 packages Spin 4.x gives a component, at any 0.2.x version.
const WASI_PACKAGES: [&str; 6] = ["io", "cli", "clocks", "random", "filesystem", "sockets"];

/// Whether Spin 4.x provides import `name` (`ns:pkg/iface@version`).
pub fn import_allowed(name: &str) -> bool {
    let Some((path, version)) = name.split_once('@') else {
        return false;
    };
    let Some((package, _interface)) = path.split_once('/') else {
        return false;
    };
    match package {
        "wasi:http" => {
            version.starts_with("0.2.")
                && (path == "wasi:http/types" || path == "wasi:http/outgoing-handler")
        }
        "fermyon:spin" => {
            version == "2.0.0"
                && (path == "fermyon:spin/key-value" || path == "fermyon:spin/variables")
        }
        _ => {
            version.starts_with("0.2.")
                && package
                    .strip_prefix("wasi:")
                    .is_some_and(|p| WASI_PACKAGES.contains(&p))
        }
    }
}

/// Rejects imports outside the allow-list and components that do not export
/// a WASI 0.2 HTTP handler, naming the offending item.
fn check_world(engine: &Engine, component: &Component) -> Result<()> {
    let ty = component.component_type();
    let denied: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .filter(|n| !import_allowed(n))
        .collect();
    if !denied.is_empty() {
        bail!(
            "imports {}, which Spin 4.x does not provide (allowed: wasi:http types/outgoing-handler 0.2.x, \
             wasi io/cli/clocks/random/filesystem/sockets 0.2.x, fermyon:spin/key-value@2.0.0, fermyon:spin/variables@2.0.0)",
            denied.join(", ")
        );
    }
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    if !exports
        .iter()
        .any(|e| e.starts_with("wasi:http/incoming-handler@0.2."))
    {
        if exports
            .iter()
            .any(|e| e.starts_with("wasi:http/handler@0.3"))
        {
            bail!("exports a WASI 0.3 handler (wasi:http/handler@0.3); this host runs WASI 0.2 components (spin-sdk 5.x)");
        }
        bail!(
            "does not export wasi:http/incoming-handler@0.2.x (exports: {})",
            exports.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::import_allowed;

    #[test]
    fn allow_list_matches_spin_4() {
        for ok in [
            "wasi:http/types@0.2.6",
            "wasi:http/outgoing-handler@0.2.0",
            "wasi:io/streams@0.2.6",
            "wasi:cli/environment@0.2.3",
            "wasi:clocks/monotonic-clock@0.2.6",
            "wasi:random/random@0.2.0",
            "wasi:filesystem/preopens@0.2.6",
            "wasi:sockets/tcp@0.2.6",
            "fermyon:spin/key-value@2.0.0",
            "fermyon:spin/variables@2.0.0",
        ] {
            assert!(import_allowed(ok), "{ok} should be allowed");
        }
        for denied in [
            "fermyon:spin/sqlite@2.0.0",
            "fermyon:spin/key-value@3.0.0",
            "wasi:http/types@0.3.0",
            "wasi:keyvalue/store@0.2.0-draft",
            "wasi:cli/environment@0.3.0",
            "wasi:http/incoming-handler@0.2.6",
            "my:own/thing@1.0.0",
            "unversioned",
        ] {
            assert!(!import_allowed(denied), "{denied} should be denied");
        }
    }
}

//! The application as served: manifest, runtime config, key-value stores,
//! variables and components assembled once at start-up. Every configuration
//! error surfaces here, before the listener binds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::manifest::Manifest;
use super::platform::Platform;
use super::runtime_config::RuntimeConfig;
use super::variables::{resolve_application, ComponentVariables};
use crate::background::config::{BackgroundConfig, EagerConfig};
use crate::background::ladder::Ladder;
use crate::background::watch::WatchedStore;
use crate::background::Background;
use crate::kv::host::KvAccess;
use crate::kv::{BackendContext, StoreRegistry};
use crate::metrics::Metrics;
use crate::replication::{self, config::ReplicationConfig, config::KEY_ENV, Replication};
use crate::serve::client_addr::TrustedProxies;
use crate::serve::collapse::Collapser;
use crate::serve::edge_cache::{EdgeCache, EdgeCacheConfig};
use crate::serve::router::Router;
use crate::wasm::component::{new_linker, LoadedComponent, Loader};
use crate::wasm::engine::{new_engine, wt, CompiledCache, EngineOptions, EpochTicker};
use crate::wasm::instance::{self, InstanceLimits};
use crate::wasm::pool::{ExecPool, PoolConfig};

/// Host settings (from the command line).
#[derive(Debug, Clone)]
pub struct HostConfig {
    pub runtime_config_file: Option<PathBuf>,
    /// Defaults to `.edgeimg` beside spin.toml.
    pub data_dir: Option<PathBuf>,
    /// Defaults to `<data_dir>/compiled`.
    pub compiled_cache_dir: Option<PathBuf>,
    pub max_body_bytes: u64,
    pub memory_limit_mib: u64,
    pub timeout: Duration,
    pub max_instances: u32,
    /// Threads that run guest code, and the wait for them.
    pub pool: PoolConfig,
    pub region: String,
    /// Overrides `[edge_cache] max_bytes` (0 disables the edge cache).
    pub edge_cache_bytes: Option<u64>,
    /// Overrides `[eager] enabled` (`--eager`).
    pub eager: Option<bool>,
    /// A hosted Spin platform whose limits to apply (`--emulate`).
    pub platform: Option<Platform>,
}

/// Everything the request path needs, shared by all connections.
pub struct App {
    pub router: Router<Arc<LoadedComponent>>,
    pub limits: InstanceLimits,
    /// The threads guest code runs on (never the ones serving connections).
    pub pool: ExecPool,
    pub max_body_bytes: u64,
    pub metrics: Metrics,
    pub region: String,
    /// Collapsed forwarding of identical GETs (`[collapsed_forwarding]`).
    pub collapse: Collapser,
    /// Shareable responses kept in front of the components (`[edge_cache]`).
    pub edge_cache: Arc<EdgeCache>,
    /// Replication with peer regions and this region's other hosts
    /// (`[replication]`), serving the peer API.
    pub replication: Option<Arc<Replication>>,
    /// Proxies whose `X-Forwarded-For` names the client (`[forwarded]`).
    pub trusted_proxies: TrustedProxies,
    /// The queue of background jobs (`[background]`, `[eager]`); `None`
    /// under `--emulate`, as hosted platforms have none.
    pub background: Option<Arc<Background>>,
    _epoch: EpochTicker,
}

impl App {
    pub async fn load(manifest: &Manifest, config: &HostConfig) -> Result<Self> {
        manifest.check_sources_exist()?;
        let runtime_config = RuntimeConfig::load(config.runtime_config_file.as_deref())?;
        let platform = config.platform.map(Platform::limits);
        let collapse = Collapser::new(runtime_config.section("collapsed_forwarding")?);
        let trusted_proxies = TrustedProxies::from_section(runtime_config.section("forwarded")?)
            .with_context(|| runtime_config.describe())?;
        let mut edge_cache_config: EdgeCacheConfig = runtime_config.section("edge_cache")?;
        if let Some(bytes) = config.edge_cache_bytes {
            edge_cache_config.max_bytes = bytes;
        }
        if platform.is_some() {
            edge_cache_config.max_bytes = 0;
        }
        let edge_cache = Arc::new(EdgeCache::new(edge_cache_config));
        let replication_config = ReplicationConfig::from_section(
            runtime_config.section("replication")?,
            &config.region,
            std::env::var(KEY_ENV).ok(),
        )
        .with_context(|| runtime_config.describe())?;
        let app_variables = resolve_application(manifest, |name| std::env::var(name).ok())?;

        let data_dir = config
            .data_dir
            .clone()
            .unwrap_or_else(|| manifest.dir.join(".edgeimg"));
        let backend_ctx = BackendContext {
            data_dir: data_dir.clone(),
        };
        let stores = &runtime_config.key_value_stores;
        let mut registry = match &platform {
            Some(limits) => limits.registry(stores, &backend_ctx).await,
            None => StoreRegistry::from_config(stores, &backend_ctx).await,
        }
        .map_err(|e| anyhow::anyhow!("{}: {e:#}", runtime_config.describe()))?;
        let background = match platform {
            Some(_) => None,
            None => Some(open_background(
                &runtime_config,
                config.eager,
                manifest,
                &app_variables,
                &data_dir,
                &mut registry,
            )?),
        };
        let replication = match replication_config {
            Some(_) if platform.is_some() => bail!(
                "{}: [replication]: not available under --emulate (a hosted platform has no peers)",
                runtime_config.describe()
            ),
            Some(rc) => {
                refuse_chunked_originals(&app_variables)?;
                Some(
                    replication::install(rc, &data_dir, &mut registry, edge_cache.clone())
                        .with_context(|| runtime_config.describe())?,
                )
            }
            None => None,
        };
        let kv = Arc::new(registry);
        for c in manifest.components.values() {
            for label in &c.key_value_stores {
                if !kv.contains(label) {
                    bail!(
                        "{}: [component.{}] `key_value_stores`: unknown label {label:?} (defined by {}: {})",
                        manifest.path.display(),
                        c.id,
                        runtime_config.describe(),
                        kv.labels().join(", ")
                    );
                }
            }
        }

        let memory_mib = match platform.and_then(|p| p.memory_mib) {
            Some(mib) => mib.min(config.memory_limit_mib),
            None => config.memory_limit_mib,
        };
        let memory = usize::try_from(memory_mib << 20)?;
        let timeout = platform.map_or(config.timeout, |p| p.timeout.min(config.timeout));
        let max_body_bytes = platform.map_or(config.max_body_bytes, |p| {
            p.max_body_bytes.min(config.max_body_bytes)
        });
        if let Some(limits) = &platform {
            tracing::info!("emulating {}: {}", limits.name, limits.describe());
        }
        let engine = new_engine(&EngineOptions {
            memory_limit: memory,
            max_instances: config.max_instances,
        })?;
        let epoch = EpochTicker::start(&engine);
        let cache = CompiledCache::new(
            config
                .compiled_cache_dir
                .clone()
                .unwrap_or_else(|| data_dir.join("compiled")),
        )?;
        let linker = new_linker(&engine)?;
        let limits = InstanceLimits { memory, timeout };
        let mut loader = Loader::new(&engine, &linker, &cache, &manifest.path);
        let mut components = std::collections::BTreeMap::new();
        for decl in manifest.components.values() {
            let variables = ComponentVariables::resolve(decl, &app_variables)?;
            let access = KvAccess::new(kv.clone(), decl.key_value_stores.iter().cloned());
            let component = loader.load(decl, access, variables)?;
            instance::warm_up(&component, limits)
                .await
                .map_err(wt)
                .with_context(|| {
                    format!(
                        "{}: [component.{}]: cannot instantiate {}",
                        manifest.path.display(),
                        decl.id,
                        decl.source.display()
                    )
                })?;
            components.insert(decl.id.clone(), Arc::new(component));
        }
        for t in &manifest.http_triggers {
            for reserved in ["/healthz", "/metrics"] {
                if t.route.matches_path(reserved) {
                    tracing::warn!(
                        route = t.route.raw(),
                        "{reserved} is served by the host ahead of this route"
                    );
                }
            }
        }
        let routes = manifest
            .http_triggers
            .iter()
            .map(|t| (t.route.clone(), components[&t.component].clone()))
            .collect();
        let router = Router::new(routes)
            .map_err(|e| anyhow::anyhow!("{}: [[trigger.http]]: {e}", manifest.path.display()))?;

        let mut pool_config = config.pool;
        if let Some(background) = &background {
            pool_config.background_threads =
                background.config.concurrency.unwrap_or(pool_config.threads);
        }
        let pool = ExecPool::new(pool_config).context("cannot start the execution pool")?;
        let mut metrics = Metrics::new();
        pool.register(metrics.registry_mut());
        crate::kv::stats::storage_metrics().register(metrics.registry_mut());
        collapse.register(metrics.registry_mut());
        edge_cache.register(metrics.registry_mut());
        if let Some(r) = &replication {
            r.metrics().register(metrics.registry_mut());
        }
        if let Some(b) = &background {
            b.metrics().register(metrics.registry_mut());
        }
        Ok(Self {
            router,
            limits,
            pool,
            max_body_bytes,
            metrics,
            region: config.region.clone(),
            collapse,
            edge_cache,
            replication,
            trusted_proxies,
            background,
            _epoch: epoch,
        })
    }
}

/// Opens the background queue (`[background]`) and, unless `[eager]` is
/// off, watches its label for new images. The ladder is off, with a log
/// line, when no route of the app serves its path.
fn open_background(
    runtime_config: &RuntimeConfig,
    eager_override: Option<bool>,
    manifest: &Manifest,
    app_variables: &std::collections::BTreeMap<String, String>,
    data_dir: &std::path::Path,
    registry: &mut crate::kv::StoreRegistry,
) -> Result<Arc<Background>> {
    let config: BackgroundConfig = runtime_config.section("background")?;
    let mut eager: EagerConfig = runtime_config.section("eager")?;
    if let Some(enabled) = eager_override {
        eager.enabled = enabled;
    }
    let describe = || runtime_config.describe();
    config.check().with_context(describe)?;
    eager.check().with_context(describe)?;
    let mut ladder = None;
    if eager.enabled {
        let candidate = Ladder::new(
            eager.clone(),
            app_variables.get(&eager.signing_variable).cloned(),
        );
        let sample = candidate.sample_path();
        if manifest
            .http_triggers
            .iter()
            .any(|t| t.route.matches_path(&sample))
        {
            ladder = Some(candidate);
        } else {
            tracing::info!(path = %eager.path, "eager variants off: no route of the app serves their path");
        }
    }
    let watch = ladder.is_some();
    let background = Arc::new(
        Background::open(config, ladder, data_dir)
            .with_context(|| format!("{}: [background]", describe()))?,
    );
    if watch {
        let events = background.clone();
        let watched = registry.layer(&eager.label, |inner| {
            Arc::new(WatchedStore::new(inner, events))
        });
        if !watched {
            bail!(
                "{}: [eager] `label`: no key-value store {:?} (stores: {})",
                describe(),
                eager.label,
                registry.labels().join(", ")
            );
        }
    }
    Ok(background)
}

/// Replication checks that an original hashes to its id; a chunked original
/// (the app's `kv_chunk_bytes` above 0, meant for hosted platforms) is a
/// manifest that never would, so no upload would reach the peers.
fn refuse_chunked_originals(
    app_variables: &std::collections::BTreeMap<String, String>,
) -> Result<()> {
    let chunk = app_variables
        .get("kv_chunk_bytes")
        .map(String::as_str)
        .unwrap_or("0");
    if chunk.trim() != "0" && !chunk.trim().is_empty() {
        bail!(
            "[replication] cannot replicate chunked values: the variable `kv_chunk_bytes` is {chunk:?}; \
             set it to 0 (SPIN_VARIABLE_KV_CHUNK_BYTES=0) where regions replicate"
        );
    }
    Ok(())
}

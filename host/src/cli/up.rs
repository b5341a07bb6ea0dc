//! `edgeimg up`: load everything, bind, print the address, serve.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::ManifestArg;
use crate::app::manifest::Manifest;
use crate::app::platform::Platform;
use crate::app::{App, HostConfig};
use crate::wasm::pool::PoolConfig;

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub manifest: ManifestArg,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "EDGEIMG_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Runtime config: what backs each key-value label.
    #[arg(long, env = "EDGEIMG_RUNTIME_CONFIG_FILE")]
    pub runtime_config_file: Option<PathBuf>,
    /// Data folder (compiled-code cache, local stores); default `.edgeimg` beside spin.toml.
    #[arg(long, env = "EDGEIMG_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Compiled-code cache; default `<data-dir>/compiled`. Hosts may share one.
    #[arg(long, env = "EDGEIMG_COMPILED_CACHE_DIR")]
    pub compiled_cache_dir: Option<PathBuf>,
    /// Run `edgeimg build` first.
    #[arg(long)]
    pub build: bool,
    /// Largest request body accepted; larger ones get 413.
    #[arg(long, env = "EDGEIMG_MAX_BODY_BYTES", default_value_t = 64 << 20)]
    pub max_body_bytes: u64,
    /// Linear-memory cap per instance, in MiB.
    #[arg(long, env = "EDGEIMG_MEMORY_LIMIT_MIB", default_value_t = 512)]
    pub memory_limit_mib: u64,
    /// Execution deadline per request, in milliseconds; beyond it, 504.
    #[arg(long, env = "EDGEIMG_TIMEOUT_MS", default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Instances alive at once; requests beyond get 503.
    #[arg(long, env = "EDGEIMG_MAX_INSTANCES", default_value_t = 256)]
    pub max_instances: u32,
    /// Threads that run guest code (default: the CPU cores).
    #[arg(long, env = "EDGEIMG_EXEC_THREADS")]
    pub exec_threads: Option<usize>,
    /// Instances alive at once, each holding its decoded image (default: twice the threads).
    #[arg(long, env = "EDGEIMG_EXEC_SLOTS")]
    pub exec_slots: Option<usize>,
    /// Requests that may wait for an execution slot; more get 503 at once.
    #[arg(long, env = "EDGEIMG_QUEUE_DEPTH", default_value_t = 64)]
    pub queue_depth: usize,
    /// Longest wait for an execution slot, in milliseconds; then 503.
    #[arg(long, env = "EDGEIMG_QUEUE_TIMEOUT_MS", default_value_t = 10_000)]
    pub queue_timeout_ms: u64,
    /// Bytes of responses the edge cache keeps (overrides `[edge_cache] max_bytes`; 0 disables it).
    #[arg(long, env = "EDGEIMG_EDGE_CACHE_BYTES")]
    pub edge_cache_bytes: Option<u64>,
    /// Make eager variants when an original arrives (overrides `[eager]
    /// enabled`): `on` or `off`.
    #[arg(long, env = "EDGEIMG_EAGER", value_parser = clap::builder::BoolishValueParser::new())]
    pub eager: Option<bool>,
    /// This host's region (edge location).
    #[arg(long, env = "EDGEIMG_REGION", default_value = "local")]
    pub region: String,
    /// Serve under a hosted Spin platform's documented limits: only the
    /// `default` key-value label with its key and value caps, its body,
    /// memory and time caps, no edge cache.
    #[arg(long, env = "EDGEIMG_EMULATE", value_enum)]
    pub emulate: Option<Platform>,
}

impl UpArgs {
    pub fn run(self) -> Result<()> {
        let manifest = Manifest::load(&self.manifest.manifest)?;
        if self.build {
            super::build::build(&manifest)?;
        }
        let threads = self
            .exec_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let config = HostConfig {
            runtime_config_file: self.runtime_config_file.clone(),
            data_dir: self.data_dir.clone(),
            compiled_cache_dir: self.compiled_cache_dir.clone(),
            max_body_bytes: self.max_body_bytes,
            memory_limit_mib: self.memory_limit_mib,
            timeout: Duration::from_millis(self.timeout_ms),
            max_instances: self.max_instances,
            pool: PoolConfig {
                threads,
                slots: self.exec_slots.unwrap_or(2 * threads),
                queue_depth: self.queue_depth,
                max_wait: Duration::from_millis(self.queue_timeout_ms),
                // `[background] concurrency` of the runtime config sets it.
                background_threads: 1,
            },
            region: self.region.clone(),
            edge_cache_bytes: self.edge_cache_bytes,
            eager: self.eager,
            platform: self.emulate,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let app = Arc::new(App::load(&manifest, &config).await?);
            let listener = tokio::net::TcpListener::bind(self.listen)
                .await
                .with_context(|| format!("cannot listen on {}", self.listen))?;
            let addr = listener.local_addr()?;
            for (route, component) in app.router.routes() {
                tracing::info!(route = route.raw(), component = %component.id, "route");
            }
            // Tests and scripts read this line to find the port.
            println!("edgeimg listening on http://{addr}");
            std::io::stdout().flush()?;
            tracing::info!(%addr, region = %app.region, exec_threads = app.pool.config().threads, exec_slots = app.pool.config().slots, "serving {}", manifest.name);
            let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
            if let Some(replication) = &app.replication {
                replication.start(workers_stopped.clone());
                let peers: Vec<&str> = replication.config.peers.iter().map(|p| p.region.as_str()).collect();
                tracing::info!(region = %replication.config.region, peers = ?peers, siblings = replication.config.siblings.len(), "replication on");
            }
            if let Some(background) = app.background.clone() {
                tokio::spawn(crate::background::runner::run(app.clone(), background, workers_stopped.clone()));
            }
            // In-flight requests get their own deadline plus a margin to finish.
            let drain = config.timeout + Duration::from_secs(5);
            let served = crate::serve::server::serve(listener, app, crate::serve::server::shutdown_signal(), drain).await;
            // Delivery workers stop between batches: the log stays consistent
            // and a restart resumes from each peer's cursor. Background jobs
            // stop being taken; unfinished ones run after a restart.
            let _ = stop_workers.send(true);
            served
        })
    }
}

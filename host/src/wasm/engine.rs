//! The Wasmtime engine (pooling allocator, epoch interruption) and the
//! on-disk cache of compiled components. Runs once at start-up.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; the execution deadline is counted in ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Engine-wide limits.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Linear-memory cap per instance, in bytes.
    pub memory_limit: usize,
    /// Instances alive at once (concurrent requests); beyond, requests get 503.
    pub max_instances: u32,
}

/// Converts a Wasmtime error into an `anyhow` one (wasmtime 48 has its own type).
pub fn wt(e: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(e.into())
}

/// Builds the engine: Cranelift, async, epoch interruption, pooling allocator
/// sized by `opts`.
pub fn new_engine(opts: &EngineOptions) -> Result<Engine> {
    // Kernels without PAGEMAP_SCAN (before 6.7) refuse `Enabled::Yes`.
    Engine::new(&config(opts, true))
        .or_else(|e| {
            tracing::info!(reason = %e, "no PAGEMAP_SCAN: instance slots keep their first 16 MiB resident");
            Engine::new(&config(opts, false))
        })
        .map_err(wt)
        .context("cannot create the Wasmtime engine")
}

/// The engine's settings; `pagemap_scan` keeps what instances wrote resident.
fn config(opts: &EngineOptions, pagemap_scan: bool) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(opts.max_instances)
        // Rust components have a handful of core instances and one memory.
        .total_core_instances(opts.max_instances * 4)
        .total_memories(opts.max_instances * 2)
        .total_tables(opts.max_instances * 4)
        .total_stacks(opts.max_instances)
        .max_memory_size(opts.memory_limit)
        .table_keep_resident(16 * 1024);
    if pagemap_scan {
        // Up to 64 MiB of the pages an instance wrote stay mapped when it
        // ends, zeroed by `memset` (found with Linux's PAGEMAP_SCAN), so the
        // next instance in that slot skips those page faults: over HTTP a
        // cold JPEG at 1280 px from 1920 took 0.90x the time, a 4K PNG at
        // 1280 px 0.90x. The cost is memory: a warm slot keeps up to this
        // much of what its last instance wrote.
        pool.linear_memory_keep_resident(64 << 20)
            .pagemap_scan(Enabled::Yes);
    } else {
        // Without it the first 16 MiB of a slot are zeroed whether written
        // or not: a cold baseline JPEG thumbnail took ~7 % less (18.8 -> 17.5
        // ms) than with none kept; 64 MiB made PNG thumbnails slower (zeroing
        // more than they had touched cost more than the faults).
        pool.linear_memory_keep_resident(16 << 20);
    }
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        // The workspace enables wasmtime's `gc` feature without a collector;
        // Rust components need none of the GC-based proposals.
        .wasm_gc(false)
        .wasm_function_references(false)
        .wasm_exceptions(false)
        .gc_support(false)
        .memory_init_cow(true)
        .parallel_compilation(true);
    // `EDGEIMG_PROFILE=perfmap`: names guest code in /tmp/perf-PID.map, so
    // `perf record -p PID` of a serving host shows where requests spend time.
    if std::env::var("EDGEIMG_PROFILE").as_deref() == Ok("perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn epoch ticker");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Compiled components on disk, keyed by the wasm's SHA-256, the Wasmtime
/// version and the engine's compatibility hash (target, settings), so a
/// restart deserializes instead of compiling and a changed engine never
/// loads stale code.
pub struct CompiledCache {
    dir: PathBuf,
}

/// Where a component came from, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Compiled,
}

impl CompiledCache {
    pub fn new(dir: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self { dir })
    }

    /// Loads `wasm` from the cache, compiling and storing it on a miss.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &Path,
    ) -> Result<(Component, CacheOutcome, Duration)> {
        let started = Instant::now();
        let bytes =
            std::fs::read(wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
        let path = self
            .dir
            .join(format!("{}.cwasm", cache_key(engine, &bytes)));
        if path.is_file() {
            // SAFETY: the file was written by `Component::serialize` of an engine
            // with the same compatibility hash (it is in the name), in a folder
            // only edgeimg hosts write to, each entry whole (write, then rename).
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit, started.elapsed())),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring unusable compiled-code cache entry")
                }
            }
        }
        let component = Component::new(engine, &bytes)
            .map_err(wt)
            .with_context(|| format!("cannot compile {}", wasm.display()))?;
        let serialized = component.serialize().map_err(wt)?;
        // Write then rename, so a concurrent or interrupted writer never
        // leaves a truncated entry behind.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, serialized)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .with_context(|| format!("cannot write compiled-code cache {}", path.display()))?;
        Ok((component, CacheOutcome::Compiled, started.elapsed()))
    }
}

fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let wasm_hash = hex::encode(Sha256::digest(wasm));
    format!(
        "{wasm_hash}-wasmtime{}-{:016x}",
        wasmtime_version(),
        engine_hash.finish()
    )
}

/// The Wasmtime version compiled in (the cache key names it explicitly).
pub fn wasmtime_version() -> &'static str {
    env!("WASMTIME_VERSION")
}

//! Where a thumbnail's time goes (the comparison that counts is
//! `bench/imaging.sh`: over HTTP against libvips in-process). In one process
//! run: the imaging pipeline natively, the
//! same pipeline built for wasm32-wasip2 inside Wasmtime, and libvips'
//! `vipsthumbnail`, each making a 320 px wide JPEG (q80, metadata stripped;
//! `BENCH_WIDTH` sets another width, `BENCH_FORMAT` another format)
//! from the same photos. Prints median wall time, the ratio to vipsthumbnail,
//! and peak memory (native heap via a counting allocator; the wasm instance's
//! largest linear memory via a `ResourceLimiter`; vipsthumbnail's max RSS).
//! Then one 1280 px AVIF, natively and in wasm, to check the encoder's effort cap.
//!
//! Environment: `EDGEIMG_CORPUS` (photo dir, default: `scripts/corpus.sh`),
//! `IMAGING_THUMB_WASM` (the `thumb` example built for wasm32-wasip2),
//! `BENCH_RUNS` (runs per measurement, default 5), `BENCH_FILES` (comma-separated
//! files of the corpus directory instead of the default five), `BENCH_OPTIONS` (options added to every transform), `IMAGING_PROFILE=perfmap` (for `perf record`),
//! `IMAGING_EPOCH=1` (epoch checks on, as in the host), `IMAGING_POOL=1`
//! (the host's pooling allocator, whose slots keep the pages an instance
//! wrote: without it every run faults in fresh memory, which a serving host
//! mostly does not), `IMAGING_KEEP=DIR`
//! (keep the thumbnails there, to compare two builds' output),
//! `IMAGING_DUMP=FILE` (write Cranelift's compiled component there, an ELF
//! whose functions `objdump -d` shows by name), `IMAGING_WASM_ONLY=1` (time
//! only the wasm build: min and median), with `IMAGING_AB=OTHER.wasm` (a
//! second build run alternately, and the median ratio of the pairs). Build the
//! `thumb` example for wasm32-wasip2 first:
//! `cargo build --release --target wasm32-wasip2 -p edgeimg-imaging --example thumb`.

use anyhow::{bail, Context, Result};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store,
};
use wasmtime_wasi::p2::bindings::sync::CommandPre;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

const FILES: [&str; 5] = [
    "Elephants_5640x3172.jpg",
    "Elephants_3840x2160.jpg",
    "Blinds.jpg",
    "Gulp.png",
    "Arc-Colors-Transparent-Wallpaper.png",
];
/// The AVIF encoder's effort cap is checked on a larger output.
const AVIF_FILE: &str = "Elephants_3840x2160.jpg";
const AVIF_OPTIONS: &str = "width=1280,format=avif";

fn main() -> Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let corpus = corpus_dir()?;
    let wasm = std::env::var("IMAGING_THUMB_WASM")
        .context("set IMAGING_THUMB_WASM to the thumb example .wasm")?;
    // `IMAGING_KEEP=DIR` keeps the thumbnails there (to compare builds).
    let keep = std::env::var_os("IMAGING_KEEP").map(PathBuf::from);
    let out_dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("edgeimg-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&out_dir)?;
    let wasm_runner = WasmRunner::new(Path::new(&wasm), &corpus, &out_dir)?;
    // `IMAGING_AB=OTHER.wasm` (with `IMAGING_WASM_ONLY`): a second build,
    // run alternately with the first.
    let ab_runner = match std::env::var_os("IMAGING_AB") {
        Some(other) => Some(WasmRunner::new(Path::new(&other), &corpus, &out_dir)?),
        None => None,
    };

    // `BENCH_WIDTH=N`: thumbnails N px wide instead of 320.
    let width: u32 = std::env::var("BENCH_WIDTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(320);
    // `BENCH_FORMAT=webp` (or png, avif): the wasm and native thumbnails in
    // that format (vipsthumbnail still writes JPEG, so its column is a
    // reference only for JPEG).
    let format = std::env::var("BENCH_FORMAT").unwrap_or_else(|_| "jpeg".into());
    // `BENCH_OPTIONS=height=400,fit=cover,gravity=auto`: more options
    // (issue 26's saliency step, timed against the same without it).
    let extra = std::env::var("BENCH_OPTIONS")
        .map(|o| format!(",{o}"))
        .unwrap_or_default();
    let options = format!("width={width},format={format},quality=80{extra}");
    println!("thumbnail to {width} px wide JPEG q80; median of {runs} runs; wall ms (ratio to vipsthumbnail); peak memory MB");
    println!(
        "{:<38} {:>6} {:>16} {:>16} {:>9} {:>10} {:>10} {:>10}",
        "file", "MP", "native", "wasm", "vips", "native MB", "wasm MB", "vips MB"
    );
    let mut failures = Vec::new();
    let only = std::env::var("BENCH_FILES").ok();
    // `IMAGING_WASM_ONLY=1`: time only the wasm build (min and median), to
    // compare two builds of the component run after run.
    let wasm_only = std::env::var_os("IMAGING_WASM_ONLY").is_some();
    // `BENCH_FILES` may name any file of the corpus directory, not only these.
    let files: Vec<&str> = match only.as_deref() {
        Some(names) => names.split(',').collect(),
        None => FILES.to_vec(),
    };
    for file in files {
        if wasm_only {
            wasm_ab(file, &options, runs, &wasm_runner, ab_runner.as_ref())?;
            continue;
        }
        let input = corpus.join(file);
        let bytes =
            std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
        let info = imaging::probe(&bytes, &imaging::Limits::default())?;
        let megapixels = f64::from(info.width) * f64::from(info.height) / 1e6;

        let native_out = out_dir.join(format!("native-{file}.jpg"));
        let vips_out = out_dir.join(format!("vips-{file}.jpg"));
        // Interleaved, so load from other processes hits all three alike.
        let mut native = Samples::default();
        let mut wasm = Samples::default();
        let mut vips = Samples::default();
        for _ in 0..runs.max(1) {
            native.time(|| native_thumb(&input, &native_out, &options))?;
            wasm.time(|| wasm_runner.run(file, &options))?;
            vips.time(|| vips_thumb(&input, &vips_out, width).map(|()| 0))?;
        }
        let (native_ms, native_peak) = native.median_ms();
        let (wasm_ms, wasm_peak) = wasm.median_ms();
        let (vips_ms, _) = vips.median_ms();
        let vips_rss = vips_max_rss(&input, &vips_out, width)?;

        let mb = |b: usize| b as f64 / (1024.0 * 1024.0);
        println!(
            "{:<38} {:>6.1} {:>7.1} ({:>5.2}x) {:>7.1} ({:>5.2}x) {:>9.0} {:>10.1} {:>10.1} {:>10.1}",
            file,
            megapixels,
            native_ms,
            native_ms / vips_ms,
            wasm_ms,
            wasm_ms / vips_ms,
            vips_ms,
            mb(native_peak),
            mb(wasm_peak),
            vips_rss.map_or(f64::NAN, mb),
        );
        if file == FILES[0] && mb(wasm_peak) >= 100.0 {
            failures.push(format!(
                "{file}: wasm peak memory {:.1} MB >= 100 MB",
                mb(wasm_peak)
            ));
        }
    }
    // One run each: rav1e is deterministic and slow enough to time once.
    // Skipped when profiling a subset of the files.
    if only.is_none() && !wasm_only {
        let input = corpus.join(AVIF_FILE);
        let mut native = Samples::default();
        let mut wasm = Samples::default();
        native.time(|| native_thumb(&input, &out_dir.join("native.avif"), AVIF_OPTIONS))?;
        wasm.time(|| wasm_runner.run(AVIF_FILE, AVIF_OPTIONS))?;
        println!(
            "AVIF {AVIF_OPTIONS} of {AVIF_FILE}: native {:.0} ms, wasm {:.0} ms",
            native.median_ms().0,
            wasm.median_ms().0
        );
    }
    if keep.is_none() {
        std::fs::remove_dir_all(&out_dir).ok();
    }
    if failures.is_empty() {
        // vipsthumbnail includes its process start-up: no speed target here
        // (bench/imaging.sh compares with libvips in-process).
        println!("memory target met: 17.9 MP photo under 100 MB");
    } else {
        println!("targets missed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// Wall times of repeated runs, and the largest peak memory any run reported.
#[derive(Default)]
struct Samples {
    times: Vec<Duration>,
    peak: usize,
}

impl Samples {
    fn time(&mut self, f: impl FnOnce() -> Result<usize>) -> Result<()> {
        let start = Instant::now();
        self.peak = self.peak.max(f()?);
        self.times.push(start.elapsed());
        Ok(())
    }

    fn median_ms(&mut self) -> (f64, usize) {
        self.times.sort();
        (
            self.times[self.times.len() / 2].as_secs_f64() * 1000.0,
            self.peak,
        )
    }
}

/// Times the wasm build alone (min and median), or two builds run after run:
/// the median of each pair's ratio is steadier than either time on a busy
/// machine, since both runs of a pair meet the same load.
fn wasm_ab(
    file: &str,
    options: &str,
    runs: usize,
    a: &WasmRunner,
    b: Option<&WasmRunner>,
) -> Result<()> {
    let (mut first, mut second, mut ratios) = (Samples::default(), Samples::default(), Vec::new());
    for _ in 0..runs.max(1) {
        first.time(|| a.run(file, options))?;
        if let Some(b) = b {
            second.time(|| b.run(file, options))?;
            let last = |s: &Samples| s.times.last().map_or(f64::NAN, Duration::as_secs_f64);
            ratios.push(last(&second) / last(&first));
        }
    }
    for (name, samples) in [("A", &mut first), ("B", &mut second)] {
        if samples.times.is_empty() {
            continue;
        }
        let (median, _) = samples.median_ms();
        let min = samples.times[0].as_secs_f64() * 1000.0;
        println!("{file:<38} wasm {name} min {min:.1} median {median:.1}");
    }
    if !ratios.is_empty() {
        ratios.sort_by(f64::total_cmp);
        println!(
            "{file:<38} B/A median of pairs {:.3}",
            ratios[ratios.len() / 2]
        );
    }
    Ok(())
}

fn corpus_dir() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("EDGEIMG_CORPUS") {
        return Ok(dir.into());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/corpus.sh");
    let out = Command::new("bash").arg(script).output()?;
    if !out.status.success() {
        bail!("corpus.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?.trim().into())
}

/// The in-process pipeline, as the resize component runs it; returns the peak heap.
fn native_thumb(input: &Path, output: &Path, options: &str) -> Result<usize> {
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let bytes = std::fs::read(input)?;
    let options: imaging::Options = options.parse()?;
    let limits = imaging::Limits::default();
    let info = imaging::probe(&bytes, &limits)?;
    let format = imaging::negotiate(&options, None, info.format).format;
    let out = imaging::transform(&bytes, &options, format, &limits)?;
    std::fs::write(output, &out.bytes)?;
    drop(bytes);
    Ok(PEAK.load(Relaxed) - base)
}

fn vips_thumb(input: &Path, output: &Path, width: u32) -> Result<()> {
    let status = Command::new("vipsthumbnail")
        .arg(input)
        .args(["-s", &format!("{width}x"), "-o"])
        .arg(format!("{}[Q=80,strip]", output.display()))
        .status()
        .context("running vipsthumbnail (apt-get install libvips-tools)")?;
    if !status.success() {
        bail!("vipsthumbnail failed on {}", input.display());
    }
    Ok(())
}

/// vipsthumbnail's max RSS in bytes, from `/usr/bin/time -f %M` (KiB), if available.
fn vips_max_rss(input: &Path, output: &Path, width: u32) -> Result<Option<usize>> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "vipsthumbnail"])
        .arg(input)
        .args(["-s", &format!("{width}x"), "-o"])
        .arg(format!("{}[Q=80,strip]", output.display()))
        .output();
    let Ok(out) = out else { return Ok(None) };
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<usize>().ok())
        .map(|kib| kib * 1024))
}

/// Runs the wasm `thumb` command with the corpus preopened at `/in` and the
/// output dir at `/out`: compiled once, a fresh instance per run (as the host does).
struct WasmRunner {
    engine: Engine,
    pre: CommandPre<Guest>,
    corpus: PathBuf,
    out_dir: PathBuf,
}

struct Guest {
    ctx: WasiCtx,
    table: ResourceTable,
    peak: PeakMemory,
}

impl WasiView for Guest {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

/// Records the largest linear memory the instance asked for.
#[derive(Default)]
struct PeakMemory(usize);

impl ResourceLimiter for PeakMemory {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.0 = self.0.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasmRunner {
    fn new(wasm: &Path, corpus: &Path, out_dir: &Path) -> Result<WasmRunner> {
        let mut config = Config::new();
        // As the host: no GC-based proposals (the workspace's wasmtime has no collector).
        config
            .wasm_simd(true)
            .wasm_gc(false)
            .wasm_function_references(false)
            .wasm_exceptions(false)
            .gc_support(false);
        // `IMAGING_EPOCH=1`: the host's epoch checks at every loop header and
        // function entry (its time limit), to see what they cost.
        if std::env::var_os("IMAGING_EPOCH").is_some() {
            config.epoch_interruption(true);
        }
        // `IMAGING_POOL=1`: slots that keep up to 64 MiB of what their last
        // instance wrote, as `edgeimg up` does on kernels with PAGEMAP_SCAN.
        if std::env::var_os("IMAGING_POOL").is_some() {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(2)
                .total_core_instances(8)
                .total_memories(4)
                .total_tables(8)
                .total_stacks(2)
                .max_memory_size(2 << 30)
                .linear_memory_keep_resident(64 << 20)
                .pagemap_scan(Enabled::Yes);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        // `IMAGING_PROFILE=perfmap`: name JIT code for `perf record` (where the time goes).
        if std::env::var("IMAGING_PROFILE").as_deref() == Ok("perfmap") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(wt)?;
        // `IMAGING_DUMP=FILE`: the machine code, to read what Cranelift made.
        if let Ok(dump) = std::env::var("IMAGING_DUMP") {
            let bytes = std::fs::read(wasm)?;
            std::fs::write(dump, engine.precompile_component(&bytes).map_err(wt)?)?;
        }
        let start = Instant::now();
        let component = Component::from_file(&engine, wasm)
            .map_err(wt)
            .with_context(|| format!("compiling {}", wasm.display()))?;
        eprintln!(
            "compiled {} in {:.0} ms (once; the host caches compiled code)",
            wasm.display(),
            start.elapsed().as_secs_f64() * 1000.0
        );
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(wt)?;
        let pre = CommandPre::new(linker.instantiate_pre(&component).map_err(wt)?).map_err(wt)?;
        Ok(WasmRunner {
            engine,
            pre,
            corpus: corpus.into(),
            out_dir: out_dir.into(),
        })
    }

    /// One fresh instance thumbnailing `file`; returns its peak linear memory.
    fn run(&self, file: &str, options: &str) -> Result<usize> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stderr()
            .args(&[
                "thumb".to_string(),
                format!("/in/{file}"),
                format!("/out/wasm-{file}.out"),
                options.to_string(),
            ])
            .preopened_dir(&self.corpus, "/in", FsPerms::ReadOnly)
            .map_err(wt)?
            .preopened_dir(&self.out_dir, "/out", FsPerms::ReadWrite)
            .map_err(wt)?;
        let guest = Guest {
            ctx: wasi.build(),
            table: ResourceTable::new(),
            peak: PeakMemory::default(),
        };
        let mut store = Store::new(&self.engine, guest);
        store.limiter(|g| &mut g.peak);
        // Never reached: the engine's epoch is never incremented here.
        store.set_epoch_deadline(1);
        let command = self.pre.instantiate(&mut store).map_err(wt)?;
        if command
            .wasi_cli_run()
            .call_run(&mut store)
            .map_err(wt)?
            .is_err()
        {
            bail!("wasm thumb failed on {file}");
        }
        Ok(store.data().peak.0)
    }
}

/// Wasmtime 48 has its own error type; the bench reports through `anyhow`.
fn wt(e: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(e.into())
}

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now =
                CURRENT.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
            PEAK.fetch_max(now, Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Counts heap bytes for the native peak (the other threads of this process —
/// Wasmtime's — allocate little while a native run is measured).
#[global_allocator]
static ALLOCATOR: Counting = Counting;

//! `edgeimg`: the edge runtime of the edgeimg image CDN. Serves a Spin
//! application (spin.toml) on Wasmtime. See DESIGN.md.

mod app;
mod background;
mod cli;
mod kv;
mod metrics;
mod replication;
mod serve;
mod telemetry;
mod wasm;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process, as mimalloc's own
/// `allow_thp=0` does. mimalloc asks for them on its arenas, so memory a
/// request touches for the first time (or again after a purge) faults in
/// 2 MiB at once, zeroed: a region delivering a backlog spent 37% of its
/// CPU clearing pages, 3.5% without (`bench/replication.sh`, drain).
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    // Flushes queued spans when main returns.
    let _telemetry = telemetry::init();
    match cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

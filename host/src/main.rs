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

fn main() -> ExitCode {
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

//! `edgeimg`: the edge runtime of the edgeimg image CDN. Serves a Spin
//! application (spin.toml) on Wasmtime. See DESIGN.md.

mod app;
mod background;
mod cli;
mod kv;
mod metrics;
mod replication;
mod serve;
mod wasm;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EDGEIMG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    match cli::Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

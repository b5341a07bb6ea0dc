//! `edgeimg`: the edge runtime of the edgeimg image CDN. Serves a Spin
//! application (spin.toml) on Wasmtime. See DESIGN.md.

mod app;
mod bindings;
mod cli;
mod collapse;
mod component;
mod edge_cache;
mod engine;
mod errors;
mod handler;
mod instance;
mod kv;
mod limits;
mod manifest;
mod metrics;
mod outbound;
mod router;
mod runtime_config;
mod server;
mod singleflight;
mod spin_headers;
mod variables;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

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

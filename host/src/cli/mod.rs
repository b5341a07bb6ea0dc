//! The command line, in the spirit of `spin`: `edgeimg build`, `edgeimg up`.

mod build;
mod peer;
mod up;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use build::BuildArgs;
pub use up::UpArgs;

/// edgeimg: an image CDN edge runtime that serves a Spin application.
#[derive(Debug, Parser)]
#[command(name = "edgeimg", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run each component's build command from spin.toml.
    Build(BuildArgs),
    /// Serve the application over HTTP.
    Up(UpArgs),
    /// Show a running host's replication: region, peers, backlog, breakers.
    Status(peer::StatusArgs),
    /// Compare keys and versions with a peer region and fix both sides.
    Repair(peer::RepairArgs),
    /// Check every stored original against its id; repair damaged ones from peers.
    Scrub(peer::ScrubArgs),
}

/// Where the manifest is (shared by both commands).
#[derive(Debug, clap::Args)]
pub struct ManifestArg {
    /// The application manifest.
    #[arg(
        short = 'f',
        long = "from",
        env = "EDGEIMG_MANIFEST",
        default_value = "spin.toml"
    )]
    pub manifest: PathBuf,
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Build(args) => args.run(),
            Command::Up(args) => args.run(),
            Command::Status(args) => args.run(),
            Command::Repair(args) => args.run(),
            Command::Scrub(args) => args.run(),
        }
    }
}

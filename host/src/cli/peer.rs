//! `edgeimg status`, `edgeimg repair` and `edgeimg scrub`: ask a running
//! host, through its signed peer API, for its replication status, a repair
//! pass with a peer, or an integrity scrub of its originals.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use http::Method;

use crate::replication::peer_client::PeerClient;
use crate::replication::{cli_key, wire};

/// Which host to ask, and where the replication key is.
#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// The host's base URL.
    #[arg(long, env = "EDGEIMG_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Runtime config holding `[replication] key` (or set EDGEIMG_REPLICATION_KEY).
    #[arg(long, env = "EDGEIMG_RUNTIME_CONFIG_FILE")]
    pub runtime_config_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub host: HostArgs,
}

#[derive(Debug, clap::Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// The peer region to compare with (as named in `[[replication.peers]]`).
    #[arg(long)]
    pub peer: String,
}

#[derive(Debug, clap::Args)]
pub struct ScrubArgs {
    #[command(flatten)]
    pub host: HostArgs,
}

impl ScrubArgs {
    pub fn run(&self) -> Result<()> {
        let path = format!("{}scrub", wire::PREFIX);
        let answer = call(
            &self.host,
            Method::POST,
            &path,
            Duration::from_secs(24 * 3600),
        )?;
        println!("{}", serde_json::to_string_pretty(&answer)?);
        Ok(())
    }
}

impl StatusArgs {
    pub fn run(&self) -> Result<()> {
        let answer = call(
            &self.host,
            Method::GET,
            &format!("{}status", wire::PREFIX),
            Duration::from_secs(10),
        )?;
        println!("{}", serde_json::to_string_pretty(&answer)?);
        Ok(())
    }
}

impl RepairArgs {
    pub fn run(&self) -> Result<()> {
        let path = format!(
            "{}repair?peer={}",
            wire::PREFIX,
            wire::query_value(&self.peer)
        );
        let answer = call(&self.host, Method::POST, &path, Duration::from_secs(3600))?;
        println!("{}", serde_json::to_string_pretty(&answer)?);
        Ok(())
    }
}

fn call(
    host: &HostArgs,
    method: Method,
    path: &str,
    timeout: Duration,
) -> Result<serde_json::Value> {
    let key = cli_key(host.runtime_config_file.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = PeerClient::new(&key, "")?;
        client
            .call_json(host.url.trim_end_matches('/'), method, path, timeout)
            .await
    })
}

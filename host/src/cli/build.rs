//! `edgeimg build`: runs the `[component.<id>.build]` commands.

use std::process::Command;

use anyhow::{bail, Context, Result};

use super::ManifestArg;
use crate::app::manifest::Manifest;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub manifest: ManifestArg,
}

impl BuildArgs {
    pub fn run(&self) -> Result<()> {
        let manifest = Manifest::load(&self.manifest.manifest)?;
        build(&manifest)
    }
}

/// Runs every component's build commands in its workdir, in id order.
pub fn build(manifest: &Manifest) -> Result<()> {
    let builds: Vec<_> = manifest
        .components
        .values()
        .filter_map(|c| c.build.as_ref().map(|b| (c, b)))
        .collect();
    if builds
        .iter()
        .any(|(_, b)| b.commands.iter().any(|c| c.contains("wasm32-wasip2")))
    {
        ensure_wasip2_target()?;
    }
    let mut done = std::collections::HashSet::new();
    for (component, build) in builds {
        for command in &build.commands {
            // Several components often share one source and one build command.
            if !done.insert((build.workdir.clone(), command.clone())) {
                continue;
            }
            eprintln!(
                "edgeimg build: [component.{}] {command}  (in {})",
                component.id,
                build.workdir.display()
            );
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&build.workdir)
                .status()
                .with_context(|| {
                    format!(
                        "cannot run the build command of [component.{}]",
                        component.id
                    )
                })?;
            if !status.success() {
                bail!(
                    "{}: [component.{}] `build.command` {command:?} failed ({status})",
                    manifest.path.display(),
                    component.id
                );
            }
        }
    }
    Ok(())
}

/// Installs the `wasm32-wasip2` Rust target with rustup when it is missing.
fn ensure_wasip2_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-wasip2") =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("edgeimg build: installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)");
            let status = Command::new("rustup")
                .args(["target", "add", "wasm32-wasip2"])
                .status()?;
            if !status.success() {
                bail!("`rustup target add wasm32-wasip2` failed ({status})");
            }
            Ok(())
        }
        // No rustup: let the build command report what is missing.
        Err(_) => Ok(()),
    }
}

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

/// Runs every component's build commands in its workdir, in manifest order
/// (as `spin build` does).
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
                    "{}: [component.{}] `build.command` {command:?} failed ({status}){}",
                    manifest.path.display(),
                    component.id,
                    missing_toolchain_hint(command)
                );
            }
        }
    }
    Ok(())
}

/// Names the command that installs libwebp's C toolchain when a wasm build
/// failed without it, so a newcomer is not left with the compiler's own
/// "failed to find tool" line.
fn missing_toolchain_hint(command: &str) -> String {
    if !command.contains("wasm32-wasip2") || on_path(C_COMPILER) {
        return String::new();
    }
    format!(
        "\n{C_COMPILER} (the C compiler libwebp is built with for wasm32-wasip2) is not installed: \
         run `scripts/wasm-toolchain` (apt-get install clang-14 llvm-14 wasi-libc) and build again"
    )
}

/// The C compiler `.cargo/config.toml` names for wasm32-wasip2.
const C_COMPILER: &str = "clang-14";

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
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

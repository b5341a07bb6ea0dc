//! A newcomer's first command builds the components on a machine without
//! clang (issue 27): every component whose crate compiles C for
//! wasm32-wasip2 runs `scripts/wasm-toolchain` first, in every manifest of
//! the repository; `edgeimg build` follows the manifest's order; the
//! toolchain script asks apt for what is missing; and a build that fails
//! without the C compiler names the command that installs it.

#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{repo_path, TempDir, EDGEIMG};

/// Every manifest in the repository whose components are built from source.
const MANIFESTS: &[&str] = &[
    "spin.toml",
    "deploy/hosted/spin.toml",
    "tests/probe/spin.toml",
];

/// The step that installs the wasm32-wasip2 target and libwebp's C toolchain.
const TOOLCHAIN_STEP: &str = "scripts/wasm-toolchain";

/// Packages (by name) whose wasm32-wasip2 dependency closure includes a
/// package that compiles C in its build script (a `cc` build-dependency).
fn packages_compiling_c() -> BTreeSet<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            "wasm32-wasip2",
        ])
        .current_dir(repo_path(""))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    // id → (normal dependencies, build dependencies)
    let mut deps: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let entry = deps.entry(node["id"].as_str().unwrap()).or_default();
        for dep in node["deps"].as_array().unwrap() {
            let id = dep["pkg"].as_str().unwrap();
            for kind in dep["dep_kinds"].as_array().unwrap() {
                match kind["kind"].as_str() {
                    None => entry.0.push(id),
                    Some("build") => entry.1.push(id),
                    _ => {}
                }
            }
        }
    }
    let builds_c = |id: &str| deps[id].1.iter().any(|d| name_of[d] == "cc");
    let mut result = BTreeSet::new();
    for &root in deps.keys() {
        let mut stack = vec![root];
        let mut seen = BTreeSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if builds_c(id) {
                result.insert(name_of[root].to_string());
                break;
            }
            stack.extend(deps[id].0.iter().copied());
        }
    }
    result
}

/// `(component id, build commands)` of a manifest, in file order.
fn build_commands(manifest: &Path) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (id, component) in doc["component"].as_table().unwrap() {
        let Some(build) = component.get("build") else {
            continue;
        };
        let commands = match &build["command"] {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(list) => list
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect(),
            other => panic!("{}: {id}: command {other:?}", manifest.display()),
        };
        out.push((id.clone(), commands));
    }
    out
}

/// The `-p <package>` a cargo build command names.
fn cargo_package(command: &str) -> Option<&str> {
    let mut words = command.split_whitespace();
    words.by_ref().find(|w| *w == "-p")?;
    words.next()
}

#[test]
fn every_component_that_compiles_c_runs_the_toolchain_step_first() {
    let compiling_c = packages_compiling_c();
    assert!(
        compiling_c.contains("edgeimg-imaging"),
        "libwebp's C is compiled under edgeimg-imaging: {compiling_c:?}"
    );
    let mut checked = 0;
    for manifest in MANIFESTS {
        for (id, commands) in build_commands(&repo_path(manifest)) {
            let packages: Vec<&str> = commands.iter().filter_map(|c| cargo_package(c)).collect();
            if !packages.iter().any(|p| compiling_c.contains(*p)) {
                continue;
            }
            checked += 1;
            assert_eq!(
                commands.first().map(String::as_str),
                Some(TOOLCHAIN_STEP),
                "{manifest}: [component.{id}] builds {packages:?}, which compile C for \
                 wasm32-wasip2, so its build must run {TOOLCHAIN_STEP} first: {commands:?}"
            );
        }
    }
    // upload, fetch and resize in spin.toml and in deploy/hosted/spin.toml.
    assert!(checked >= 6, "only {checked} components compile C");
}

/// A manifest in a temporary folder whose components' build commands are `commands`.
fn manifest_with(dir: &TempDir, components: &[(&str, &str)]) -> PathBuf {
    let mut text = String::from("spin_manifest_version = 2\n[application]\nname = \"t\"\n");
    for (id, command) in components {
        text.push_str(&format!(
            "[[trigger.http]]\nroute = \"/{id}\"\ncomponent = \"{id}\"\n\
             [component.{id}]\nsource = \"{id}.wasm\"\n[component.{id}.build]\ncommand = {command:?}\n"
        ));
    }
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn edgeimg_build_runs_components_in_manifest_order() {
    let dir = TempDir::new("build-order");
    let manifest = manifest_with(
        &dir,
        &[
            ("zeta", "echo zeta >> order"),
            ("alpha", "echo alpha >> order"),
            ("mid", "echo mid >> order"),
        ],
    );
    let out = Command::new(EDGEIMG)
        .args(["build", "-f"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let order = std::fs::read_to_string(dir.path().join("order")).unwrap();
    assert_eq!(order, "zeta\nalpha\nmid\n");
}

/// A folder holding only links to `tools` (found on this machine's PATH),
/// plus whatever the caller writes into it: a PATH without clang.
fn bin_without_clang(dir: &Path, tools: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in tools {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} is not on PATH"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    bin
}

#[test]
fn a_wasm_build_without_clang_names_the_command_that_installs_it() {
    let dir = TempDir::new("no-clang");
    let bin = bin_without_clang(dir.path(), &["sh"]);
    let manifest = manifest_with(
        &dir,
        &[("c", "echo cargo build --target wasm32-wasip2 >&2; exit 101")],
    );
    let out = Command::new(EDGEIMG)
        .args(["build", "-f"])
        .arg(&manifest)
        .env("PATH", &bin)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("clang-14") && err.contains(TOOLCHAIN_STEP),
        "the error should name the missing compiler and {TOOLCHAIN_STEP}: {err}"
    );
}

#[test]
fn the_toolchain_step_installs_clang_when_it_is_missing() {
    let dir = TempDir::new("toolchain");
    let bin = bin_without_clang(dir.path(), &["bash", "env", "id", "grep"]);
    let asked = dir.path().join("asked");
    // A fake apt-get (and sudo, for non-root runs) that records its arguments
    // and installs nothing, so the script must then fail loudly.
    let fake = format!("#!/bin/sh\necho \"$*\" >> {}\n", asked.display());
    std::fs::write(bin.join("apt-get"), fake).unwrap();
    std::fs::write(bin.join("sudo"), "#!/bin/sh\nexec \"$@\"\n").unwrap();
    for tool in ["apt-get", "sudo"] {
        Command::new("chmod")
            .arg("+x")
            .arg(bin.join(tool))
            .status()
            .unwrap();
    }
    let out = Command::new("/bin/bash")
        .arg(repo_path(TOOLCHAIN_STEP))
        .env("PATH", &bin)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a failed install must fail the step: {err}"
    );
    assert!(err.contains("clang-14 is missing"), "{err}");
    let asked = std::fs::read_to_string(&asked).unwrap_or_default();
    let install = asked
        .lines()
        .find(|l| l.contains("install"))
        .unwrap_or_else(|| panic!("apt-get was not asked to install: {asked:?}"));
    for package in ["clang-14", "llvm-14"] {
        assert!(
            install.split_whitespace().any(|w| w == package),
            "{install}"
        );
    }
}

/// The app's components must run unchanged on Spin, so they import nothing
/// beyond what they did: no file system, no sockets. A dependency's stdio
/// (even C's `snprintf` in libwebp's animation encoder, through
/// wasi-libc) is enough to link `wasi:filesystem` in (issue 26; see
/// vendor/libwebp-sys/PATCHED.md). Reads the built components' import names.
#[test]
fn the_app_components_import_no_file_system_or_sockets() {
    for component in ["upload", "resize", "fetch", "site"] {
        let path = repo_path(&format!(
            "target/wasm32-wasip2/release/edgeimg_{component}.wasm"
        ));
        let wasm = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `edgeimg build` first)", path.display()));
        for package in ["wasi:filesystem/", "wasi:sockets/"] {
            let found = wasm.windows(package.len()).any(|w| w == package.as_bytes());
            assert!(!found, "{component} imports {package}");
        }
    }
}

//! `[background]` and `[eager]` of the runtime config.
//!
//! ```toml
//! [background]
//! concurrency = 2          # jobs at once (default: the execution threads)
//! slow_concurrency = 1     # of which AVIF encodes
//! max_jobs = 10000         # a full queue drops its lowest-priority work
//! max_attempts = 5         # failed runs before a job is given up
//!
//! [eager]
//! enabled = true                        # false: variants are made on first request only
//! widths = [320, 640, 960, 1280]        # the srcset ladder
//! formats = ["webp", "avif"]            # what the ladder's browser accepts
//! presets = ["thumb", "card"]           # the app's presets
//! path = "/resize/{options}/{id}"       # where variants are asked for
//! label = "images"                      # the store whose new originals start it
//! signing_variable = "signing_key"      # app variable whose key signs the paths
//! ```

use anyhow::{bail, Result};

/// `[background]`: the job queue and its runner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackgroundConfig {
    /// Jobs run at once, each holding an execution slot and a thread of its
    /// own; `None`: as many as the host has execution threads.
    pub concurrency: Option<usize>,
    /// Of those, jobs encoding a slow format (AVIF) at once, so quick ones
    /// (the WebP rungs of the next upload) never wait behind them.
    pub slow_concurrency: usize,
    /// Jobs kept; past it the lowest-priority work is dropped.
    pub max_jobs: usize,
    /// Failed runs before a job is given up.
    pub max_attempts: u32,
}

impl Default for BackgroundConfig {
    fn default() -> Self {
        Self {
            concurrency: None,
            slow_concurrency: 1,
            max_jobs: 10_000,
            max_attempts: 5,
        }
    }
}

/// `[eager]`: the variants made as soon as an original arrives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EagerConfig {
    pub enabled: bool,
    /// Widths in pixels, each asked as `width=W,format=auto`.
    pub widths: Vec<u32>,
    /// What the ladder's requests accept (`webp`, `avif`): with both, the
    /// WebP is made first and the AVIF follows as a slow job; with none,
    /// `format=auto` gives the original's family.
    pub formats: Vec<String>,
    /// Preset names (the app's `presets` variable).
    pub presets: Vec<String>,
    /// The request path of a variant: `{options}` and `{id}` are filled in.
    pub path: String,
    /// The key-value label whose new `meta/{id}` entries start the ladder.
    pub label: String,
    /// The application variable holding the URL signing key, if signing is on.
    pub signing_variable: String,
}

impl Default for EagerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            widths: vec![320, 640, 960, 1280],
            formats: vec!["webp".into(), "avif".into()],
            presets: vec!["thumb".into(), "card".into()],
            path: "/resize/{options}/{id}".into(),
            label: "images".into(),
            signing_variable: "signing_key".into(),
        }
    }
}

/// Formats a ladder may accept.
pub const FORMATS: [&str; 2] = ["webp", "avif"];

impl BackgroundConfig {
    pub fn check(&self) -> Result<()> {
        if self.concurrency == Some(0)
            || self.slow_concurrency == 0
            || self.max_jobs == 0
            || self.max_attempts == 0
        {
            bail!("[background]: `concurrency`, `slow_concurrency`, `max_jobs` and `max_attempts` must be at least 1");
        }
        Ok(())
    }
}

impl EagerConfig {
    pub fn check(&self) -> Result<()> {
        if let Some(w) = self.widths.iter().find(|w| !(1..=16384).contains(*w)) {
            bail!("[eager] `widths`: {w} is not between 1 and 16384");
        }
        if let Some(f) = self.formats.iter().find(|f| !FORMATS.contains(&f.as_str())) {
            bail!(
                "[eager] `formats`: {f:?} is not one of {}",
                FORMATS.join(", ")
            );
        }
        if let Some(p) = self.presets.iter().find(|p| {
            p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) {
            bail!("[eager] `presets`: {p:?} is not a preset name");
        }
        if !self.path.starts_with('/')
            || !self.path.contains("{options}")
            || !self.path.contains("{id}")
        {
            bail!(
                "[eager] `path`: {:?} must start with / and contain {{options}} and {{id}}",
                self.path
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::runtime_config::section;

    #[test]
    fn defaults_make_the_demo_pages_ladder() {
        let eager: EagerConfig = section(&toml::Table::new(), "eager").unwrap();
        eager.check().unwrap();
        assert!(eager.enabled);
        assert_eq!(eager.widths, [320, 640, 960, 1280]);
        let background: BackgroundConfig = section(&toml::Table::new(), "background").unwrap();
        background.check().unwrap();
    }

    #[test]
    fn rejects_what_it_cannot_make() {
        let raw: toml::Table = toml::from_str("[eager]\nformats = [\"jpeg\"]\n").unwrap();
        let eager: EagerConfig = section(&raw, "eager").unwrap();
        assert!(eager.check().unwrap_err().to_string().contains("jpeg"));
        let raw: toml::Table = toml::from_str("[eager]\nwidht = [1]\n").unwrap();
        assert!(section::<EagerConfig>(&raw, "eager").is_err(), "typos fail");
        let raw: toml::Table = toml::from_str("[eager]\npath = \"/resize/{id}\"\n").unwrap();
        let eager: EagerConfig = section(&raw, "eager").unwrap();
        assert!(eager.check().is_err());
        let raw: toml::Table = toml::from_str("[background]\nconcurrency = 0\n").unwrap();
        let background: BackgroundConfig = section(&raw, "background").unwrap();
        assert!(background.check().is_err());
    }
}

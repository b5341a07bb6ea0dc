//! The eager ladder: for a new image, the variant requests `[eager]` names,
//! as jobs. Paths are signed the way the resize component checks them
//! (`sig` = hex HMAC-SHA256 of the path as written, without `sig`) when the
//! app has a signing key; presets need no signature.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::EagerConfig;
use super::queue::{Job, Priority};

/// `Accept` of a browser that takes AVIF (and so WebP).
pub const AVIF_ACCEPT: &str = "image/avif,image/webp,*/*";
/// `Accept` of a browser that takes WebP but not AVIF.
pub const WEBP_ACCEPT: &str = "image/webp,*/*";

/// The `Accept` a job for `format` is sent with, so a preset with
/// `format=auto` comes out in that format, and so a browser request of the
/// same class joins a running job (collapsed forwarding keys on it).
pub fn accept_for(format: &str) -> &'static str {
    match format {
        "avif" => AVIF_ACCEPT,
        "webp" => WEBP_ACCEPT,
        _ => "*/*",
    }
}

/// AVIF takes 10–20× WebP's time: it runs after the quick formats.
fn priority_of(format: &str) -> Priority {
    if format == "avif" {
        Priority::EagerSlow
    } else {
        Priority::Eager
    }
}

/// The ladder of one image.
#[derive(Debug, Clone)]
pub struct Ladder {
    config: EagerConfig,
    signing_key: Option<String>,
}

impl Ladder {
    pub fn new(config: EagerConfig, signing_key: Option<String>) -> Self {
        Self {
            config,
            signing_key: signing_key.filter(|k| !k.is_empty()),
        }
    }

    /// A path a variant request of this ladder would have (for checking that
    /// a route serves it).
    pub fn sample_path(&self) -> String {
        self.fill("width=1", "0")
    }

    fn fill(&self, options: &str, id: &str) -> String {
        self.config
            .path
            .replace("{options}", options)
            .replace("{id}", id)
    }

    /// `options` in the path of `id`, signed when a key is set.
    fn path(&self, options: &str, id: &str) -> String {
        match &self.signing_key {
            None => self.fill(options, id),
            Some(key) => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
                mac.update(self.fill(options, id).as_bytes());
                let sig = hex::encode(mac.finalize().into_bytes());
                self.fill(&format!("{options},sig={sig}"), id)
            }
        }
    }

    /// Every job of the ladder for image `id`, queued at `now` (Unix ms).
    pub fn jobs(&self, id: &str, now: u64) -> Vec<Job> {
        let job = |path: String, format: &str| Job {
            path,
            accept: accept_for(format).to_string(),
            image: id.to_string(),
            priority: priority_of(format),
            attempts: 0,
            not_before: now,
            enqueued: now,
        };
        let mut jobs = Vec::new();
        for format in &self.config.formats {
            for width in &self.config.widths {
                jobs.push(job(
                    self.path(&format!("width={width},format={format}"), id),
                    format,
                ));
            }
            for preset in &self.config.presets {
                jobs.push(job(self.fill(preset, id), format));
            }
        }
        jobs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_and_preset_in_every_format() {
        let ladder = Ladder::new(EagerConfig::default(), None);
        let jobs = ladder.jobs("abc", 7);
        let paths: Vec<(&str, &str)> = jobs
            .iter()
            .map(|j| (j.path.as_str(), j.accept.as_str()))
            .collect();
        assert_eq!(jobs.len(), 2 * (4 + 2));
        assert!(paths.contains(&("/resize/width=320,format=webp/abc", WEBP_ACCEPT)));
        assert!(paths.contains(&("/resize/width=1280,format=avif/abc", AVIF_ACCEPT)));
        assert!(paths.contains(&("/resize/thumb/abc", AVIF_ACCEPT)));
        assert!(paths.contains(&("/resize/thumb/abc", WEBP_ACCEPT)));
        let avif = jobs.iter().find(|j| j.path.contains("avif")).unwrap();
        assert_eq!(avif.priority, Priority::EagerSlow);
        assert!(jobs.iter().all(|j| j.image == "abc" && j.enqueued == 7));
    }

    #[test]
    fn signs_options_as_the_resize_component_checks_them() {
        let config = EagerConfig {
            widths: vec![320],
            formats: vec!["webp".into()],
            ..EagerConfig::default()
        };
        let jobs = Ladder::new(config, Some("k".into())).jobs("abc", 0);
        // The components' own signer.
        let sig = edgeimg_common::auth::sign("k", "/resize/width=320,format=webp/abc");
        assert_eq!(
            jobs[0].path,
            format!("/resize/width=320,format=webp,sig={sig}/abc")
        );
        assert_eq!(jobs[1].path, "/resize/thumb/abc", "presets are not signed");
    }
}

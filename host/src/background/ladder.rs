//! The eager ladder: for a new image, the requests a page's `srcset` will
//! make, as jobs: each width of `[eager] widths` as
//! `width=W,format=auto`, and each preset, asked with the `Accept` of a
//! browser that takes `[eager] formats`. Like a browser's request, a job may
//! defer AVIF: it makes the WebP at once and the AVIF follows as a slow job.
//! So a browser asking for that URL while the job runs joins it (collapsed
//! forwarding keys on URL and `Accept` class) instead of encoding again.
//!
//! Paths are signed the way the resize component checks them (`sig` = hex
//! HMAC-SHA256 of the path as written, without `sig`) when the app has a
//! signing key; presets need no signature.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::EagerConfig;
use super::queue::{Job, Priority};

/// `Accept` of a browser that takes AVIF and WebP (Chrome, Firefox, Safari 16+).
pub const AVIF_ACCEPT: &str = "image/avif,image/webp,*/*";

/// The ladder of one image.
#[derive(Debug, Clone)]
pub struct Ladder {
    config: EagerConfig,
    signing_key: Option<String>,
    accept: String,
}

impl Ladder {
    pub fn new(config: EagerConfig, signing_key: Option<String>) -> Self {
        let mut types: Vec<String> = ["avif", "webp"]
            .iter()
            .filter(|f| config.formats.iter().any(|c| c == *f))
            .map(|f| format!("image/{f}"))
            .collect();
        types.push("*/*".into());
        Self {
            accept: types.join(","),
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

    /// Every job of the ladder for image `id`, queued at `now` (Unix ms),
    /// smallest width first, presets last.
    pub fn jobs(&self, id: &str, now: u64) -> Vec<Job> {
        let job = |path: String| Job {
            path,
            accept: self.accept.clone(),
            image: id.to_string(),
            priority: Priority::Eager,
            attempts: 0,
            not_before: now,
            enqueued: now,
        };
        let mut widths = self.config.widths.clone();
        widths.sort_unstable();
        widths.dedup();
        widths
            .iter()
            .map(|w| job(self.path(&format!("width={w},format=auto"), id)))
            .chain(self.config.presets.iter().map(|p| job(self.fill(p, id))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_and_preset_as_a_browser_asks() {
        let ladder = Ladder::new(EagerConfig::default(), None);
        let jobs = ladder.jobs("abc", 7);
        let paths: Vec<&str> = jobs.iter().map(|j| j.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/resize/width=320,format=auto/abc",
                "/resize/width=640,format=auto/abc",
                "/resize/width=960,format=auto/abc",
                "/resize/width=1280,format=auto/abc",
                "/resize/thumb/abc",
                "/resize/card/abc",
            ]
        );
        assert!(jobs.iter().all(|j| j.accept == AVIF_ACCEPT
            && j.priority == Priority::Eager
            && j.image == "abc"
            && j.enqueued == 7));

        let webp_only = EagerConfig {
            formats: vec!["webp".into()],
            ..EagerConfig::default()
        };
        let jobs = Ladder::new(webp_only, None).jobs("abc", 0);
        assert_eq!(jobs[0].accept, "image/webp,*/*");
    }

    #[test]
    fn signs_options_as_the_resize_component_checks_them() {
        let config = EagerConfig {
            widths: vec![320],
            ..EagerConfig::default()
        };
        let jobs = Ladder::new(config, Some("k".into())).jobs("abc", 0);
        // The components' own signer.
        let sig = edgeimg_common::auth::sign("k", "/resize/width=320,format=auto/abc");
        assert_eq!(
            jobs[0].path,
            format!("/resize/width=320,format=auto,sig={sig}/abc")
        );
        assert_eq!(jobs[1].path, "/resize/thumb/abc", "presets are not signed");
    }
}

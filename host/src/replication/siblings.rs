//! The other hosts of this region: they share its stores, so a change made
//! here (or received here) must reach their memory caches and edge caches at
//! once, or they keep serving a deleted image. Each change is announced to
//! every sibling in the background, with a few quick retries; a sibling that
//! is down starts with empty caches anyway.

use std::time::Duration;

use tracing::Instrument;

use super::apply::image_id;
use super::record::PREFIX;
use super::wire::Invalidate;
use super::Replication;

/// Attempts per sibling and announcement.
const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(2);

impl Replication {
    /// Tells every sibling that `key` of `label` changed.
    pub(super) fn announce(&self, label: &str, key: &str, deleted: bool) {
        if self.config.siblings.is_empty() {
            return;
        }
        let message = Invalidate {
            label: label.to_string(),
            key: key.to_string(),
            deleted,
        };
        for sibling in &self.config.siblings {
            let (client, sibling, message) =
                (self.client.clone(), sibling.clone(), message.clone());
            tokio::spawn(async move {
                for attempt in 1..=ATTEMPTS {
                    match client.invalidate(&sibling, &message, TIMEOUT).await {
                        Ok(()) => return,
                        Err(e) if attempt == ATTEMPTS => {
                            tracing::warn!(%sibling, key = %message.key, error = %format!("{e:#}"), "could not tell a host of this region about a change")
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(100 << attempt)).await,
                    }
                }
            }
            // The sibling's spans join the trace of the change's request.
            .in_current_span());
        }
    }

    /// A sibling changed a key of a store we share: drop our memory of it
    /// (value and version record) and, for a deleted image, its responses.
    pub async fn on_invalidate(&self, message: &Invalidate) {
        let Some(store) = self.labels.get(&message.label) else {
            return;
        };
        store.inner.invalidate(&message.key).await;
        store
            .inner
            .invalidate(&format!("{PREFIX}{}", message.key))
            .await;
        self.pulls.forget(&message.label, &message.key);
        if message.deleted {
            if let Some(id) = image_id(&message.key) {
                self.edge.purge(vec![id.to_string()]);
            }
        }
    }
}

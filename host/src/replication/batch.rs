//! The receiving side of delivery: a batch of changes from one peer applied
//! together (group commit). The keys are locked, each change is kept only
//! if newer than this region's version, and durability is paid once per
//! batch rather than once per change: the values are written together
//! (one group sync), the kept changes are logged for relay (one log
//! commit), then their version records are written together (one group
//! sync). Only then does the peer get its answer, so an answered batch is
//! durable here, and a crash before the answer makes the peer send it all
//! again (versions make the repeat harmless).

use std::collections::HashMap;

use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};

use super::apply::{received, Origin};
use super::log::Change;
use super::record::{is_reserved, Record};
use super::version::Version;
use super::wire::{BatchEntry, Op, Outcome};
use super::Replication;
use crate::kv::{integrity, Error};

/// Version records read at once while a batch is planned.
const VERSION_READS: usize = 32;

/// A change of the batch that will be applied.
struct Planned {
    label: String,
    key: String,
    version: Version,
    value: Option<Bytes>,
    seen: Vec<String>,
}

impl Replication {
    /// Applies `entries` received `from` a peer; one outcome per entry.
    pub async fn apply_batch(
        &self,
        from: Option<&str>,
        entries: Vec<(BatchEntry, Option<Bytes>)>,
    ) -> Result<Vec<Outcome>, Error> {
        let started = std::time::Instant::now();
        let mut results = vec![Outcome::Kept; entries.len()];
        let mut valid = Vec::with_capacity(entries.len());
        for (i, (entry, value)) in entries.into_iter().enumerate() {
            let known = self.labels.contains_key(&entry.label) && !is_reserved(&entry.key);
            let intact = value
                .as_ref()
                .is_none_or(|v| integrity::intact(&entry.key, v));
            if !known || !intact {
                tracing::warn!(label = %entry.label, key = %entry.key, known, intact, "refused a change of a batch");
                results[i] = Outcome::Refused;
                continue;
            }
            valid.push((i, entry, value));
        }
        let mut keys: Vec<(String, String)> = valid
            .iter()
            .map(|(_, e, _)| (e.label.clone(), e.key.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        // Always taken in key order, so two batches never wait on each other.
        let mut guards = Vec::with_capacity(keys.len());
        for (label, key) in &keys {
            guards.push(self.locks.lock(label, key).await);
        }

        // The newest version of each key: ours (read side by side), then
        // each newer entry's.
        let reads: Vec<_> = keys
            .iter()
            .map(|(label, key)| {
                let records = self.labels[label].records.clone();
                (label.clone(), key.clone(), records)
            })
            .collect();
        let mut newest: HashMap<(String, String), (Version, Option<usize>)> = stream::iter(reads)
            .map(|(label, key, records)| async move {
                let ours = records.version(&key).await?;
                Ok::<_, Error>(((label, key), (ours, None)))
            })
            .buffer_unordered(VERSION_READS)
            .try_collect()
            .await?;
        for (i, entry, _) in &valid {
            self.clock.observe(&entry.version);
            let id = (entry.label.clone(), entry.key.clone());
            let slot = newest.get_mut(&id).expect("every key was read");
            if entry.version <= slot.0 {
                continue;
            }
            match entry.op {
                Op::Offer => results[*i] = Outcome::Needed,
                Op::Put | Op::Delete => *slot = (entry.version.clone(), Some(*i)),
            }
        }
        let winners: std::collections::HashSet<usize> =
            newest.values().filter_map(|(_, i)| *i).collect();
        let mut plan = Vec::new();
        for (i, entry, value) in valid {
            if winners.contains(&i) {
                results[i] = Outcome::Applied;
                plan.push(Planned {
                    label: entry.label,
                    key: entry.key,
                    version: entry.version,
                    value: if entry.op == Op::Put { value } else { None },
                    seen: entry.seen,
                });
            }
        }
        if plan.is_empty() {
            return Ok(results);
        }

        for (label, group) in by_label(&plan) {
            let values: Vec<(String, Bytes)> = group
                .iter()
                .filter_map(|p| Some((p.key.clone(), p.value.clone()?)))
                .collect();
            if !values.is_empty() {
                self.labels[label].inner.set_many(values).await?;
            }
        }
        let changes: Vec<Change> = plan
            .iter()
            .map(|p| {
                let seen = Some(p.seen.clone());
                let bytes = p.value.as_ref().map(|v| v.len() as u64);
                received(&p.label, &p.key, &p.version, bytes, from, seen)
            })
            .collect();
        self.relay(changes).await?;
        for (label, group) in by_label(&plan) {
            let records = group
                .iter()
                .map(|p| {
                    let record = Record {
                        version: p.version.clone(),
                        deleted: p.value.is_none(),
                    };
                    (p.key.clone(), record)
                })
                .collect();
            let store = &self.labels[label];
            store.records.put_many(records).await?;
            for tombstone in group.iter().filter(|p| p.value.is_none()) {
                store.inner.delete(&tombstone.key).await?;
            }
        }
        drop(guards);
        let bytes: usize = plan
            .iter()
            .filter_map(|p| p.value.as_ref())
            .map(Bytes::len)
            .sum();
        tracing::debug!(
            changes = plan.len(),
            bytes,
            took_ms = started.elapsed().as_millis() as u64,
            "applied a batch"
        );
        for p in &plan {
            self.changed(&p.label, &p.key, p.value.is_none(), Origin::Remote);
        }
        Ok(results)
    }
}

/// The planned changes of each label.
fn by_label(plan: &[Planned]) -> HashMap<&str, Vec<&Planned>> {
    let mut groups: HashMap<&str, Vec<&Planned>> = HashMap::new();
    for p in plan {
        groups.entry(p.label.as_str()).or_default().push(p);
    }
    groups
}

//! The durable replication log of one host: every change a component makes
//! to a replicated label, numbered, with a delivery cursor per peer.
//!
//! Kept in redb (pure Rust, ACID, copy-on-write B-trees, MIT/Apache): a
//! commit with `Durability::Immediate` (the default) has fsync'd before it
//! returns, so a change acknowledged to a client survives `kill -9`, and the
//! file can never be half-written. One file per host, under its data dir:
//! hosts of one region share the object store but each keeps its own log.
//! redb calls block, so callers run them on the blocking pool.

use std::path::Path;

use anyhow::{Context, Result};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use super::version::Version;

/// Sequence number → change (JSON).
const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
/// Peer region → last sequence number it has.
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("cursors");
/// Host state: the last sequence number (`seq`) and clock value (`clock`)
/// logged; kept apart from the changes so pruning never resets numbering.
const STATE: TableDefinition<&str, u64> = TableDefinition::new("state");

/// One change to replicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub label: String,
    pub key: String,
    pub version: Version,
    /// A delete (tombstone) rather than a put.
    pub deleted: bool,
    /// The peer region this host received the change from, when it is
    /// passed on (relayed) rather than made here: never sent back there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// For a change received in a delivery: the regions that have it or
    /// get it from another host's log (the senders along its way and their
    /// peers), so it is not sent to them again. `None` for a change made
    /// here, or a copy pulled or repaired here (its big values are offered
    /// before they are sent: the peers may well have them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<Vec<String>>,
    /// Bytes of the value when it was logged (0 for a delete), so delivery
    /// can size its batches before reading them.
    #[serde(default)]
    pub bytes: u64,
    /// The W3C `traceparent` of the request that made or brought the
    /// change, when traces are on: its delivery joins that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The log: an append-only sequence of changes and a cursor per peer.
pub struct Log {
    db: Database,
}

impl Log {
    /// Opens (or creates) the log file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let db = Database::create(path)
            .with_context(|| format!("cannot open the replication log {}", path.display()))?;
        let txn = db.begin_write()?;
        txn.open_table(CHANGES)?;
        txn.open_table(CURSORS)?;
        txn.open_table(STATE)?;
        txn.commit()?;
        Ok(Self { db })
    }

    /// Appends `changes` in order, durably, in one commit (one fsync);
    /// returns the sequence number of the last.
    pub fn append_many(&self, changes: &[Change]) -> Result<u64> {
        let txn = self.db.begin_write()?;
        let seq = {
            let mut state = txn.open_table(STATE)?;
            let mut seq = state.get("seq")?.map_or(0, |v| v.value());
            let mut clock = state.get("clock")?.map_or(0, |v| v.value());
            let mut table = txn.open_table(CHANGES)?;
            for change in changes {
                seq += 1;
                clock = clock.max(change.version.clock);
                table.insert(seq, serde_json::to_vec(change)?.as_slice())?;
            }
            state.insert("seq", seq)?;
            state.insert("clock", clock)?;
            seq
        };
        txn.commit().context("replication log commit")?;
        Ok(seq)
    }

    /// The changes after sequence number `after`, in order: at most
    /// `limit` of them, and no more value bytes than `max_bytes` (but at
    /// least one change, however big).
    pub fn read_after(
        &self,
        after: u64,
        limit: usize,
        max_bytes: u64,
    ) -> Result<Vec<(u64, Change)>> {
        let txn = self.db.begin_read()?;
        let changes = txn.open_table(CHANGES)?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for entry in changes.range(after + 1..)?.take(limit) {
            let (seq, json) = entry?;
            let change: Change = serde_json::from_slice(json.value())
                .with_context(|| format!("replication log entry {}", seq.value()))?;
            bytes += change.bytes;
            if bytes > max_bytes && !out.is_empty() {
                break;
            }
            out.push((seq.value(), change));
        }
        Ok(out)
    }

    /// The newest sequence number (0 when nothing was ever logged).
    pub fn last_seq(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let state = txn.open_table(STATE)?;
        Ok(state.get("seq")?.map_or(0, |v| v.value()))
    }

    /// The last sequence number `peer` has acknowledged.
    pub fn cursor(&self, peer: &str) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let cursors = txn.open_table(CURSORS)?;
        Ok(cursors.get(peer)?.map_or(0, |v| v.value()))
    }

    /// Records that `peer` has every change up to `seq`.
    pub fn set_cursor(&self, peer: &str, seq: u64) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(CURSORS)?.insert(peer, seq)?;
        txn.commit()?;
        Ok(())
    }

    /// The last clock value logged, so a restarted clock never goes back.
    pub fn clock_floor(&self) -> Result<u64> {
        let txn = self.db.begin_read()?;
        let state = txn.open_table(STATE)?;
        Ok(state.get("clock")?.map_or(0, |v| v.value()))
    }

    /// Drops changes every one of `peers` has; returns how many. A peer
    /// that never acknowledged anything keeps the whole log.
    pub fn prune(&self, peers: &[String]) -> Result<u64> {
        let mut delivered = u64::MAX;
        for peer in peers {
            delivered = delivered.min(self.cursor(peer)?);
        }
        if peers.is_empty() || delivered == 0 {
            return Ok(0);
        }
        let txn = self.db.begin_write()?;
        let removed = {
            let mut changes = txn.open_table(CHANGES)?;
            let mut removed = 0;
            changes.retain_in(..=delivered, |_, _| {
                removed += 1;
                false
            })?;
            removed
        };
        txn.commit()?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::backend_tests::tempdir;

    fn change(n: u64, deleted: bool) -> Change {
        Change {
            label: "images".into(),
            key: format!("orig/{n}"),
            version: Version {
                clock: n << 16,
                region: "eu".into(),
            },
            deleted,
            from: None,
            seen: None,
            bytes: n,
            trace: None,
        }
    }

    #[test]
    fn a_batch_is_numbered_in_order_and_keeps_where_it_came_from() {
        let dir = tempdir();
        let log = Log::open(&dir.path().join("log.redb")).unwrap();
        log.append_many(&[change(1, false)]).unwrap();
        let relayed: Vec<Change> = (2..=4)
            .map(|n| Change {
                from: Some("us".into()),
                ..change(n, false)
            })
            .collect();
        assert_eq!(log.append_many(&relayed).unwrap(), 4);
        let read = log.read_after(1, 10, u64::MAX).unwrap();
        assert_eq!(read.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(read[2].1, relayed[2]);
        assert_eq!(log.clock_floor().unwrap(), 4 << 16);
        assert_eq!(log.append_many(&[]).unwrap(), 4);
        assert_eq!(
            log.read_after(0, 10, 5).unwrap().len(),
            2,
            "1 + 2 + 3 bytes > 5"
        );
        assert_eq!(log.read_after(3, 10, 1).unwrap().len(), 1, "at least one");
    }

    #[test]
    fn changes_survive_a_reopen_with_their_cursors() {
        let dir = tempdir();
        let path = dir.path().join("replication.redb");
        {
            let log = Log::open(&path).unwrap();
            assert_eq!(log.append_many(&[change(1, false)]).unwrap(), 1);
            assert_eq!(log.append_many(&[change(2, true)]).unwrap(), 2);
            log.set_cursor("us", 1).unwrap();
        }
        let log = Log::open(&path).unwrap();
        assert_eq!(log.last_seq().unwrap(), 2);
        assert_eq!(log.cursor("us").unwrap(), 1);
        assert_eq!(log.cursor("ap").unwrap(), 0);
        let after = log.read_after(1, 10, u64::MAX).unwrap();
        assert_eq!(after, vec![(2, change(2, true))]);
        assert_eq!(log.clock_floor().unwrap(), 2 << 16);
    }

    #[test]
    fn pruning_keeps_what_any_peer_lacks() {
        let dir = tempdir();
        let log = Log::open(&dir.path().join("log.redb")).unwrap();
        for n in 1..=5 {
            log.append_many(&[change(n, false)]).unwrap();
        }
        let peers = ["us".to_string(), "ap".to_string()];
        log.set_cursor("us", 4).unwrap();
        assert_eq!(log.prune(&peers).unwrap(), 0, "ap has nothing yet");
        log.set_cursor("ap", 2).unwrap();
        assert_eq!(log.prune(&peers).unwrap(), 2);
        assert_eq!(log.read_after(0, 10, u64::MAX).unwrap().len(), 3);
        assert_eq!(log.append_many(&[change(6, false)]).unwrap(), 6);
        log.set_cursor("ap", 6).unwrap();
        log.set_cursor("us", 6).unwrap();
        log.prune(&peers).unwrap();
        assert_eq!(
            log.last_seq().unwrap(),
            6,
            "numbering survives an empty log"
        );
    }
}

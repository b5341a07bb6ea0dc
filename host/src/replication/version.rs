//! Versions of replicated changes: a hybrid logical clock (physical
//! milliseconds in the high 48 bits, a counter in the low 16) plus the
//! region that made the change, so the newest change wins everywhere, ties
//! broken the same way in every region. The clock observes every version it
//! receives, so a change made after seeing another is always newer than it,
//! whatever the regions' wall clocks say.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// When and where a change was made; ordered by clock, then region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub clock: u64,
    pub region: String,
}

impl Version {
    /// The version of data written before replication knew of it: older
    /// than any change.
    pub fn zero() -> Self {
        Self {
            clock: 0,
            region: String::new(),
        }
    }

    /// Milliseconds since the Unix epoch when the change was made.
    pub fn millis(&self) -> u64 {
        self.clock >> 16
    }
}

/// `<16 hex digits>@<region>`: sorts like the version when regions match.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}@{}", self.clock, self.region)
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (clock, region) = s
            .split_once('@')
            .ok_or_else(|| format!("version {s:?} is not <hex>@<region>"))?;
        let clock =
            u64::from_str_radix(clock, 16).map_err(|_| format!("version {s:?} has a bad clock"))?;
        Ok(Self {
            clock,
            region: region.to_string(),
        })
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A hybrid logical clock of one region.
pub struct Clock {
    region: String,
    last: Mutex<u64>,
}

impl Clock {
    /// A clock that never goes below `floor` (the last clock persisted).
    pub fn new(region: &str, floor: u64) -> Self {
        Self {
            region: region.to_string(),
            last: Mutex::new(floor),
        }
    }

    /// A version newer than every version made or observed here.
    pub fn now(&self) -> Version {
        let mut last = self.last.lock().unwrap();
        let clock = (wall_millis() << 16).max(*last + 1);
        *last = clock;
        Version {
            clock,
            region: self.region.clone(),
        }
    }

    /// Moves the clock past a version received from elsewhere.
    pub fn observe(&self, version: &Version) {
        let mut last = self.last.lock().unwrap();
        *last = (*last).max(version.clock);
    }

    /// The clock's last value.
    #[cfg(test)]
    pub fn last(&self) -> u64 {
        *self.last.lock().unwrap()
    }
}

/// Milliseconds since the Unix epoch now.
pub fn wall_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_order() {
        let v = Version {
            clock: 0x1234,
            region: "eu".into(),
        };
        assert_eq!(v.to_string(), "0000000000001234@eu");
        assert_eq!(v.to_string().parse::<Version>().unwrap(), v);
        assert!("nope".parse::<Version>().is_err());
        let later = Version {
            clock: 0x1235,
            region: "ap".into(),
        };
        assert!(later > v);
        let tie = Version {
            clock: 0x1234,
            region: "us".into(),
        };
        assert!(tie > v, "ties break by region the same way everywhere");
        assert!(Version::zero() < v);
    }

    #[test]
    fn the_clock_is_monotonic_and_passes_what_it_observes() {
        let clock = Clock::new("eu", 0);
        let a = clock.now();
        let b = clock.now();
        assert!(b > a);
        let future = Version {
            clock: (wall_millis() + 3_600_000) << 16,
            region: "us".into(),
        };
        clock.observe(&future);
        let c = clock.now();
        assert!(
            c.clock > future.clock,
            "a change made after seeing one is newer"
        );
        let restarted = Clock::new("eu", clock.last());
        assert!(restarted.now() > c);
    }
}

//! Probe component (being written).

//! The fetch component (being written).

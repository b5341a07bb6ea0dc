//! The resize component (being written).

//! Image transform pipeline (being written).

//! The upload component (being written).

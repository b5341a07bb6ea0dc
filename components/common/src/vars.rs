//! Spin variables as the components read them.

/// Variable `name`; unset, empty and undeclared all read as `None`, so every
/// feature a variable turns on is off by default.
pub fn get(name: &str) -> Option<String> {
    spin_sdk::variables::get(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

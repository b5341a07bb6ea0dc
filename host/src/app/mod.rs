//! The application, assembled once at start-up: spin.toml (`manifest`,
//! `template`), the runtime config and its sections (`runtime_config`),
//! variables (`variables`), a hosted platform to emulate (`platform`), and
//! `load`, which builds the stores, engine, components and router from
//! them. Every configuration error surfaces here, before the listener binds.

pub mod load;
pub mod manifest;
pub mod platform;
pub mod runtime_config;
pub mod template;
pub mod variables;

pub use load::{App, HostConfig};

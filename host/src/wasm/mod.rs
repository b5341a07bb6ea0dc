//! Running components: the Wasmtime engine and its compiled-code cache
//! (`engine`), loading and linking at start-up (`component`), the per-request
//! instance and its store data (`instance`, `state`), the threads guest code
//! runs on and the wait for them (`pool`), and what bounds an instance
//! (`limits`, `outbound`). The WIT bindings of the Spin interfaces
//! the host implements itself are in `bindings`.

pub mod bindings;
pub mod component;
pub mod engine;
pub mod instance;
pub mod limits;
pub mod outbound;
pub mod pool;
pub mod state;

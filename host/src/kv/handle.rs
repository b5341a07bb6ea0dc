//! The resource behind a WIT `store` handle. Its own file so the generated
//! bindings (which name it) and the glue that implements them (`host`) both
//! depend on it, not on each other.

use std::sync::Arc;

use super::Store;

/// An open store, as an instance holds it in its resource table.
pub struct StoreHandle(pub Arc<dyn Store>);

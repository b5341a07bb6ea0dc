//! The linear-memory cap of an instance: a `ResourceLimiter` that remembers
//! it refused growth, so the trap that follows is reported as a memory-limit
//! error.

use wasmtime::ResourceLimiter;

/// Caps each linear memory of an instance.
pub struct MemoryLimiter {
    limit: usize,
    /// Set when a growth was refused.
    pub exceeded: bool,
}

impl MemoryLimiter {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pool refused (its slots are `limit` bytes): same cause.
        self.exceeded = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

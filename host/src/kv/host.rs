//! WIT glue: `fermyon:spin/key-value@2.0.0` over [`StoreRegistry`].
//!
//! An instance may open only the labels its spin.toml entry lists
//! (`key_value_stores`); any other label is `access-denied`, as in Spin.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use wasmtime::component::{HasData, Resource, ResourceTable};

use super::handle::StoreHandle;
use super::listing;
use super::{Error, Store, StoreRegistry};
use crate::telemetry::SPANS;
use crate::wasm::bindings::fermyon::spin::key_value::{self as wit, Host, HostStore};
use tracing::Instrument;

/// Stores one instance may open at once (WIT `store-table-full` beyond).
const MAX_OPEN_STORES: usize = 64;

/// A component's key-value grant; built once per component, cloned per request.
#[derive(Clone)]
pub struct KvAccess {
    registry: Arc<StoreRegistry>,
    allowed: Arc<HashSet<String>>,
    /// The runtime that serves connections: store operations (network and
    /// file I/O) run there, so they progress while every execution thread
    /// computes.
    io: tokio::runtime::Handle,
}

impl KvAccess {
    /// Call from the I/O runtime: its handle is kept for store operations.
    pub fn new(registry: Arc<StoreRegistry>, allowed: impl IntoIterator<Item = String>) -> Self {
        Self {
            registry,
            allowed: Arc::new(allowed.into_iter().collect()),
            io: tokio::runtime::Handle::current(),
        }
    }

    /// Per-instance state; `regional` instances see stores that never wait
    /// on other regions (see [`StoreRegistry::get`]).
    pub fn instance(&self, regional: bool) -> KvInstance {
        KvInstance {
            access: self.clone(),
            open: 0,
            regional,
        }
    }
}

/// Per-instance key-value state.
pub struct KvInstance {
    access: KvAccess,
    open: usize,
    regional: bool,
}

/// What the bindings borrow from the store data while a call runs.
pub struct KvView<'a> {
    pub table: &'a mut ResourceTable,
    pub kv: &'a mut KvInstance,
}

/// Binds `fermyon:spin/key-value` to [`KvView`].
pub struct KvData;

impl HasData for KvData {
    type Data<'a> = KvView<'a>;
}

impl From<Error> for wit::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::StoreTableFull => wit::Error::StoreTableFull,
            Error::NoSuchStore => wit::Error::NoSuchStore,
            Error::AccessDenied => wit::Error::AccessDenied,
            Error::Other(message) | Error::Corrupt(message) => wit::Error::Other(message),
        }
    }
}

impl KvView<'_> {
    fn store(&self, handle: &Resource<StoreHandle>) -> wasmtime::Result<Arc<dyn Store>> {
        Ok(self.table.get(handle)?.0.clone())
    }

    /// The store behind `handle` and the runtime its operations run on.
    fn op(&self, handle: &Resource<StoreHandle>) -> wasmtime::Result<(Arc<dyn Store>, Io)> {
        Ok((self.store(handle)?, Io(self.kv.access.io.clone())))
    }
}

/// The I/O runtime, as a store operation sees it.
struct Io(tokio::runtime::Handle);

impl Io {
    /// Runs one store operation on the I/O runtime. The instance keeps its
    /// execution slot meanwhile: its memory stays allocated while it waits,
    /// and the slots exist to bound that memory.
    async fn run<T, F>(self, span: tracing::Span, op: F) -> wasmtime::Result<Result<T, wit::Error>>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, Error>> + Send + 'static,
    {
        match self.0.spawn(op.instrument(span)).await {
            Ok(result) => Ok(result.map_err(Into::into)),
            Err(e) => Ok(Err(
                Error::Other(format!("store operation failed: {e}")).into()
            )),
        }
    }
}

impl Host for KvView<'_> {}

impl HostStore for KvView<'_> {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<StoreHandle>, wit::Error>> {
        if !self.kv.access.allowed.contains(&label) {
            return Ok(Err(Error::AccessDenied.into()));
        }
        let Some(store) = self.kv.access.registry.get(&label, self.kv.regional) else {
            return Ok(Err(Error::NoSuchStore.into()));
        };
        if self.kv.open >= MAX_OPEN_STORES {
            return Ok(Err(Error::StoreTableFull.into()));
        }
        self.kv.open += 1;
        Ok(Ok(self.table.push(StoreHandle(store))?))
    }

    /// A read of the reserved listing key answers a page of keys (see
    /// [`super::listing`]); any other key reads the store.
    async fn get(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, wit::Error>> {
        let (store, io) = self.op(&this)?;
        if let Some(ask) = listing::parse_request(&key) {
            let span = tracing::trace_span!(target: SPANS, "kv list", db.operation.name = "list", edgeimg.kv.key = %key);
            return io
                .run(span, async move {
                    let page = store
                        .list_page(&ask.prefix, ask.after.as_deref(), ask.limit)
                        .await?;
                    Ok(page.map(|p| serde_json::to_vec(&p).expect("pages serialize")))
                })
                .await;
        }
        let span = tracing::trace_span!(target: SPANS, "kv get", db.operation.name = "get", edgeimg.kv.key = %key);
        io.run(span, async move {
            store.get(&key).await.map(|v| v.map(|b| b.to_vec()))
        })
        .await
    }

    async fn set(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), wit::Error>> {
        let (store, io) = self.op(&this)?;
        let span = tracing::trace_span!(target: SPANS, "kv set", db.operation.name = "set", edgeimg.kv.key = %key);
        io.run(
            span,
            async move { store.set(&key, Bytes::from(value)).await },
        )
        .await
    }

    async fn delete(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), wit::Error>> {
        let (store, io) = self.op(&this)?;
        let span = tracing::trace_span!(target: SPANS, "kv delete", db.operation.name = "delete", edgeimg.kv.key = %key);
        io.run(span, async move { store.delete(&key).await }).await
    }

    async fn exists(
        &mut self,
        this: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, wit::Error>> {
        let (store, io) = self.op(&this)?;
        let span = tracing::trace_span!(target: SPANS, "kv exists", db.operation.name = "exists", edgeimg.kv.key = %key);
        io.run(span, async move { store.exists(&key).await }).await
    }

    async fn get_keys(
        &mut self,
        this: Resource<StoreHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, wit::Error>> {
        let (store, io) = self.op(&this)?;
        let span =
            tracing::trace_span!(target: SPANS, "kv get_keys", db.operation.name = "get_keys");
        io.run(span, async move { store.get_keys().await }).await
    }

    async fn drop(&mut self, this: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        self.kv.open -= 1;
        Ok(())
    }
}

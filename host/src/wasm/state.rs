//! What one instance owns (its store data) and the views the WASI,
//! wasi:http, key-value and variables bindings take of it. Built per request
//! by [`super::instance`]; linked once by [`super::component`].

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::limits::MemoryLimiter;
use super::outbound::OutboundPolicy;
use crate::app::variables::ComponentVariables;
use crate::kv::host::{KvInstance, KvView};

/// Everything one instance owns; dropped with its store after the request.
pub struct InstanceState {
    pub(super) table: ResourceTable,
    pub(super) wasi: WasiCtx,
    pub(super) http: WasiHttpCtx,
    pub(super) outbound: OutboundHooks,
    pub(super) limiter: MemoryLimiter,
    pub(super) kv: KvInstance,
    pub(super) variables: Arc<ComponentVariables>,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

impl InstanceState {
    /// The key-value bindings' view of this state.
    pub fn kv(&mut self) -> KvView<'_> {
        KvView {
            table: &mut self.table,
            kv: &mut self.kv,
        }
    }

    /// The variables bindings' view of this state.
    pub fn variables(&mut self) -> &ComponentVariables {
        &self.variables
    }
}

/// Outbound HTTP as Spin grants it: only to `allowed_outbound_hosts`.
pub(super) struct OutboundHooks {
    pub(super) policy: Arc<OutboundPolicy>,
}

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn std::future::Future<
                Output = Result<
                    (
                        http::Response<wasmtime_wasi_http::WasiBody>,
                        Box<
                            dyn std::future::Future<Output = Result<(), wasmtime_wasi_http::Error>>
                                + Send,
                        >,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        let uri = request.uri();
        let (scheme, host, port) = (
            uri.scheme_str().unwrap_or("http"),
            uri.host().unwrap_or(""),
            uri.port_u16(),
        );
        if self.policy.allows(scheme, host, port) {
            wasmtime_wasi_http::default_hooks().send_request(request, options, fut)
        } else {
            tracing::warn!(%uri, "outbound request denied: not in allowed_outbound_hosts");
            Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
        }
    }
}

//! Per-request store state and the call into a component: a fresh instance
//! per request (as Spin does for WASI 0.2), created from the component's
//! `InstancePre`, with its memory cap, execution deadline and granted
//! key-value stores and variables.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::histogram::Histogram;

use hyper::body::Body as HttpBody;
use tokio::sync::oneshot;
use wasmtime::component::ResourceTable;
use wasmtime::{PoolConcurrencyLimitError, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::component::LoadedComponent;
use crate::engine::EPOCH_TICK;
use crate::errors::Body;
use crate::kv::host::{KvInstance, KvView};
use crate::limits::MemoryLimiter;
use crate::outbound::OutboundPolicy;
use crate::variables::ComponentVariables;

/// Everything one instance owns; dropped with its store after the request.
pub struct InstanceState {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundHooks,
    limiter: MemoryLimiter,
    kv: KvInstance,
    variables: Arc<ComponentVariables>,
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
struct OutboundHooks {
    policy: Arc<OutboundPolicy>,
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

/// Limits applied to every instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceLimits {
    pub memory: usize,
    pub timeout: Duration,
}

/// Why a call produced no usable response.
#[derive(Debug)]
pub enum Failure {
    /// The execution deadline passed.
    Timeout,
    /// The guest tried to grow memory past the cap (and then trapped).
    MemoryLimit,
    /// Every instance slot is in use.
    Busy,
    /// A trap or panic: a one-line cause for the client, the full error
    /// (with the wasm backtrace) for the log.
    Trap { cause: String, detail: String },
    /// The guest returned without setting a response.
    NoResponse,
    /// The guest answered with a wasi:http error code.
    Guest(ErrorCode),
    /// The request could not be handed to the guest.
    Host(String),
}

/// A fresh store for one instance of `component`, with its limits set.
fn new_store(component: &LoadedComponent, limits: InstanceLimits) -> Store<InstanceState> {
    let state = InstanceState {
        table: ResourceTable::new(),
        wasi: component.wasi_ctx(),
        http: WasiHttpCtx::new(),
        outbound: OutboundHooks {
            policy: component.outbound.clone(),
        },
        limiter: MemoryLimiter::new(limits.memory),
        kv: component.kv.instance(),
        variables: component.variables.clone(),
    };
    let mut store = Store::new(component.pre.engine(), state);
    store.limiter(|s| &mut s.limiter);
    let ticks = (limits.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();
    store
}

/// Instantiates `component` once without calling it: surfaces instantiation
/// errors (start functions, memory cap) at start-up and builds the
/// copy-on-write memory images, so the first request pays nothing extra.
pub async fn warm_up(component: &LoadedComponent, limits: InstanceLimits) -> wasmtime::Result<()> {
    let mut store = new_store(component, limits);
    component.pre.instantiate_async(&mut store).await?;
    Ok(())
}

/// Runs `component` on `request` in a fresh instance.
pub async fn call<B>(
    component: &LoadedComponent,
    limits: InstanceLimits,
    instantiate_time: Histogram,
    request: hyper::Request<B>,
) -> Result<http::Response<Body>, Failure>
where
    B: HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let started = Instant::now();
    let mut store = new_store(component, limits);

    let (sender, receiver) = oneshot::channel();
    let host = |e: wasmtime::Error| Failure::Host(format!("{e:#}"));
    let req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, request)
        .map_err(host)?;
    let out = store
        .data_mut()
        .http()
        .new_response_outparam(sender)
        .map_err(host)?;
    let pre = component.pre.clone();

    // The guest keeps running in its own task after it has set the response
    // headers, streaming the body; the store lives until it returns.
    let task = tokio::spawn(async move {
        let result = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            instantiate_time.observe(started.elapsed().as_secs_f64());
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, req, out)
                .await
        }
        .await;
        (result, store.data().limiter.exceeded)
    });

    // Epoch interruption stops a guest that computes too long; this timer
    // also covers a guest blocked in a host call (sleep, body read).
    let deadline = limits.timeout + 2 * EPOCH_TICK;
    match tokio::time::timeout(deadline, receiver).await {
        Ok(Ok(Ok(response))) => Ok(response),
        Ok(Ok(Err(code))) => Err(Failure::Guest(code)),
        Ok(Err(_no_response)) => match task.await {
            Ok((Ok(()), _)) => Err(Failure::NoResponse),
            Ok((Err(e), memory_exceeded)) => Err(classify(e, memory_exceeded)),
            Err(join) => Err(Failure::Trap {
                cause: "instance task failed".into(),
                detail: join.to_string(),
            }),
        },
        Err(_elapsed) => {
            task.abort();
            Err(Failure::Timeout)
        }
    }
}

fn classify(e: wasmtime::Error, memory_exceeded: bool) -> Failure {
    if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        Failure::Timeout
    } else if memory_exceeded {
        Failure::MemoryLimit
    } else if e.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
        Failure::Busy
    } else {
        Failure::Trap {
            cause: e.root_cause().to_string(),
            detail: format!("{e:?}"),
        }
    }
}

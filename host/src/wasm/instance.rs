//! The call into a component: a fresh instance per request (as Spin does for
//! WASI 0.2), created from the component's `InstancePre`, with its memory
//! cap, execution deadline and granted key-value stores and variables.

use std::time::{Duration, Instant};

use prometheus_client::metrics::histogram::Histogram;

use hyper::body::Body as HttpBody;
use tokio::sync::oneshot;
use wasmtime::component::ResourceTable;
use wasmtime::{PoolConcurrencyLimitError, Store, Trap};
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

use super::component::LoadedComponent;
use super::engine::EPOCH_TICK;
use super::limits::MemoryLimiter;
use super::pool::{ExecPool, Slot};
use super::state::{InstanceState, OutboundHooks};
use crate::telemetry::SPANS;
use tracing::Instrument;

/// The body type of every response the host sends (guest or host made).
pub type Body = HyperOutgoingBody;

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

/// A fresh store for one instance of `component`, with its limits set;
/// `regional` instances never wait on other regions for data (uploads).
fn new_store(
    component: &LoadedComponent,
    limits: InstanceLimits,
    regional: bool,
) -> Store<InstanceState> {
    let state = InstanceState {
        table: ResourceTable::new(),
        wasi: component.wasi_ctx(),
        http: WasiHttpCtx::new(),
        outbound: OutboundHooks {
            policy: component.outbound.clone(),
        },
        limiter: MemoryLimiter::new(limits.memory),
        kv: component.kv.instance(regional),
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
    let mut store = new_store(component, limits, true);
    component.pre.instantiate_async(&mut store).await?;
    Ok(())
}

/// Runs `component` on `request` in a fresh instance, on the pool's
/// threads; the instance holds `slot` until it ends.
pub async fn call<B>(
    component: &LoadedComponent,
    limits: InstanceLimits,
    instantiate_time: Histogram,
    pool: &ExecPool,
    slot: Slot,
    request: hyper::Request<B>,
) -> Result<http::Response<Body>, Failure>
where
    B: HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let started = Instant::now();
    // Whether an upload is new is a question for this region alone, so a
    // slow peer region never slows one down.
    let regional = request.method() == http::Method::POST;
    let mut store = new_store(component, limits, regional);

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
    let id = component.id.clone();

    // The guest keeps running in its own task after it has set the response
    // headers, streaming the body; the store lives until it returns.
    let task = pool.spawn(
        slot.lane,
        async move {
            let result = async {
                let proxy = instantiate(&pre, &mut store)
                    .instrument(
                        tracing::trace_span!(target: SPANS, "instantiate", edgeimg.component = %id),
                    )
                    .await?;
                instantiate_time.observe(started.elapsed().as_secs_f64());
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .instrument(
                        tracing::trace_span!(target: SPANS, "execute", edgeimg.component = %id),
                    )
                    .await
            }
            .await;
            let exceeded = store.data().limiter.exceeded;
            // The instance's memory goes back to Wasmtime's pool before the
            // slot is given up, so the slot's next holder finds it free.
            drop(store);
            drop(slot);
            (result, exceeded)
        }
        // The request's span, so the guest's spans (and its store calls) nest under it.
        .instrument(tracing::Span::current()),
    );

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

/// How long an instantiation waits for an instance that has just ended to
/// be torn down (its client may already have the whole response), rather
/// than answering `503 busy` when every instance is genuinely in use.
const TEARDOWN_GRACE: Duration = Duration::from_millis(100);

/// Instantiates `pre`, retrying for up to [`TEARDOWN_GRACE`] while Wasmtime's
/// instance pool is full.
async fn instantiate(
    pre: &ProxyPre<InstanceState>,
    store: &mut Store<InstanceState>,
) -> wasmtime::Result<Proxy> {
    let until = Instant::now() + TEARDOWN_GRACE;
    loop {
        match pre.instantiate_async(&mut *store).await {
            Err(e) if e.is::<PoolConcurrencyLimitError>() && Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            result => return result,
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

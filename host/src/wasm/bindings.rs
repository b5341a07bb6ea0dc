//! Host bindings for the Spin interfaces edgeimg implements itself
//! (world `edgeimg:host/spin-capabilities` in /wit). WASI and wasi:http come
//! from wasmtime-wasi and wasmtime-wasi-http.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "edgeimg:host/spin-capabilities",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::kv::handle::StoreHandle,
    },
});

//! Probe: a Spin (spin-sdk 5.x) test component for the runtime tests.
//!
//! It reports what it sees and misbehaves on request, chosen by the `op`
//! query parameter:
//!
//! | op | does |
//! |---|---|
//! | `hello` | `hello, world` as text/plain (the benchmark's trivial response) |
//! | (none) / `echo` | JSON: method, path, query, full URL (`uri`), all headers, body length |
//! | `kv-get`, `kv-set`, `kv-delete`, `kv-exists`, `kv-keys` | key-value on store `label` (default `default`), key `key`, value `value` |
//! | `var` | the component variable `name` |
//! | `trap` | executes `unreachable` |
//! | `panic` | panics |
//! | `loop` | spins forever |
//! | `alloc` | allocates and touches `mib` MiB |
//! | `residue` | grows linear memory by `mib` MiB, counts its non-zero bytes (a fresh instance must see none), then fills it with 0xA5 |
//! | `sleep` | sleeps `ms` milliseconds, then answers |
//! | `burn` | computes for `ms` milliseconds without a host call that yields |
//! | `fetch` | sends `GET url` (outbound HTTP) and answers its status or the error |
//! | `body` | answers the body length (the SDK buffers the whole body) |
//! | `headers` | `probe` as text/plain with a response header per `set=name:value` (repeatable) |
//!
//! Answers are JSON; failures of a host API answer 4xx/5xx with
//! `{"error": "<debug form of the SDK error>"}` so tests can assert the exact
//! error the host returned (e.g. `AccessDenied`).

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::Store;

#[http_component]
fn handle(req: Request) -> Response {
    let query = req.query().to_string();
    let param = |name: &str| query_param(&query, name);
    match param("op").as_deref().unwrap_or("echo") {
        "echo" => json(200, &echo(&req)),
        "hello" => Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body("hello, world\n")
            .build(),
        "kv-get" | "kv-set" | "kv-delete" | "kv-exists" | "kv-keys" => kv(&param),
        "var" => {
            let name = param("name").unwrap_or_default();
            match spin_sdk::variables::get(&name) {
                Ok(value) => json(200, &format!("{{\"value\":{}}}", quote(&value))),
                Err(e) => error(404, &format!("{e:?}")),
            }
        }
        "trap" => trap(),
        "panic" => panic!("probe asked to panic"),
        "loop" => spin_forever(),
        "alloc" => {
            let mib: usize = param("mib").and_then(|m| m.parse().ok()).unwrap_or(1);
            let mut buf = vec![0u8; mib << 20];
            // Touch every page so the memory is really committed.
            for i in (0..buf.len()).step_by(4096) {
                buf[i] = 1;
            }
            let sum: usize = buf.iter().step_by(4096).map(|b| *b as usize).sum();
            json(200, &format!("{{\"pages\":{sum}}}"))
        }
        "residue" => {
            let mib: usize = param("mib").and_then(|m| m.parse().ok()).unwrap_or(1);
            json(200, &format!("{{\"nonzero\":{}}}", residue(mib)))
        }
        "sleep" => {
            let ms: u64 = param("ms").and_then(|m| m.parse().ok()).unwrap_or(100);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            json(200, &format!("{{\"slept_ms\":{ms}}}"))
        }
        "burn" => {
            // Computes (never yields to the host) for `ms` milliseconds.
            let ms: u64 = param("ms").and_then(|m| m.parse().ok()).unwrap_or(100);
            let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
            let mut spins: u64 = 0;
            while std::time::Instant::now() < until {
                spins = std::hint::black_box(spins.wrapping_add(1));
            }
            json(200, &format!("{{\"burned_ms\":{ms},\"spins\":{spins}}}"))
        }
        "fetch" => {
            let url = param("url").unwrap_or_default();
            let sent = spin_sdk::http::run(spin_sdk::http::send::<_, Response>(Request::get(url)));
            match sent {
                Ok(response) => json(200, &format!("{{\"status\":{}}}", response.status())),
                Err(e) => error(502, &format!("{e:?}")),
            }
        }
        "body" => json(200, &format!("{{\"body_len\":{}}}", req.body().len())),
        "headers" => {
            let headers = query
                .split('&')
                .filter_map(|pair| pair.strip_prefix("set="))
                .filter_map(|v| {
                    let v = percent_decode(v);
                    let (name, value) = v.split_once(':')?;
                    Some((name.trim().to_string(), value.trim().to_string()))
                });
            let mut builder = Response::builder();
            builder.status(200).header("content-type", "text/plain");
            for (name, value) in headers {
                builder.header(name, value);
            }
            builder.body("probe").build()
        }
        other => error(400, &format!("unknown op {other}")),
    }
}

fn echo(req: &Request) -> String {
    let headers: Vec<String> = req
        .headers()
        .map(|(name, value)| {
            let value = value.as_str().unwrap_or("<binary>");
            format!("{}:{}", quote(name), quote(value))
        })
        .collect();
    format!(
        "{{\"method\":{},\"path\":{},\"query\":{},\"uri\":{},\"headers\":{{{}}},\"body_len\":{}}}",
        quote(&req.method().to_string()),
        quote(req.path()),
        quote(req.query()),
        quote(req.uri()),
        headers.join(","),
        req.body().len()
    )
}

fn kv(param: &dyn Fn(&str) -> Option<String>) -> Response {
    let label = param("label").unwrap_or_else(|| "default".into());
    let key = param("key").unwrap_or_default();
    let store = match Store::open(&label) {
        Ok(store) => store,
        Err(e) => return error(403, &format!("{e:?}")),
    };
    let result = match param("op").as_deref() {
        Some("kv-get") => store.get(&key).map(|v| match v {
            Some(v) => format!("{{\"value\":{}}}", quote(&String::from_utf8_lossy(&v))),
            None => "{\"value\":null}".into(),
        }),
        Some("kv-set") => {
            let value = param("value").unwrap_or_default();
            store
                .set(&key, value.as_bytes())
                .map(|()| "{\"ok\":true}".into())
        }
        Some("kv-delete") => store.delete(&key).map(|()| "{\"ok\":true}".into()),
        Some("kv-exists") => store.exists(&key).map(|e| format!("{{\"exists\":{e}}}")),
        _ => store.get_keys().map(|mut keys| {
            keys.sort();
            let keys: Vec<String> = keys.iter().map(|k| quote(k)).collect();
            format!("{{\"keys\":[{}]}}", keys.join(","))
        }),
    };
    match result {
        Ok(body) => json(200, &body),
        Err(e) => error(500, &format!("{e:?}")),
    }
}

#[cfg(target_arch = "wasm32")]
fn trap() -> Response {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> Response {
    std::process::abort()
}

fn spin_forever() -> Response {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

fn error(status: u16, message: &str) -> Response {
    json(status, &format!("{{\"error\":{}}}", quote(message)))
}

/// Grows linear memory by `mib` MiB (outside the allocator's heap), counts
/// the bytes there that are not zero, then leaves them all 0xA5: what a
/// later instance in the same slot would see if the host did not reset it.
#[cfg(target_arch = "wasm32")]
fn residue(mib: usize) -> usize {
    let pages = mib * 16;
    let first = core::arch::wasm32::memory_grow(0, pages);
    assert_ne!(first, usize::MAX, "memory.grow failed");
    let start = first * 65536;
    let len = pages * 65536;
    // SAFETY: the pages were just added by memory.grow; nothing else uses them.
    let bytes = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, len) };
    let nonzero = bytes.iter().filter(|b| **b != 0).count();
    bytes.fill(0xA5);
    nonzero
}

#[cfg(not(target_arch = "wasm32"))]
fn residue(_mib: usize) -> usize {
    0
}

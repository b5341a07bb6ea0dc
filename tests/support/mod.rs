//! Shared harness for the end-to-end tests: start a real `edgeimg up` on a
//! free 127.0.0.1 port, talk to it over HTTP/1.1, stop it on drop.
//!
//! ```ignore
//! #[path = "support/mod.rs"]
//! mod support;
//! use support::{HostBuilder, repo_path};
//!
//! let host = HostBuilder::new(repo_path("spin.toml")).arg("--timeout-ms").arg("2000").start();
//! let r = host.post("/upload", &[("content-type", "image/png")], &bytes);
//! assert_eq!(r.status, 201, "{}", r.text());
//! let id = r.json()["id"].as_str().unwrap().to_string();
//! ```
//!
//! - Each host gets its own temporary `--data-dir` (removed on drop) unless
//!   [`HostBuilder::data_dir`] names one (to share the compiled-code cache or
//!   stored data across restarts).
//! - The host's stderr (its log) is captured; [`Host::logs`] returns it and a
//!   failed start panics with it.
//! - [`Host`] is `Sync`: share `&host` with threads for concurrent requests.
//! - Components must be built first, e.g.
//!   `target/release/edgeimg build -f tests/probe/spin.toml`.

#![allow(dead_code)]

pub mod image;
pub mod nginx;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The edgeimg binary cargo built for these tests.
pub const EDGEIMG: &str = env!("CARGO_BIN_EXE_edgeimg");

/// How long a host may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// An absolute path below the repository root.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// `manifest` (relative to the repo), after checking that each of its `wasm`
/// files (names without `.wasm`) has been built.
pub fn built_manifest(manifest: &str, wasm: &[&str]) -> PathBuf {
    for name in wasm {
        let path = repo_path(&format!("target/wasm32-wasip2/release/{name}.wasm"));
        assert!(
            path.is_file(),
            "{} is missing: run `target/release/edgeimg build -f {manifest}`",
            path.display()
        );
    }
    repo_path(manifest)
}

/// The app's spin.toml, with its four components built.
pub fn app_manifest() -> PathBuf {
    built_manifest(
        "spin.toml",
        &[
            "edgeimg_upload",
            "edgeimg_fetch",
            "edgeimg_resize",
            "edgeimg_site",
        ],
    )
}

/// A real photo (JPEG or PNG) from the test corpus: `$EDGEIMG_CORPUS`, else
/// the folder `scripts/corpus.sh` fills on first use.
pub fn corpus(name: &str) -> Vec<u8> {
    let path = corpus_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where [`corpus`] reads `name` from (for tests that hand a file to a browser).
pub fn corpus_path(name: &str) -> PathBuf {
    let dir = match std::env::var_os("EDGEIMG_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let out = Command::new("bash")
                .arg(repo_path("scripts/corpus.sh"))
                .output()
                .expect("run scripts/corpus.sh");
            assert!(
                out.status.success(),
                "corpus.sh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        }
    };
    dir.join(name)
}

/// A folder removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path =
            std::env::temp_dir().join(format!("edgeimg-{tag}-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Configures and starts an `edgeimg up`.
pub struct HostBuilder {
    manifest: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    data_dir: Option<PathBuf>,
    port: u16,
}

impl HostBuilder {
    /// `edgeimg up -f <manifest> --listen 127.0.0.1:0`.
    pub fn new(manifest: impl AsRef<Path>) -> Self {
        Self {
            manifest: manifest.as_ref().to_path_buf(),
            args: Vec::new(),
            env: Vec::new(),
            data_dir: None,
            port: 0,
        }
    }

    /// Adds one command-line argument (e.g. `.arg("--timeout-ms").arg("500")`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds several command-line arguments.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the host (e.g. `SPIN_VARIABLE_TOKEN`).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Listens on this port of 127.0.0.1 rather than one the host picks
    /// (for hosts whose address others must know before they start).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Uses `dir` as `--data-dir` and keeps it after the host stops.
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.data_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    fn spawn(&self, data_dir: &Path) -> Child {
        Command::new(EDGEIMG)
            .arg("up")
            .arg("-f")
            .arg(&self.manifest)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(data_dir)
            // Every test host shares one compiled-code cache: a component is
            // compiled once per suite, not once per host.
            .env(
                "EDGEIMG_COMPILED_CACHE_DIR",
                repo_path("target/test-compiled"),
            )
            // Eager variants (a dozen encodes per upload, AVIF among them)
            // only where a test asks for them: `.env("EDGEIMG_EAGER", "on")`.
            .env("EDGEIMG_EAGER", "off")
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("EDGEIMG_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn edgeimg")
    }

    /// Starts the host and waits until `/healthz` answers; panics with the
    /// host's log if it does not come up.
    pub fn start(self) -> Host {
        let temp = match &self.data_dir {
            Some(_) => None,
            None => Some(TempDir::new("data")),
        };
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| temp.as_ref().unwrap().path().to_path_buf());
        let started = Instant::now();
        let mut child = self.spawn(&data_dir);
        let logs = capture(child.stderr.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("edgeimg listening on http://") {
                    let _ = tx.send(
                        addr.trim()
                            .parse::<SocketAddr>()
                            .expect("listening address"),
                    );
                }
            }
        });
        let addr = match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "edgeimg did not start (exit: {status:?}); its log:\n{}",
                    logs.lock().unwrap()
                );
            }
        };
        let host = Host {
            addr,
            child: Some(child),
            logs,
            _data_dir: temp,
            data_dir,
            started,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match host.try_request("GET", "/healthz", &[], b"") {
                Ok(r) if r.status == 200 => break,
                _ if Instant::now() > deadline => {
                    panic!("/healthz never answered 200; log:\n{}", host.logs())
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        host
    }

    /// Expects the host to refuse to start; returns its stderr.
    pub fn start_err(self) -> String {
        let temp = TempDir::new("data");
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| temp.path().to_path_buf());
        let mut child = self.spawn(&data_dir);
        let mut stdout = String::new();
        let mut stderr = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "edgeimg started although it should not have; stdout:\n{stdout}"
        );
        assert!(
            !stdout.contains("listening"),
            "edgeimg bound its port before failing:\n{stdout}"
        );
        stderr
    }
}

fn capture(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let logs = Arc::new(Mutex::new(String::new()));
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut logs = sink.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    logs
}

/// A running `edgeimg up`; killed on drop.
pub struct Host {
    pub addr: SocketAddr,
    child: Option<Child>,
    logs: Arc<Mutex<String>>,
    _data_dir: Option<TempDir>,
    data_dir: PathBuf,
    /// When the process was spawned.
    pub started: Instant,
}

impl Host {
    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The host's log (stderr) so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.request("POST", path, headers, body)
    }

    pub fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("DELETE", path, headers, b"")
    }

    /// Uploads `bytes` (raw body); asserts 201 or 200 and returns the id.
    pub fn upload(&self, bytes: &[u8]) -> String {
        self.upload_with(bytes, &[("content-type", "application/octet-stream")])
    }

    /// Uploads `bytes` (raw body) with `headers`, e.g. a token; asserts 201
    /// or 200 and returns the id.
    pub fn upload_with(&self, bytes: &[u8], headers: &[(&str, &str)]) -> String {
        let r = self.post("/upload", headers, bytes);
        assert!(
            r.status == 201 || r.status == 200,
            "upload: {} {}",
            r.status,
            r.text()
        );
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// One sample of `/metrics`, named with its labels as exposed (e.g.
    /// `edgeimg_exec_busy_slots` or `edgeimg_kv_cache_hits_total{store="cache",tier="redis"}`);
    /// 0 when absent.
    pub fn metric(&self, sample: &str) -> f64 {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0.0)
    }

    /// Sends one request (with `Content-Length`); panics on I/O errors.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}; host log:\n{}", self.logs()))
    }

    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        send(self.addr, method, path, headers, Body::Fixed(body))
    }

    /// Sends the body with `Transfer-Encoding: chunked` in `chunk`-byte pieces.
    pub fn request_chunked(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        chunk: usize,
    ) -> Response {
        send(self.addr, method, path, headers, Body::Chunked(body, chunk))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}; host log:\n{}", self.logs()))
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        signal(&child, "TERM");
        child.wait().expect("wait for edgeimg")
    }

    /// Sends a signal (`"TERM"`, `"INT"`, `"KILL"`) without waiting.
    pub fn signal(&self, name: &str) {
        signal(self.child.as_ref().unwrap(), name);
    }

    /// Waits for the process to exit (after [`Host::signal`]).
    pub fn wait(mut self) -> ExitStatus {
        self.child.take().unwrap().wait().expect("wait for edgeimg")
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "kill -{name} {}",
        child.id()
    );
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// `error.code` of a host or component JSON error.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// A request body: whole (with `Content-Length`) or chunked in pieces.
pub enum Body<'a> {
    Fixed(&'a [u8]),
    Chunked(&'a [u8], usize),
}

/// One request to `addr` from source address `from` (another loopback
/// address, e.g. 127.0.0.7, so a server can tell this client from a proxy
/// on 127.0.0.1), on a fresh connection.
pub fn request_from(
    from: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Response> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        socket.connect(addr).await
    })?;
    let stream = stream.into_std()?;
    stream.set_nonblocking(false)?;
    send_on(stream, addr, method, path, headers, Body::Fixed(b""))
}

/// One request on a fresh connection (`Connection: close`), read to EOF.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Body<'_>,
) -> std::io::Result<Response> {
    send_on(TcpStream::connect(addr)?, addr, method, path, headers, body)
}

fn send_on(
    mut stream: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Body<'_>,
) -> std::io::Result<Response> {
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    stream.set_nodelay(true)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let mut payload = Vec::new();
    match body {
        Body::Fixed(bytes) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
            payload.extend_from_slice(head.as_bytes());
            payload.extend_from_slice(bytes);
        }
        Body::Chunked(bytes, size) => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            payload.extend_from_slice(head.as_bytes());
            for piece in bytes.chunks(size.max(1)) {
                payload.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                payload.extend_from_slice(piece);
                payload.extend_from_slice(b"\r\n");
            }
            payload.extend_from_slice(b"0\r\n\r\n");
        }
    }
    // The server may answer (e.g. 413) and close before reading everything:
    // a failed write is fine as long as a response can be read.
    let write_error = stream.write_all(&payload).err();
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e)
                if !raw.is_empty()
                    && matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) =>
            {
                break
            }
            Err(e) => return Err(write_error.unwrap_or(e)),
        }
    }
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head_only: bool) -> std::io::Result<Response> {
    let bad = |what: &str| {
        std::io::Error::new(
            ErrorKind::InvalidData,
            format!(
                "{what}: {:?}",
                String::from_utf8_lossy(&raw[..raw.len().min(200)])
            ),
        )
    };
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad("non-UTF-8 head"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest).ok_or_else(|| bad("bad chunked body"))?
    } else {
        rest.to_vec()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

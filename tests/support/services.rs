//! Real storage services for tests: `redis-server` and moto's S3 server,
//! each started on a free loopback port and killed on drop.
//!
//! A missing binary fails the test with how to install it; tests never skip.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "ports.rs"]
mod ports;
pub use ports::free_port;

fn find_binary(name: &str, install: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not on PATH; install it with `{install}` (scripts/install-deps does)"
            )
        })
}

/// Sends one raw HTTP/1.1 request and returns the status code.
pub fn http_status(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12])
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    Ok(status)
}

fn wait_until(what: &str, child: &mut Child, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited during start-up: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `redis-server` without persistence.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    pub fn start() -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let bin = find_binary("redis-server", "apt-get install -y redis-server");
        let mut child = Command::new(bin)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server");
        let port = self.port;
        wait_until("redis-server", &mut child, || ping(port));
        self.child = Some(child);
    }

    /// Kills the server (an outage).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// moto's S3-compatible server with one bucket.
pub struct MotoS3 {
    child: Child,
    pub port: u16,
    pub bucket: String,
}

impl MotoS3 {
    pub fn start() -> Self {
        let bin = find_binary("moto_server", "pip install 'moto[server]'");
        let port = free_port();
        let mut child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        wait_until("moto_server", &mut child, || {
            http_status(port, "GET", "/").is_ok()
        });
        let bucket = "edgeimg-test".to_string();
        let status = http_status(port, "PUT", &format!("/{bucket}")).expect("creating the bucket");
        assert_eq!(status, 200, "moto refused to create the bucket");
        Self {
            child,
            port,
            bucket,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The OpenDAL `s3` options that reach this server.
    pub fn opendal_options(&self) -> Vec<(String, String)> {
        [
            ("bucket", self.bucket.as_str()),
            ("endpoint", self.endpoint().as_str()),
            ("region", "us-east-1"),
            ("access_key_id", "test"),
            ("secret_access_key", "test"),
            ("disable_config_load", "true"),
            ("disable_ec2_metadata", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The same, as runtime-config TOML lines.
    pub fn runtime_config_lines(&self) -> String {
        self.opendal_options()
            .iter()
            .map(|(k, v)| format!("{k} = {v:?}\n"))
            .collect()
    }
}

impl Drop for MotoS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OTLP/HTTP trace receiver (`otlp_receiver.py`, decoding with
/// opentelemetry-proto from PyPI) that keeps every span it is sent.
pub struct OtlpReceiver {
    child: Child,
    pub port: u16,
    spans: PathBuf,
}

impl OtlpReceiver {
    pub fn start() -> Self {
        let port = free_port();
        let spans =
            std::env::temp_dir().join(format!("edgeimg-otlp-{}-{port}.jsonl", std::process::id()));
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/support/otlp_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&spans)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python3");
        let what = "the OTLP receiver (needs `pip install opentelemetry-proto`; scripts/install-deps does)";
        wait_until(what, &mut child, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self { child, port, spans }
    }

    /// `http://127.0.0.1:PORT`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every span received so far, as the receiver wrote it (trace_id,
    /// span_id, parent_span_id, name, kind, attributes, service, links).
    pub fn spans(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.spans)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.spans);
    }
}

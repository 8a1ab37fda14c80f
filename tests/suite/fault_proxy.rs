//! The test suite's HTTP proxy, on loopback, between the CLI and the emulator. It can:
//!
//! - inject faults: at the configured rate a request meets a throttling error in the
//!   calling service's own protocol (EC2's `RequestLimitExceeded`, a JSON service's
//!   `ThrottlingException`, a Query service's `Throttling`, S3's `SlowDown`), an HTTP 500
//!   or 503, a slow answer, a connection reset before the request reaches the emulator,
//!   or — the hard case — a reset after the emulator has carried it out;
//! - behave like real AWS where the emulators are lenient (`realism`): eventual
//!   consistency, IAM propagation, lingering network interfaces, request token buckets;
//! - record every request for the API conformance check (`conformance`).
//!
//! Every request gets its own upstream connection and `Connection: close`, so framing
//! never spans requests. Faults are drawn from a seeded generator: a failing run can be
//! repeated.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::conformance::Recorder;
use crate::realism::{Behaviour, Realism, RealismState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Throttle,
    Status500,
    Status503,
    Slow,
    ResetBeforeUpstream,
    ResetAfterUpstream,
}

const FAULTS: [Fault; 6] = [
    Fault::Throttle,
    Fault::Status500,
    Fault::Status503,
    Fault::Slow,
    Fault::ResetBeforeUpstream,
    Fault::ResetAfterUpstream,
];

#[derive(Default)]
struct State {
    rng: u64,
    requests: usize,
    injected: BTreeMap<Fault, usize>,
}

/// What the proxy does to requests.
struct Layers {
    percent: u64,
    faults: &'static [Fault],
    delay: Duration,
    realism: Option<Mutex<RealismState>>,
    recorder: Option<Recorder>,
}

pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    layers: Arc<Layers>,
    stop: Arc<AtomicBool>,
}

impl Layers {
    /// Passes every request on untouched; records it for the conformance gate when the
    /// run records requests.
    fn pass_through() -> Layers {
        Layers {
            percent: 0,
            faults: &FAULTS,
            delay: Duration::ZERO,
            realism: None,
            recorder: Recorder::from_env(),
        }
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) injecting a fault into
    /// `percent` of requests, on a runtime of its own (the tests block theirs).
    pub fn start(upstream: &str, percent: u64, seed: u64) -> FaultProxy {
        let layers = Layers {
            percent,
            delay: Duration::from_millis(1500),
            ..Layers::pass_through()
        };
        FaultProxy::start_with(upstream, seed, layers)
    }

    /// Every answer delayed by `delay`: an apply slowed enough to interrupt mid-way.
    pub fn slow(upstream: &str, delay: Duration) -> FaultProxy {
        let layers = Layers {
            percent: 100,
            faults: &[Fault::Slow],
            delay,
            ..Layers::pass_through()
        };
        FaultProxy::start_with(upstream, 1, layers)
    }

    /// A proxy that only records requests for the run's conformance check (when the run
    /// records them): the path of a test's own SDK calls.
    pub fn recording(upstream: &str) -> FaultProxy {
        FaultProxy::start_with(upstream, 1, Layers::pass_through())
    }

    /// A proxy that only records requests, to `dir` (not the run's conformance records).
    pub fn recording_to(upstream: &str, dir: &std::path::Path) -> FaultProxy {
        let layers = Layers {
            recorder: Recorder::to(dir),
            ..Layers::pass_through()
        };
        FaultProxy::start_with(upstream, 1, layers)
    }

    /// A proxy that behaves like real AWS where the emulator is lenient (`realism`).
    pub fn realistic(upstream: &str, realism: Realism) -> FaultProxy {
        let seed = realism.seed;
        let layers = Layers {
            realism: Some(Mutex::new(RealismState::new(realism))),
            ..Layers::pass_through()
        };
        FaultProxy::start_with(upstream, seed, layers)
    }

    fn start_with(upstream: &str, seed: u64, layers: Layers) -> FaultProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State {
            rng: seed | 1,
            ..State::default()
        }));
        let layers = Arc::new(layers);
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, layers2, stop2) = (Arc::clone(&state), Arc::clone(&layers), Arc::clone(&stop));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("listener");
                while !stop2.load(Ordering::Relaxed) {
                    let accepted =
                        tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
                    let Ok(Ok((client, _))) = accepted else {
                        continue;
                    };
                    let fault = draw(&state2, layers2.percent, layers2.faults);
                    let upstream = upstream.clone();
                    let layers = Arc::clone(&layers2);
                    tokio::spawn(async move {
                        let _ = serve(client, &upstream, fault, &layers).await;
                    });
                }
            });
        });
        FaultProxy {
            url,
            state,
            layers,
            stop,
        }
    }

    pub fn requests(&self) -> usize {
        self.state.lock().map(|s| s.requests).unwrap_or(0)
    }

    pub fn injected(&self) -> BTreeMap<Fault, usize> {
        self.state
            .lock()
            .map(|s| s.injected.clone())
            .unwrap_or_default()
    }

    pub fn total_injected(&self) -> usize {
        self.injected().values().sum()
    }

    /// How often each real-AWS behaviour was played (empty without `realistic`).
    pub fn realism_counts(&self) -> BTreeMap<Behaviour, usize> {
        self.layers
            .realism
            .as_ref()
            .and_then(|r| r.lock().ok().map(|r| r.counts()))
            .unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One request per connection: whether and how it fails is decided when it arrives.
fn draw(state: &Mutex<State>, percent: u64, faults: &[Fault]) -> Option<Fault> {
    let mut state = state.lock().ok()?;
    state.requests += 1;
    if percent == 0 {
        return None;
    }
    let roll = next(&mut state.rng) % 100;
    let which = (next(&mut state.rng) % faults.len() as u64) as usize;
    if roll >= percent {
        return None;
    }
    let fault = faults[which];
    *state.injected.entry(fault).or_default() += 1;
    Some(fault)
}

/// xorshift64*: plenty for spreading faults, and repeatable from the seed.
pub fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

pub struct Request {
    pub head: Vec<(String, String)>,
    pub start_line: String,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The service from the SigV4 credential scope (`.../us-east-1/ec2/aws4_request`).
    pub fn service(&self) -> String {
        self.header("authorization")
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|cred| cred.split(['/', ',']).nth(3))
            .unwrap_or("")
            .to_string()
    }

    pub fn method(&self) -> &str {
        self.start_line.split(' ').next().unwrap_or("")
    }

    /// The request target: path and query.
    pub fn target(&self) -> &str {
        self.start_line.split(' ').nth(1).unwrap_or("/")
    }

    /// Form parameters of a Query-protocol request (EC2, IAM, RDS, ...), decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        let is_form = self
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Vec::new();
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (decode(k), decode(v)),
                None => (decode(pair), String::new()),
            })
            .collect()
    }

    /// The operation of a JSON-protocol request (`X-Amz-Target: TrentService.CreateKey`).
    pub fn json_operation(&self) -> Option<&str> {
        self.header("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start_line).into_bytes();
        for (k, v) in &self.head {
            if k.eq_ignore_ascii_case("connection") {
                continue;
            }
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

async fn serve(
    client: TcpStream,
    upstream: &str,
    fault: Option<Fault>,
    layers: &Layers,
) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let mut client = client.into_inner();
    if let Some(recorder) = &layers.recorder {
        recorder.record(&request);
    }
    match fault {
        Some(Fault::Throttle) => return client.write_all(&throttled(&request)).await,
        Some(Fault::Status500) => {
            return client
                .write_all(&status(500, "Internal Server Error"))
                .await;
        }
        Some(Fault::Status503) => {
            return client.write_all(&status(503, "Service Unavailable")).await;
        }
        Some(Fault::ResetBeforeUpstream) => return reset(client),
        Some(Fault::ResetAfterUpstream) => {
            forward(&request, upstream, layers).await?;
            return reset(client);
        }
        Some(Fault::Slow) => tokio::time::sleep(layers.delay).await,
        None => {}
    }
    let answer = forward(&request, upstream, layers).await?;
    client.write_all(&answer).await
}

/// The answer to `request`: the realism layer's own, or the emulator's (as the realism
/// layer rewrites it).
async fn forward(request: &Request, upstream: &str, layers: &Layers) -> std::io::Result<Vec<u8>> {
    if let Some(realism) = &layers.realism {
        let refused = realism.lock().ok().and_then(|mut r| r.before(request));
        if let Some(answer) = refused {
            return Ok(answer);
        }
    }
    let answer = send_upstream(request, upstream).await?;
    Ok(match &layers.realism {
        Some(realism) => match realism.lock() {
            Ok(mut r) => r.after(request, answer),
            Err(_) => answer,
        },
        None => answer,
    })
}

async fn read_request(client: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut start_line = String::new();
    if client.read_line(&mut start_line).await? == 0 {
        return Ok(None);
    }
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if client.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            head.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut request = Request {
        head,
        start_line: start_line.trim_end().to_string(),
        body: Vec::new(),
    };
    if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().unwrap_or(0);
        request.body.resize(length, 0);
        client.read_exact(&mut request.body).await?;
    } else if request
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        // Passed on as received: the chunk sizes, data and the closing chunk.
        loop {
            let mut size_line = String::new();
            client.read_line(&mut size_line).await?;
            request.body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            client.read_exact(&mut chunk).await?;
            request.body.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    }
    Ok(Some(request))
}

async fn send_upstream(request: &Request, upstream: &str) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request.bytes()).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    Ok(close_after(answer))
}

/// The answer with `Connection: close`, as the proxy closes the client connection after it.
fn close_after(answer: Vec<u8>) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer;
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&answer[end + 4..]);
    bytes
}

/// Drops the connection with a TCP reset rather than an orderly close.
fn reset(client: TcpStream) -> std::io::Result<()> {
    client.set_zero_linger()?;
    drop(client);
    Ok(())
}

fn status(code: u16, reason: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

/// A whole HTTP answer with `body`.
pub fn answer(code: u16, content_type: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code} Error\r\nContent-Type: {content_type}\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A throttling error as the calling service's protocol spells it.
fn throttled(request: &Request) -> Vec<u8> {
    let service = request.service();
    if request.header("x-amz-target").is_some() {
        answer(
            400,
            "application/x-amz-json-1.1",
            "x-amzn-ErrorType: ThrottlingException\r\n",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        )
    } else if service == "ec2" {
        crate::realism::ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.")
    } else if service == "s3" {
        answer(
            503,
            "application/xml",
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>",
        )
    } else if request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        answer(
            400,
            "text/xml",
            "",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>",
        )
    } else {
        answer(
            429,
            "application/json",
            "x-amzn-ErrorType: ThrottlingException\r\n",
            r#"{"message":"Rate exceeded"}"#,
        )
    }
}

/// An HTTP answer split into its head and its body (chunked bodies decoded).
pub fn split_answer(answer: &[u8]) -> Option<(String, Vec<u8>)> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let raw = &answer[end + 4..];
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if !chunked {
        return Some((head, raw.to_vec()));
    }
    let mut body = Vec::new();
    let mut rest = raw;
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.trim().split(';').next()?, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
    Some((head, body))
}

/// `head` with `body`, framed by Content-Length.
pub fn join_answer(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length:") || lower.starts_with("transfer-encoding:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The status code of an HTTP answer.
pub fn status_of(answer: &[u8]) -> u16 {
    String::from_utf8_lossy(&answer[..answer.len().min(16)])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

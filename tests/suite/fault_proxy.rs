//! A fault-injecting HTTP proxy for tests, on loopback, between the CLI and the emulator.
//!
//! Each request either goes through untouched or, at the configured rate, meets one of:
//! a throttling error in the calling service's own protocol (EC2's `RequestLimitExceeded`,
//! a JSON service's `ThrottlingException`, a Query service's `Throttling`, S3's
//! `SlowDown`), an HTTP 500 or 503, a slow answer, a connection reset before the request
//! reaches the emulator, or — the hard case — a reset after the emulator has carried it
//! out, so the client never learns that it worked.
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

pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) injecting a fault into
    /// `percent` of requests, on a runtime of its own (the tests block theirs).
    pub fn start(upstream: &str, percent: u64, seed: u64) -> FaultProxy {
        FaultProxy::start_with(
            upstream,
            percent,
            seed,
            &FAULTS,
            Duration::from_millis(1500),
        )
    }

    /// Every answer delayed by `delay`: an apply slowed enough to interrupt mid-way.
    pub fn slow(upstream: &str, delay: Duration) -> FaultProxy {
        FaultProxy::start_with(upstream, 100, 1, &[Fault::Slow], delay)
    }

    fn start_with(
        upstream: &str,
        percent: u64,
        seed: u64,
        faults: &'static [Fault],
        delay: Duration,
    ) -> FaultProxy {
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
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, stop2) = (Arc::clone(&state), Arc::clone(&stop));
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
                    let fault = draw(&state2, percent, faults);
                    let upstream = upstream.clone();
                    tokio::spawn(async move {
                        let _ = serve(client, &upstream, fault, delay).await;
                    });
                }
            });
        });
        FaultProxy { url, state, stop }
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
    // xorshift64*: plenty for spreading faults, and repeatable from the seed.
    let mut next = || {
        state.rng ^= state.rng >> 12;
        state.rng ^= state.rng << 25;
        state.rng ^= state.rng >> 27;
        state.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let roll = next() % 100;
    let which = (next() % faults.len() as u64) as usize;
    if roll >= percent {
        return None;
    }
    let fault = faults[which];
    *state.injected.entry(fault).or_default() += 1;
    Some(fault)
}

struct Request {
    head: Vec<(String, String)>,
    start_line: String,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The service from the SigV4 credential scope (`.../us-east-1/ec2/aws4_request`).
    fn service(&self) -> String {
        self.header("authorization")
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|cred| cred.split(['/', ',']).nth(3))
            .unwrap_or("")
            .to_string()
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
    delay: Duration,
) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let Some(request) = read_request(&mut client).await? else {
        return Ok(());
    };
    let mut client = client.into_inner();
    match fault {
        Some(Fault::Throttle) => client.write_all(&throttled(&request)).await,
        Some(Fault::Status500) => {
            client
                .write_all(&status(500, "Internal Server Error"))
                .await
        }
        Some(Fault::Status503) => client.write_all(&status(503, "Service Unavailable")).await,
        Some(Fault::ResetBeforeUpstream) => reset(client),
        Some(Fault::ResetAfterUpstream) => {
            forward(&request, upstream).await?;
            reset(client)
        }
        Some(Fault::Slow) => {
            tokio::time::sleep(delay).await;
            let answer = forward(&request, upstream).await?;
            client.write_all(&answer).await
        }
        None => {
            let answer = forward(&request, upstream).await?;
            client.write_all(&answer).await
        }
    }
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

async fn forward(request: &Request, upstream: &str) -> std::io::Result<Vec<u8>> {
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

/// A throttling error as the calling service's protocol spells it.
fn throttled(request: &Request) -> Vec<u8> {
    let service = request.service();
    let (code, content_type, extra, body) = if request.header("x-amz-target").is_some() {
        (
            400,
            "application/x-amz-json-1.1",
            "x-amzn-ErrorType: ThrottlingException\r\n",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
        )
    } else if service == "ec2" {
        (
            503,
            "text/xml",
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>".to_string(),
        )
    } else if service == "s3" {
        (
            503,
            "application/xml",
            "",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>".to_string(),
        )
    } else if request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    {
        (
            400,
            "text/xml",
            "",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>".to_string(),
        )
    } else {
        (
            429,
            "application/json",
            "x-amzn-ErrorType: ThrottlingException\r\n",
            r#"{"message":"Rate exceeded"}"#.to_string(),
        )
    };
    format!(
        "HTTP/1.1 {code} Throttled\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

//! The API conformance gate's two halves in the suite:
//!
//! - `Recorder`: every test proxy writes each request it carries (service, method, path,
//!   the headers a request member can live in, body) as one JSON line under
//!   `$SECINFRA_CONFORMANCE_DIR`. After the integration run, `scripts/test.sh` has
//!   `scripts/conformance.py` check every recorded request against AWS's published API
//!   models (botocore's, pinned in the emulator venv) and fails the run on a violation.
//!   The records can hold secret values (a generated password is sent to CreateSecret):
//!   the directory is private to the run, the checker never prints a value, and the run
//!   deletes the records once checked.
//! - tests that the checker catches a planted bad value and that the blueprint limits
//!   (`secinfra::limits`) agree with the same models.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::fault_proxy::Request;

/// Headers that carry no request member: signing, framing, the SDK's own bookkeeping.
const FRAMING: [&str; 14] = [
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "user-agent",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "host",
    "content-length",
    "connection",
    "accept",
    "accept-encoding",
    "expect",
];

pub struct Recorder {
    file: Mutex<std::fs::File>,
}

static PROXIES: AtomicUsize = AtomicUsize::new(0);

impl Recorder {
    /// A recorder writing under `$SECINFRA_CONFORMANCE_DIR`, when it is set.
    pub fn from_env() -> Option<Recorder> {
        let dir = PathBuf::from(std::env::var_os("SECINFRA_CONFORMANCE_DIR")?);
        Recorder::to(&dir)
    }

    pub fn to(dir: &Path) -> Option<Recorder> {
        std::fs::create_dir_all(dir).ok()?;
        let name = format!(
            "requests-{}-{}.jsonl",
            std::process::id(),
            PROXIES.fetch_add(1, Ordering::Relaxed)
        );
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(dir.join(name)).ok()?;
        Some(Recorder {
            file: Mutex::new(file),
        })
    }

    pub fn record(&self, request: &Request) {
        let headers: serde_json::Map<String, serde_json::Value> = request
            .head
            .iter()
            .filter(|(k, _)| !FRAMING.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(k, v)| (k.to_ascii_lowercase(), serde_json::Value::String(v.clone())))
            .collect();
        let line = serde_json::json!({
            "service": request.service(),
            "method": request.method(),
            "target": request.target(),
            "headers": headers,
            "body_hex": hex::encode(&request.body),
        });
        if let Ok(mut file) = self.file.lock() {
            let _ = writeln!(file, "{line}");
        }
    }
}

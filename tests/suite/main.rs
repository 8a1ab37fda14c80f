//! secinfra's test suite, compiled into one binary (the AWS SDK makes each test binary
//! expensive to link).
//!
//! - `cli`: the binary against blueprint files; no AWS, no emulator.
//! - `emulator`: the binary against a local AWS emulator, verified with independent
//!   describe calls through the official SDK. Needs `SECINFRA_TEST_ENDPOINT` (set by
//!   `scripts/test.sh`, which starts the emulator). secinfra reaches the emulator through
//!   `fault_proxy`, which plays real AWS's behaviour (`realism`), injects faults where a
//!   test asks, and records requests for the API conformance gate (`conformance`).

mod audit;
mod cli;
mod conformance;
mod emulator;
mod fault_proxy;
mod hung;
mod realism;
mod schema;
mod support;
mod unavailable;

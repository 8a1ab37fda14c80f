#!/usr/bin/env bash
# secinfra's whole test run, as CI runs it (.ci/run): formatting, lints, unit and CLI
# tests, then the integration tests against a fresh local AWS emulator (installed pinned
# into a git-ignored venv on first use, started here, stopped by PID at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

# One target directory for tests and demo, outside the clone, so a fresh clone on this
# machine reuses earlier build artefacts (cargo's fingerprints keep it correct).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secinfra/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - started))" >&2; }

if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --locked --no-fail-fast "$@"; }
  only_unit=(-E 'not test(/^emulator::/)')
  only_emulator=(-E 'test(/^emulator::/)')
else
  echo "cargo-nextest not found; using cargo test" >&2
  run_tests() { cargo test --locked --no-fail-fast "$@"; }
  only_unit=(-- --skip emulator::)
  only_emulator=(-- emulator::)
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "unit and CLI tests (no emulator)"
run_tests "${only_unit[@]}"

step "starting a fresh emulator"
export EMULATOR_STATE_DIR="$root/.emulator/test-$$"
stop_emulator() { scripts/emulator.sh stop || true; rm -rf "$EMULATOR_STATE_DIR"; }
trap stop_emulator EXIT
SECINFRA_TEST_ENDPOINT="$(scripts/emulator.sh start)"
export SECINFRA_TEST_ENDPOINT

step "integration tests against $SECINFRA_TEST_ENDPOINT"
run_tests "${only_emulator[@]}"

step "all tests passed"

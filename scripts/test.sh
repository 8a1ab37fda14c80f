#!/usr/bin/env bash
# secinfra's whole test run, as CI runs it (.ci/run): formatting, lints, unit and CLI
# tests, then the integration tests against a fresh local AWS emulator (installed pinned
# into a git-ignored venv on first use, started here, stopped by PID at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

source scripts/cargo-env.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - started))" >&2; }

if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --locked --no-fail-fast "$@"; }
  only_unit=(-E 'not test(/^emulator::/)')
  on_moto=(-E 'test(/^emulator::/)')
  on_localstack=(-E 'test(/^emulator::/) - test(/^emulator::moto_only::/)')
else
  echo "cargo-nextest not found; using cargo test" >&2
  run_tests() { cargo test --locked --no-fail-fast "$@"; }
  only_unit=(-- --skip emulator::)
  on_moto=(-- emulator::)
  on_localstack=(-- emulator:: --skip emulator::moto_only::)
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "unit and CLI tests (no emulator)"
run_tests "${only_unit[@]}"

# The integration suite against each emulator in turn, each fresh, selected by endpoint
# alone. Tests LocalStack's community edition cannot run here live in emulator::moto_only
# (see the README's support matrix).
backends="${SECINFRA_TEST_BACKENDS:-moto localstack}"
running=""
stop_emulators() {
  local b
  for b in $running; do
    EMULATOR_STATE_DIR="$root/.emulator/test-$b-$$" scripts/emulator.sh --backend "$b" stop || true
    rm -rf "$root/.emulator/test-$b-$$"
  done
}
trap stop_emulators EXIT
for backend in $backends; do
  step "starting a fresh $backend emulator"
  export EMULATOR_STATE_DIR="$root/.emulator/test-$backend-$$"
  running="$running $backend"
  SECINFRA_TEST_ENDPOINT="$(scripts/emulator.sh --backend "$backend" start)"
  export SECINFRA_TEST_ENDPOINT
  step "integration tests on $backend at $SECINFRA_TEST_ENDPOINT"
  began=$SECONDS
  if [[ "$backend" == moto ]]; then
    run_tests "${on_moto[@]}"
  else
    run_tests "${on_localstack[@]}"
  fi
  echo "integration tests on $backend: $((SECONDS - began)) s" >&2
  scripts/emulator.sh --backend "$backend" stop
done

step "all tests passed"

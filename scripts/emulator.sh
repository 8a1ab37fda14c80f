#!/usr/bin/env bash
# Local AWS emulators for secinfra's integration tests and demo.
#
#   scripts/emulator.sh [--backend moto|localstack] start    install (once) and start on 127.0.0.1
#   scripts/emulator.sh [--backend ...] stop                 stop the emulator this script started (by PID)
#   scripts/emulator.sh [--backend ...] status               print the endpoint if running
#   scripts/emulator.sh [--backend ...] env                  print `export AWS_...` lines for a shell to eval
#   scripts/emulator.sh [--backend ...] install              install (once) and print the venv's python
#   scripts/emulator.sh placeholder-lambdas NAME...          do-nothing Lambda functions (rotation targets)
#   scripts/emulator.sh emulator-blueprint IN OUT            copy IN to OUT without what the emulator lacks
#
# The backend defaults to moto (EMULATOR_BACKEND also selects it). Each is pinned and
# installed into its own git-ignored venv: moto into .venv-moto/ with the machine's
# python3; LocalStack's community runtime into .venv-localstack/ with Python 3.13 (it
# needs 3.13; found as $PYTHON313, python3.13 on PATH, or pyenv's 3.13). There is no Docker
# here, so LocalStack runs on the host, and neither emulator runs Lambda functions (moto is
# switched to stubs).
#
# State lives in .emulator/<backend>/ (EMULATOR_STATE_DIR picks another directory, so the
# test run and the demo each get fresh emulators of their own): pid, port, endpoint, log.
set -euo pipefail

MOTO_VERSION="5.2.5"
# moto's own dependencies left open would move under us: botocore also carries the AWS API
# models the conformance gate checks requests against (scripts/conformance.py), and regex
# its patterns.
BOTOCORE_VERSION="1.44.8"
MOTO_PINS=(
  "moto[server]==$MOTO_VERSION" "botocore==$BOTOCORE_VERSION" "boto3==$BOTOCORE_VERSION"
  "regex==2026.11.19"
)
LOCALSTACK_VERSION="2026.3.0"
# localstack-core 2026.3.0 alone pulls incompatible newer libraries; this set works.
LOCALSTACK_PINS=(
  "localstack-core[runtime]==$LOCALSTACK_VERSION" "cbor2==5.6.5" "cryptography==43.0.3"
  "pyopenssl==24.2.1" "service-identity==24.2.0" "joserfc==1.0.4"
)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backend="${EMULATOR_BACKEND:-moto}"
if [[ "${1:-}" == "--backend" ]]; then
  backend="${2:-}"
  shift 2
fi
case "$backend" in
  moto | localstack) ;;
  *) echo "emulator.sh: unknown backend '$backend' (moto or localstack)" >&2; exit 1 ;;
esac
state="${EMULATOR_STATE_DIR:-$root/.emulator/$backend}"
venv="$root/.venv-$backend"
python="${PYTHON:-python3}"

die() { echo "emulator.sh: $*" >&2; exit 1; }

installed() {
  local package="$1" version="$2"
  [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c \
    "import importlib.metadata as m, sys; sys.exit(m.version('$package') != '$version')" 2>/dev/null
}

install_moto() {
  installed moto "$MOTO_VERSION" && installed botocore "$BOTOCORE_VERSION" \
    && [[ -x "$venv/bin/moto_server" ]] && return
  command -v "$python" >/dev/null || die "$python not found; install Python 3 (3.9+) or set PYTHON"
  echo "emulator.sh: installing moto[server]==$MOTO_VERSION into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${MOTO_PINS[@]}" >&2 \
    || { rm -rf "$venv"; die "installing moto[server]==$MOTO_VERSION failed (PyPI reachable?)"; }
}

python313() {
  local candidates=()
  [[ -n "${PYTHON313:-}" ]] && candidates+=("$PYTHON313")
  command -v python3.13 >/dev/null && candidates+=("$(command -v python3.13)")
  if command -v pyenv >/dev/null; then
    local v
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.|$)' | sort -rV); do
      candidates+=("$(pyenv prefix "$v")/bin/python3.13")
    done
  fi
  local candidate
  # A pyenv shim is on PATH even when 3.13 is not active: only an interpreter that runs counts.
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  die "LocalStack $LOCALSTACK_VERSION needs Python 3.13, and none was found: install it \
(e.g. pyenv install 3.13), put python3.13 on PATH, or set PYTHON313=/path/to/python3.13"
}

install_localstack() {
  installed localstack-core "$LOCALSTACK_VERSION" && return
  local interpreter; interpreter="$(python313)"
  echo "emulator.sh: installing localstack-core $LOCALSTACK_VERSION into $venv (Python: $interpreter)" >&2
  rm -rf "$venv"
  "$interpreter" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${LOCALSTACK_PINS[@]}" >&2 \
    || { rm -rf "$venv"; die "installing localstack-core $LOCALSTACK_VERSION failed (PyPI reachable?)"; }
}

free_port() {
  "$python" - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

running_pid() {
  [[ -f "$state/pid" ]] || return 1
  local pid; pid="$(cat "$state/pid")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

launch() {
  local port="$1"
  case "$backend" in
    moto)
      "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$state/log" 2>&1 &
      ;;
    localstack)
      # hypercorn binds the given host (the default server listens on every interface);
      # DNS_ADDRESS=0 keeps it from opening a DNS server on port 53.
      mkdir -p "$state/volume"
      GATEWAY_LISTEN="127.0.0.1:$port" GATEWAY_SERVER=hypercorn LOCALSTACK_HOST="127.0.0.1:$port" \
        DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 PERSISTENCE=0 \
        LOCALSTACK_VOLUME_DIR="$state/volume" \
        "$venv/bin/python" -m localstack.runtime.main >"$state/log" 2>&1 &
      ;;
  esac
  echo $!
}

ready_url() {
  case "$backend" in
    moto) echo "$1/moto-api/" ;;
    localstack) echo "$1/_localstack/health" ;;
  esac
}

start() {
  if pid="$(running_pid)"; then
    echo "emulator.sh: $backend already running (pid $pid) at $(cat "$state/endpoint")" >&2
    cat "$state/endpoint"
    return
  fi
  "install_$backend"
  mkdir -p "$state"
  local port; port="${EMULATOR_PORT:-$(free_port)}"
  local pid; pid="$(launch "$port")"
  echo "$pid" >"$state/pid"
  local endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$(ready_url "$endpoint")" 2>/dev/null; then
      echo "$port" >"$state/port"
      echo "$endpoint" >"$state/endpoint"
      if [[ "$backend" == moto ]]; then
        # moto runs Lambda functions in Docker unless told to stub them.
        curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
          -d '{"lambda":{"use_docker":false}}' "$endpoint/moto-api/config"
      fi
      echo "emulator.sh: $backend ready at $endpoint (pid $pid)" >&2
      echo "$endpoint"
      return
    fi
    kill -0 "$pid" 2>/dev/null || { tail -20 "$state/log" >&2; die "$backend exited during start"; }
    sleep 0.2
  done
  stop
  die "$backend did not answer at $endpoint within 120 s (log: $state/log)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$state/pid" "$state/endpoint" "$state/port"
    return
  fi
  kill "$pid" 2>/dev/null || true
  # LocalStack may ignore SIGTERM for a long time after heavy use: escalate after 10 s.
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid" "$state/endpoint" "$state/port"
  echo "emulator.sh: $backend stopped (pid $pid)" >&2
}

case "${1:-}" in
  install) "install_$backend"; echo "$venv/bin/python" ;;
  start) start ;;
  stop) stop ;;
  status) running_pid >/dev/null && cat "$state/endpoint" || die "$backend not running" ;;
  env)
    running_pid >/dev/null || die "$backend not running; run scripts/emulator.sh --backend $backend start"
    cat <<ENV
export AWS_ENDPOINT_URL=$(cat "$state/endpoint")
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
ENV
    ;;
  placeholder-lambdas)
    shift
    running_pid >/dev/null || die "$backend not running; run scripts/emulator.sh start"
    AWS_ENDPOINT_URL="$(cat "$state/endpoint")" "$venv/bin/python" - "$@" <<'PY'
import json, os, sys
import boto3
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"),
          aws_access_key_id="testing", aws_secret_access_key="testing")
iam, lam = boto3.client("iam", **kw), boto3.client("lambda", **kw)
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
try:
    role = iam.create_role(RoleName="placeholder-rotation", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
except iam.exceptions.EntityAlreadyExistsException:
    role = iam.get_role(RoleName="placeholder-rotation")["Role"]["Arn"]
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder:latest"
for name in sys.argv[1:]:
    try:
        lam.create_function(FunctionName=name, Role=role, PackageType="Image", Code={"ImageUri": image})
    except lam.exceptions.ResourceConflictException:
        pass
    print(f"emulator.sh: placeholder Lambda {name}", file=sys.stderr)
PY
    ;;
  emulator-blueprint)
    # moto 5.2.5 has no BatchEnableStandards or GetEnabledStandards (docs/emulators.md):
    # a blueprint subscribing Security Hub standards cannot apply there. The copy enables
    # the hub without them; on AWS the original subscribes them.
    [[ $# -eq 3 ]] || die "usage: scripts/emulator.sh emulator-blueprint IN OUT"
    sed -E 's/^([[:space:]]+standards:).*$/\1 []   # (not on the emulator: no BatchEnableStandards)/' "$2" >"$3"
    if ! cmp -s "$2" "$3"; then
      echo "emulator.sh: $3 is $2 without Security Hub standards, which $backend cannot subscribe" >&2
    fi
    ;;
  *) die "usage: scripts/emulator.sh [--backend moto|localstack] install|start|stop|status|env|placeholder-lambdas NAME...|emulator-blueprint IN OUT" ;;
esac

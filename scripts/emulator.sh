#!/usr/bin/env bash
# Local AWS emulator for secinfra's integration tests and demo.
#
#   scripts/emulator.sh start    install the pinned emulator (once) and start it on 127.0.0.1
#   scripts/emulator.sh stop     stop the emulator this script started (by PID)
#   scripts/emulator.sh status   print the endpoint if running
#   scripts/emulator.sh env      print `export AWS_...` lines for a shell to eval
#   scripts/emulator.sh placeholder-lambdas NAME...
#                                create do-nothing Lambda functions (rotation targets for demos)
#
# State lives in .emulator/ (git-ignored; EMULATOR_STATE_DIR picks another directory, so
# the test run and the demo each get a fresh emulator of their own): pid, port, endpoint,
# log. The emulator venv is .venv-moto/ (git-ignored), pinned to MOTO_VERSION below.
set -euo pipefail

MOTO_VERSION="5.2.5"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${EMULATOR_STATE_DIR:-$root/.emulator}"
venv="$root/.venv-moto"
python="${PYTHON:-python3}"

die() { echo "emulator.sh: $*" >&2; exit 1; }

install_moto() {
  if [[ -x "$venv/bin/moto_server" ]] && "$venv/bin/python" -c \
      "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null; then
    return
  fi
  command -v "$python" >/dev/null || die "$python not found; install Python 3 (3.9+) or set PYTHON"
  echo "emulator.sh: installing moto[server]==$MOTO_VERSION into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2 \
    || { rm -rf "$venv"; die "installing moto[server]==$MOTO_VERSION failed (PyPI reachable?)"; }
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

start() {
  if pid="$(running_pid)"; then
    echo "emulator.sh: already running (pid $pid) at $(cat "$state/endpoint")" >&2
    cat "$state/endpoint"
    return
  fi
  install_moto
  mkdir -p "$state"
  local port; port="${EMULATOR_PORT:-$(free_port)}"
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$state/log" 2>&1 &
  local pid=$!
  echo "$pid" >"$state/pid"
  local endpoint="http://127.0.0.1:$port"
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "$endpoint/moto-api/" 2>/dev/null; then
            echo "$port" >"$state/port"
      echo "$endpoint" >"$state/endpoint"
      # No Docker here: moto stubs Lambda functions instead of running them (secret
      # rotation calls them).
      curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d '{"lambda":{"use_docker":false}}' "$endpoint/moto-api/config"
      echo "emulator.sh: moto $MOTO_VERSION ready at $endpoint (pid $pid)" >&2
      echo "$endpoint"
      return
    fi
    kill -0 "$pid" 2>/dev/null || { tail -20 "$state/log" >&2; die "moto exited during start"; }
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  die "moto did not answer at $endpoint within 30 s (log: $state/log)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$state/pid" "$state/endpoint" "$state/port"
    return
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$state/pid" "$state/endpoint" "$state/port"
  echo "emulator.sh: stopped (pid $pid)" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running_pid >/dev/null && cat "$state/endpoint" || die "not running" ;;
  env)
    running_pid >/dev/null || die "not running; run scripts/emulator.sh start"
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
    running_pid >/dev/null || die "not running; run scripts/emulator.sh start"
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
  *) die "usage: scripts/emulator.sh start|stop|status|env|placeholder-lambdas NAME..." ;;
esac

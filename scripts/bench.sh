#!/usr/bin/env bash
# Measures `secinfra plan` on the seed blueprint against a fresh local emulator:
# wall time (median and max of N runs), API calls, and peak memory, for an empty account
# and for the applied environment. Usage: scripts/bench.sh [RUNS] [BLUEPRINT]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
runs="${1:-10}"
blueprint="${2:-blueprints/api-platform.yaml}"
source scripts/cargo-env.sh
cargo build --locked --quiet --bin secinfra
secinfra="$CARGO_TARGET_DIR/debug/secinfra"

export EMULATOR_STATE_DIR="$root/.emulator/bench-$$"
stop_emulator() { scripts/emulator.sh stop || true; rm -rf "$EMULATOR_STATE_DIR"; }
trap stop_emulator EXIT
endpoint="$(scripts/emulator.sh start)"
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true NO_COLOR=1
scripts/emulator.sh placeholder-lambdas \
  api-platform-rotate-postgres api-platform-rotate-jwt api-platform-rotate-s3-keys
scripts/emulator.sh emulator-blueprint "$blueprint" "$EMULATOR_STATE_DIR/blueprint.yaml"
blueprint="$EMULATOR_STATE_DIR/blueprint.yaml"

measure() {
  local label="$1"; shift
  local times=() calls="" rss="n/a"
  "$secinfra" "$@" >/dev/null 2>&1 || true   # warm the emulator's lazily loaded services
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s%N)
    calls=$("$secinfra" "$@" 2>&1 >/dev/null | sed -n 's/.*(\([0-9]*\) API calls).*/\1/p' | head -1)
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  if [[ -x /usr/bin/time ]]; then
    rss="$(/usr/bin/time -f '%M' "$secinfra" "$@" 2>&1 >/dev/null | tail -1) KiB"
  fi
  local sorted median max
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
  max=$(echo "$sorted" | tail -1)
  printf '%-28s median %5s ms   max %5s ms   discovery %3s API calls (+1 sts:GetCallerIdentity)   peak RSS %s\n' \
    "$label" "$median" "$max" "$calls" "$rss"
}

timed() {  # prints "<ms> <exit code>" for one run of the command
  local start end rc=0
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1 || rc=$?
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 )) $rc"
}

echo "secinfra plan on $blueprint, $runs runs each, emulator $endpoint"
measure "plan, empty account" plan "$blueprint"
read -r ms rc < <(timed "$secinfra" apply "$blueprint" --auto-approve)
echo "apply of the whole blueprint: $ms ms (exit $rc)"
measure "plan, environment applied" plan "$blueprint"
# Destroy is reported, not required: an emulator may never finish a delete (moto leaves a
# replication group "deleting" for good and has no DeleteCacheSubnetGroup); secinfra then
# gives up after --wait-timeout and exits non-zero naming what it could not delete.
read -r ms rc < <(timed "$secinfra" destroy "$blueprint" --auto-approve --allow-delete-protected \
  --no-recovery-window --wait-timeout "${BENCH_WAIT_TIMEOUT:-60s}")
left=$("$secinfra" plan "$blueprint" --json 2>/dev/null | python3 -c 'import json,sys; p=json.load(sys.stdin); print(sum(1 for c in p["changes"] if c["action"]!="create"))' || echo "?")
echo "destroy of the whole blueprint: $ms ms (exit $rc; $left stack resources left in the account)"

# 1000 resources (tests/fixtures/scale-1000.yaml) with the client-side EC2 request buckets
# on (the default, paced as AWS refills them) and off (`--max-rps off`), each on a stack of
# its own. The emulator does not throttle, so "off" shows the pacing's cost here; on AWS,
# "off" meets RequestLimitExceeded instead. BENCH_SCALE=0 skips it.
if [[ "${BENCH_SCALE:-1}" != 0 ]]; then
  for mode in on off; do
    scale="$EMULATOR_STATE_DIR/scale-$mode.yaml"
    sed "s/^stack: scale$/stack: bench-scale-$mode/" tests/fixtures/scale-1000.yaml >"$scale"
    flags=()
    [[ "$mode" == off ]] && flags=(--max-rps off)
    read -r ms rc < <(timed "$secinfra" apply "$scale" --auto-approve "${flags[@]}")
    echo "1000 resources, request buckets $mode: apply $ms ms (exit $rc)"
    read -r ms rc < <(timed "$secinfra" plan "$scale" "${flags[@]}")
    echo "1000 resources, request buckets $mode: plan $ms ms (exit $rc)"
  done
fi

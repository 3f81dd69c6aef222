#!/usr/bin/env bash
# API gate: serve a freshly seeded throwaway instance and let schemathesis drive the whole OpenAPI
# document (/api/v1/openapi.json), once as a stranger and once with a demo reader's personal access
# token. Any 5xx or any response that breaks its own documented schema fails the gate.
#
#   .ci/api_fuzz.sh                        # uses ./.venv; VENV=/path/to/venv to use another one
#   API_FUZZ_EXAMPLES=50 API_FUZZ_SEED=7 .ci/api_fuzz.sh
#   API_FUZZ_KEEP=1 .ci/api_fuzz.sh        # keep the instance, server log and reports afterwards
#
# Same examples and seed, same requests: a failure reproduces with the curl line it prints.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
BIN="$(cd "$VENV" 2>/dev/null && pwd || echo "$VENV")/bin"
EXAMPLES="${API_FUZZ_EXAMPLES:-25}"   # test cases per operation and phase
SEED="${API_FUZZ_SEED:-2026}"
for tool in python flask gunicorn schemathesis; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "api_fuzz: $BIN/$tool not found; install the dev extra (pip install -e '.[dev]') or set VENV." >&2
    exit 2
  fi
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tastemaker-api-fuzz.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${API_FUZZ_KEEP:-0}" = "1" ]; then
    echo "api_fuzz: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# A throwaway embedded instance: SQLite, Whoosh and media under $WORK, nothing from the environment.
export FLASK_APP=wsgi.py TASTEMAKER_ENV=development TASTEMAKER_INSTANCE="$WORK/instance"
export DATABASE_URL="" REDIS_URL="" MEDIA_ROOT="" SEARCH_BACKEND=whoosh
export JOBS_SCHEDULER=off   # no background writers: the same seed gives the same run

started=$SECONDS
"$BIN/pybabel" compile -d app/translations >/dev/null 2>&1 || true
"$BIN/flask" db upgrade >"$WORK/setup.log" 2>&1
"$BIN/flask" seed-demo --users 20 --posts 120 --products 24 --orders 24 --seed "$SEED" >>"$WORK/setup.log" 2>&1
TOKEN="$("$BIN/flask" users create-token reader --name api-fuzz --days 1 2>>"$WORK/setup.log")"
echo "api_fuzz: seeded $WORK/instance in $((SECONDS - started)) s"

PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
"$BIN/gunicorn" --workers 2 --timeout 60 --bind "127.0.0.1:$PORT" wsgi:app >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

fuzz() {
  local label="$1"
  shift
  echo "api_fuzz: schemathesis $label ($EXAMPLES examples per operation, seed $SEED)"
  # From $WORK, so schemathesis's crash cache starts empty each time and stays out of the checkout.
  (cd "$WORK" && "$BIN/schemathesis" run "$BASE/api/v1/openapi.json" \
    --wait-for-schema 60 \
    --checks not_a_server_error,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
    --generation-database none --suppress-health-check all \
    --request-timeout 60 --no-color \
    --report junit --report-junit-path "$WORK/junit-$label.xml" \
    "$@")
}

status=0
fuzz anonymous || status=1
fuzz reader -H "Authorization: Bearer $TOKEN" || status=1

if [ "$status" -ne 0 ]; then
  echo "api_fuzz: FAILED. Last lines of the server log:" >&2
  tail -n 40 "$WORK/server.log" >&2 || true
fi
echo "api_fuzz: finished in $((SECONDS - started)) s"
exit "$status"

#!/usr/bin/env bash
# A multi-host rehearsal on one machine: Debian's nginx balancing two gunicorn app instances (2 workers each,
# one SECRET_KEY, one media folder), two RQ workers, one scheduler, a PostgreSQL cluster and a Redis of its own,
# SEARCH_BACKEND=postgres. Nothing here touches the system's nginx, PostgreSQL or Redis services: every process
# runs with its own config, pid and log files under $REHEARSAL_DIR, on non-privileged ports.
#
#   deploy/rehearsal.sh up        start everything (first run: create the cluster, migrate, seed demo data)
#   deploy/rehearsal.sh down      stop everything (data kept; `destroy` also deletes $REHEARSAL_DIR)
#   deploy/rehearsal.sh status    what runs, and /healthz through nginx
#   deploy/rehearsal.sh env       the environment the app processes get (eval it to run flask against it)
#   deploy/rehearsal.sh reload    after a code change: gunicorn reloads, job workers and scheduler restart
#   Faults (bench/faults.py uses them): kill-app N | start-app N | kill-worker N | start-worker N | stop-worker N |
#                                       stop-pg | start-pg | restart-pg | stop-redis | start-redis
#
# Settings (environment): REHEARSAL_DIR (/tmp/tastemaker-rehearsal), REHEARSAL_PORT (8480: nginx; the app
# instances take +1 and +2), REHEARSAL_PG_PORT (55432), REHEARSAL_REDIS_PORT (56379), PYTHON_BIN (the project
# venv's python), SEED_ARGS (extra `flask seed-demo` options for the first run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${REHEARSAL_DIR:-/tmp/tastemaker-rehearsal}"
PORT="${REHEARSAL_PORT:-8480}"
APP_PORTS=("$((PORT + 1))" "$((PORT + 2))")
PG_PORT="${REHEARSAL_PG_PORT:-55432}"
REDIS_PORT="${REHEARSAL_REDIS_PORT:-56379}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
if [[ -z "${PYTHON_BIN:-}" ]]; then  # the project's venv (make install; a git worktree uses its main checkout's)
  MAIN_CHECKOUT="$(dirname "$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$ROOT/.git")")"
  for candidate in "$ROOT/.venv/bin/python" "$MAIN_CHECKOUT/.venv/bin/python" "$(command -v python3)"; do
    if [[ -x "$candidate" ]]; then PYTHON_BIN="$candidate"; break; fi
  done
fi
FLASK=("$PYTHON_BIN" -m flask)
GUNICORN=("$PYTHON_BIN" -m gunicorn)
LOGS="$DIR/logs"
RUN="$DIR/run"
DB_NAME=tastemaker_rehearsal

say() { printf '%s\n' "$*" >&2; }

as_pg_owner() {  # initdb/pg_ctl refuse to run as root: use the postgres account then
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

need_packages() {
  local missing=()
  command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [[ -n "$PG_BIN" && -x "$PG_BIN/initdb" ]] || missing+=(postgresql)
  if ((${#missing[@]})); then
    say "Installing ${missing[*]} with apt (only the packages; their system services are not used)…"
    local sudo=""; [[ "$(id -u)" == 0 ]] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  fi
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
}

secret_key() {
  if [[ ! -s "$DIR/secret_key" ]]; then
    (umask 077; "$PYTHON_BIN" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$DIR/secret_key")
  fi
  cat "$DIR/secret_key"
}

app_env() {  # what every app process (web, worker, scheduler, flask CLI) is started with
  cat <<ENV
export TASTEMAKER_ENV=development
export SECRET_KEY='$(secret_key)'
export DATABASE_URL='postgresql://postgres@127.0.0.1:$PG_PORT/$DB_NAME'
export REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
export SEARCH_BACKEND=postgres
export JOBS_SCHEDULER=off
export MEDIA_ROOT='$DIR/media'
export TASTEMAKER_INSTANCE='$DIR/instance'
export PUBLIC_BASE_URL='http://127.0.0.1:$PORT'
export TRUSTED_PROXY_COUNT=1
export PYTHONPATH='$ROOT'
export FLASK_APP=wsgi.py
export PYTHON_BIN='$PYTHON_BIN'
export ORDER_RESERVATION_MINUTES='${REHEARSAL_RESERVATION_MINUTES:-3}'
ENV
  # A short reservation (REHEARSAL_RESERVATION_MINUTES, default 3) lets the fault scenarios see unpaid orders
  # expire within their run. Every virtual user of bench/load.py comes from its own loopback address, but they are hundreds of "people"
  # on one machine: the rehearsal lets each address check out more often than a real one could.
  echo "export CHECKOUT_IP_RATE_LIMIT='${CHECKOUT_IP_RATE_LIMIT:-300/minute;3000/hour}'"
}

with_env() { (cd "$ROOT" && eval "$(app_env)" && "$@"); }

alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  say "Timed out waiting for $what (see $LOGS/)."; return 1
}

# --- PostgreSQL: a cluster of our own, so restarting it never disturbs anyone else's database ------------------
start_pg() {
  if [[ ! -f "$DIR/pg/PG_VERSION" ]]; then
    mkdir -p "$DIR/pg"; chmod 700 "$DIR/pg"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$DIR/pg"
    as_pg_owner "$PG_BIN/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOGS/initdb.log"
    cat >>"$DIR/pg/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$DIR/pg'
max_connections = 200
shared_buffers = 128MB
fsync = on
CONF
  fi
  if ! as_pg_owner "$PG_BIN/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 ]] && touch "$LOGS/postgresql.log" && chown postgres: "$LOGS/postgresql.log"
    as_pg_owner "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$LOGS/postgresql.log" -w -t 60 start >/dev/null
  fi
  if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB_NAME"
  fi
}
stop_pg() {
  if [[ -f "$DIR/pg/PG_VERSION" ]] && as_pg_owner "$PG_BIN/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then
    as_pg_owner "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null
  fi
}

# --- Redis: a server of our own on another port ------------------------------------------------------------------
start_redis() {
  alive "$RUN/redis.pid" && return 0
  mkdir -p "$DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" --appendonly yes --save "" >/dev/null
  wait_for 10 "Redis" redis-cli -p "$REDIS_PORT" ping
}
stop_redis() {
  if alive "$RUN/redis.pid"; then
    local pid; pid=$(cat "$RUN/redis.pid")
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || kill "$pid"
    wait_for 10 "Redis to stop" bash -c "! kill -0 $pid 2>/dev/null" || true
  fi
  rm -f "$RUN/redis.pid"
}

# --- the application ------------------------------------------------------------------------------------------
prepare_app() {
  if ! "$PYTHON_BIN" -c 'import flask_migrate, gunicorn, rq' 2>/dev/null; then
    say "$PYTHON_BIN lacks the project's packages: set PYTHON_BIN to the project's venv python."; return 1
  fi
  with_env "${FLASK[@]}" db upgrade >"$LOGS/migrate.log" 2>&1 || { say "migration failed: see $LOGS/migrate.log"; return 1; }
  if with_env "${FLASK[@]}" seed-demo --if-empty ${SEED_ARGS:-} >"$LOGS/seed.log" 2>&1; then :; else
    say "seed-demo failed: see $LOGS/seed.log"; return 1
  fi
}

start_app() {  # start_app N (1 or 2)
  local n=$1 port=${APP_PORTS[$(($1 - 1))]}
  alive "$RUN/app$n.pid" && return 0
  with_env setsid "${GUNICORN[@]}" --workers 2 --bind "127.0.0.1:$port" --pid "$RUN/app$n.pid" \
    --access-logfile "$LOGS/app$n-access.log" --error-logfile "$LOGS/app$n.log" --graceful-timeout 10 --no-control-socket --capture-output \
    --timeout 60 --daemon wsgi:app
  wait_for 90 "app instance $n" curl -fsS "http://127.0.0.1:$port/healthz"
}
stop_app() { signal_pidfile "$RUN/app$1.pid" TERM; }
kill_app() {  # the host dies: the gunicorn master and its workers, at once, mid-request
  if alive "$RUN/app$1.pid"; then
    local master; master=$(cat "$RUN/app$1.pid")
    # shellcheck disable=SC2046  # one pid per word
    kill -9 "$master" $(pgrep -P "$master") 2>/dev/null || true
  fi
  rm -f "$RUN/app$1.pid"
}

start_bg() {  # start_bg NAME COMMAND...: a detached process group with its pid file and log
  local name=$1; shift
  alive "$RUN/$name.pid" && return 0
  (cd "$ROOT" && eval "$(app_env)" && exec setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null) &
  echo $! >"$RUN/$name.pid"
}
start_worker() { start_bg "worker$1" "${FLASK[@]}" jobs worker; }
kill_worker() {  # the worker host dies mid-job: the worker and the work-horse it forked (RQ puts the horse in a
  # session of its own, so it is found as the worker's child rather than by process group)
  if alive "$RUN/worker$1.pid"; then
    local pid; pid=$(cat "$RUN/worker$1.pid")
    # shellcheck disable=SC2046
    kill -9 "$pid" $(pgrep -P "$pid") 2>/dev/null || true
  fi
  rm -f "$RUN/worker$1.pid"
}
start_scheduler() { start_bg scheduler "${FLASK[@]}" jobs scheduler; }

signal_pidfile() {  # signal_pidfile FILE SIGNAL: signal the process group, wait for it to end
  local file=$1 sig=$2
  if alive "$file"; then
    local pid; pid=$(cat "$file")
    kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# --- nginx: our own config, pid, logs and temp folders; the system's nginx service is left alone -------------
write_nginx_conf() {
  mkdir -p "$DIR/nginx/tmp"
  local user_line=""
  if [[ "$(id -u)" == 0 ]]; then user_line="user nobody nogroup;"; chown -R nobody:nogroup "$DIR/nginx/tmp"; fi
  sed -e "s#@DIR@#$DIR#g" -e "s#@PORT@#$PORT#g" -e "s#@APP1@#${APP_PORTS[0]}#g" -e "s#@APP2@#${APP_PORTS[1]}#g" \
      -e "s#@ROOT@#$ROOT#g" -e "s#@USER_LINE@#$user_line#g" -e "s#@LOGS@#$LOGS#g" \
      "$ROOT/deploy/nginx-rehearsal.conf.in" >"$DIR/nginx/nginx.conf"
}
start_nginx() {
  need_packages
  write_nginx_conf
  if alive "$RUN/nginx.pid"; then "$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$LOGS/nginx-error.log" -s reload; return; fi
  "$NGINX" -t -q -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$LOGS/nginx-error.log"
  "$NGINX" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$LOGS/nginx-error.log"
  wait_for 10 "nginx" curl -fsS "http://127.0.0.1:$PORT/healthz"
}
stop_nginx() {
  if alive "$RUN/nginx.pid"; then
    local pid; pid=$(cat "$RUN/nginx.pid")
    kill -QUIT "$pid"; for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$RUN/nginx.pid"
}

up() {
  need_packages
  mkdir -p "$DIR" "$LOGS" "$RUN" "$DIR/media" "$DIR/instance"
  say "PostgreSQL on 127.0.0.1:$PG_PORT ($DIR/pg)…"; start_pg
  say "Redis on 127.0.0.1:$REDIS_PORT…"; start_redis
  say "Migrating and, on the first run, seeding demo data (a minute or two)…"; prepare_app
  say "App instances on :${APP_PORTS[0]} and :${APP_PORTS[1]}…"; start_app 1; start_app 2
  say "Two RQ workers and the scheduler…"; start_worker 1; start_worker 2; start_scheduler
  say "nginx on :$PORT…"; start_nginx
  status
}

down() {
  stop_nginx
  for n in 1 2; do stop_app "$n"; signal_pidfile "$RUN/worker$n.pid" TERM; done
  signal_pidfile "$RUN/scheduler.pid" TERM
  stop_redis
  stop_pg
  say "Stopped (data kept in $DIR; '$0 destroy' deletes it)."
}

status() {
  local rc=0 name
  for name in nginx app1 app2 worker1 worker2 scheduler redis; do
    if alive "$RUN/$name.pid"; then printf '%-10s running (pid %s)\n' "$name" "$(cat "$RUN/$name.pid")"
    else printf '%-10s stopped\n' "$name"; rc=1; fi
  done
  if [[ -f "$DIR/pg/PG_VERSION" ]] && as_pg_owner "$PG_BIN/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then
    printf '%-10s running (127.0.0.1:%s/%s)\n' postgresql "$PG_PORT" "$DB_NAME"
  else printf '%-10s stopped\n' postgresql; rc=1; fi
  printf 'healthz    %s\n' "$(curl -sS -m 5 "http://127.0.0.1:$PORT/healthz" 2>&1 || true)"
  printf 'site       http://127.0.0.1:%s/   logs: %s/\n' "$PORT" "$LOGS"
  return $rc
}

cmd="${1:-status}"
mkdir -p "$LOGS" "$RUN"
case "$cmd" in
  up) up ;;
  down) down ;;
  destroy) down; rm -rf "$DIR" ;;
  status) status ;;
  env) app_env ;;
  kill-app) kill_app "${2:?which instance, 1 or 2}" ;;
  start-app) start_app "${2:?which instance, 1 or 2}" ;;
  kill-worker) kill_worker "${2:?which worker, 1 or 2}" ;;
  start-worker) start_worker "${2:?which worker, 1 or 2}" ;;
  stop-worker) signal_pidfile "$RUN/worker${2:?which worker, 1 or 2}.pid" TERM ;;
  reload)  # new code: gunicorn replaces its workers gracefully; job workers and the scheduler restart
    for n in 1 2; do alive "$RUN/app$n.pid" && kill -HUP "$(cat "$RUN/app$n.pid")"; signal_pidfile "$RUN/worker$n.pid" TERM; start_worker "$n"; done
    signal_pidfile "$RUN/scheduler.pid" TERM; start_scheduler; start_nginx ;;
  stop-pg) stop_pg ;;
  start-pg) start_pg ;;
  restart-pg) stop_pg; start_pg ;;
  stop-redis) stop_redis ;;
  start-redis) start_redis ;;
  *) say "usage: $0 up|down|destroy|status|env|kill-app N|start-app N|kill-worker N|start-worker N|stop-worker N|reload|stop-pg|start-pg|restart-pg|stop-redis|start-redis"; exit 2 ;;
esac

#!/usr/bin/env bash
# A loopback cluster for manual trials, benchmarks and the e2e tests:
# three authdash instances sharing one SQLite DATA_DIR (WAL works across
# processes) and a private redis-server, behind Debian's nginx.
#
#   deploy/cluster/cluster.sh up      start everything, wait until ready
#   deploy/cluster/cluster.sh down    stop what `up` started (by recorded PID)
#   deploy/cluster/cluster.sh status  show what runs
#
# Everything lives in CLUSTER_DIR: data, logs, pid files, nginx's temp and
# cache directories. Settings (environment):
#   CLUSTER_DIR    build/cluster
#   AUTHDASH_BIN   bin/authdash
#   LB_ADDR        127.0.0.1:8088           the load balancer
#   API_PORTS      "18081 18082 18083"      one instance per port, on 127.0.0.1
#   METRICS_PORTS  "19091 19092 19093"      each instance's admin listener
#   REDIS_PORT     6390                     never the shared 6379
#   NGINX_ACCESS_LOG  off, or a path        (off by default: it costs CPU under load)
# Any other variable the server reads (RATE_LIMIT, LOG_LEVEL …) is passed on.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
deploy=$(dirname "$here")
DIR=${CLUSTER_DIR:-build/cluster}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
BIN=${AUTHDASH_BIN:-bin/authdash}
LB_ADDR=${LB_ADDR:-127.0.0.1:8088}
read -r -a API_PORTS <<<"${API_PORTS:-18081 18082 18083}"
read -r -a METRICS_PORTS <<<"${METRICS_PORTS:-19091 19092 19093}"
REDIS_PORT=${REDIS_PORT:-6390}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

die() { echo "cluster: $*" >&2; exit 1; }

# running PID: the process exists and is not a zombie (a container whose
# PID 1 does not reap leaves dead daemons as zombies).
running() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}

alive() { [ -f "$1" ] && running "$(cat "$1")"; }

# wait_http URL SECONDS: until URL answers 200.
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# start NAME LOG CMD…: run CMD detached from this shell's process group, so
# a Ctrl-C in the terminal that ran `make cluster` does not reach it, and
# record its PID.
start() {
  local name=$1 log=$2; shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

up() {
  [ -x "$BIN" ] || die "$BIN not built (make build)"
  [ ${#API_PORTS[@]} -eq ${#METRICS_PORTS[@]} ] || die "API_PORTS and METRICS_PORTS differ in length"
  for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    alive "$f" && die "already running ($(basename "$f" .pid)); run: $0 down"
    rm -f "$f"
  done
  mkdir -p "$DIR/data" "$DIR/logs" "$DIR/redis" "$DIR"/nginx/{body,proxy,fastcgi,uwsgi,scgi,cache}

  start redis "$DIR/logs/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save "" --appendonly no --protected-mode yes --dir "$DIR/redis" --loglevel warning
  local deadline=$((SECONDS + 10))
  until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "redis-server did not start (see $DIR/logs/redis.log)"
    alive "$DIR/redis.pid" || die "redis-server exited (see $DIR/logs/redis.log)"
    sleep 0.05
  done

  # The first instance creates the dev JWT secret in DATA_DIR; the others
  # read the same file, so a token from one is good on all.
  local servers="" i
  for i in "${!API_PORTS[@]}"; do
    local n=$((i + 1)) port=${API_PORTS[$i]}
    ADDR=127.0.0.1:$port DATA_DIR="$DIR/data" REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0 \
      METRICS_ADDR=127.0.0.1:${METRICS_PORTS[$i]} TRUSTED_PROXIES=127.0.0.1 \
      LOG_FORMAT=${LOG_FORMAT:-json} LOG_LEVEL=${LOG_LEVEL:-warn} SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT:-5s} \
      start "api$n" "$DIR/logs/api$n.log" "$BIN"
    servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
  done
  for i in "${!API_PORTS[@]}"; do
    wait_http "http://127.0.0.1:${API_PORTS[$i]}/readyz" 30 ||
      die "api$((i + 1)) not ready (see $DIR/logs/api$((i + 1)).log)"
  done

  local user="" access=${NGINX_ACCESS_LOG:-off}
  # Debian's nginx drops worker privileges to www-data when started as
  # root, and they could not write under DIR; keep the caller's user.
  [ "$(id -u)" -eq 0 ] && user="user root;"
  [ "$access" = off ] || access="$access authdash"
  awk -v dir="$DIR" -v deploy="$deploy" -v listen="$LB_ADDR" -v user="$user" \
      -v access="$access" -v servers="$servers" '
    { gsub(/@DIR@/, dir); gsub(/@DEPLOY@/, deploy); gsub(/@LISTEN@/, listen)
      gsub(/@USER@/, user); gsub(/@ACCESS_LOG@/, access) }
    /@SERVERS@/ { printf "%s", servers; next }
    { print }' "$here/nginx.conf.in" >"$DIR/nginx.conf"
  "$NGINX" -t -q -p "$DIR" -e "$DIR/logs/nginx-error.log" -c "$DIR/nginx.conf" ||
    die "nginx config invalid (see $DIR/nginx.conf)"
  # nginx daemonizes and writes its master's PID to $DIR/nginx.pid.
  "$NGINX" -p "$DIR" -e "$DIR/logs/nginx-error.log" -c "$DIR/nginx.conf"
  wait_http "http://$LB_ADDR/readyz" 10 || die "nginx not answering on $LB_ADDR"

  echo "cluster up: http://$LB_ADDR  (instances ${API_PORTS[*]}, metrics ${METRICS_PORTS[*]}, redis $REDIS_PORT, dir $DIR)"
}

# stop NAME: TERM (QUIT for nginx: finish in-flight requests), then KILL
# after 10 s.
stop() {
  local f="$DIR/$1.pid" sig=TERM
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  [ "$1" = nginx ] && sig=QUIT
  if running "$pid"; then
    kill -"$sig" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$f"
}

down() {
  stop nginx
  local f
  for f in "$DIR"/api*.pid; do
    [ -e "$f" ] && stop "$(basename "$f" .pid)" &
  done
  wait
  stop redis
  echo "cluster down"
}

status() {
  local f
  for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
    else echo "$(basename "$f" .pid): dead"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac

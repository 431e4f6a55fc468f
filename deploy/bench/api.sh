#!/usr/bin/env bash
# The single-instance API benchmark of issue 2 (docs/BENCHMARKS.md, "HTTP
# API"): starts cmd/authdash on a fresh SQLite file, seeds 100,000 tasks
# through the API (nine accounts of 10,000 and bench@example.com with
# 10,000), waits for the search index to settle, then measures each
# endpoint with wrk (cheap on CPU, so the server gets most of the two
# cores) and with cmd/loadgen, printing Markdown rows. The server is
# stopped however the run ends.
#
# Settings (environment): BENCH_RUNS (2), BENCH_ADDR (127.0.0.1:47311),
# BENCH_SECTIONS ("fresh writes grown"): which parts to run. "grown" adds
# 100,000+ tasks holding neither search term to bench@example.com (wrk
# creates for BENCH_GROW_SECONDS, 25), so that every match of both terms
# lies behind them, and measures the list and both searches in every sort
# order in the same run (issue 16).
#
# At the end it prints one table of every case (issue 16, part 3): list,
# rare and common search on the fresh and on the grown account (wrk, 64
# connections), create and update at 16 and 64 connections, refresh and
# login (cmd/loadgen, except refresh: wrk), each with req/s, p50, p99,
# errors and the server's CPU per request; the load average is printed
# before each section, since the machine may be shared.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=build/bench-api
ADDR=${BENCH_ADDR:-127.0.0.1:47311}
RUNS=${BENCH_RUNS:-2}
SECTIONS=" ${BENCH_SECTIONS:-fresh writes grown} "
has() { [[ $SECTIONS == *" $1 "* ]]; }
URL=http://$ADDR
EMAIL=bench@example.com PASSWORD=bench-password-1
command -v wrk >/dev/null || { echo "bench: wrk is missing (make tools)" >&2; exit 1; }

rm -rf "$DIR" && mkdir -p "$DIR/data"
go build -o "$DIR/authdash" ./cmd/authdash
go build -o "$DIR/loadgen" ./cmd/loadgen
ADDR=$ADDR DATA_DIR=$DIR/data RATE_LIMIT=off LOG_LEVEL=warn METRICS_ADDR=off \
  "$DIR/authdash" >"$DIR/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
curl -sf -H 'Content-Type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Bench\"}" "$URL/api/auth/register" >/dev/null
start=$SECONDS
"$DIR/loadgen" -url "$URL" -users 9 -tasks 10000 -scenario list -d 1s >/dev/null 2>&1
"$DIR/loadgen" -url "$URL" -email "$EMAIL" -password "$PASSWORD" -tasks 10000 -scenario list -d 1s >/dev/null 2>&1
cpu() { awk '{print $14+$15}' "/proc/$server/stat"; }
# settle waits until the server is idle (under 5 % of a core for two
# seconds, at most two minutes): after writes its compactor merges the
# search index for a while, and a case measured during the merge pays for
# it in rate and in CPU per request.
settle() {
  local prev now
  prev=$(cpu)
  for _ in $(seq 60); do
    sleep 2
    now=$(cpu)
    ((now - prev < 10)) && return
    prev=$now
  done
  echo "bench: the server is still busy after two minutes" >&2
}
echo "bench: seeded 100,000 tasks in $((SECONDS - start)) s; letting the search index settle"
start=$SECONDS
settle
echo "bench: settled in $((SECONDS - start)) s"
# The summary table's rows, printed again at the end.
ROWS=$DIR/rows.md
: >"$ROWS"
SUMMARY=1
row() {
  local line
  line=$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$@")
  echo "$line"
  if [ "$SUMMARY" = 1 ]; then echo "$line" >>"$ROWS"; fi
}
load() { uptime | sed 's/.*load average/load average/'; }
token() {
  curl -s -H 'Content-Type: application/json' $1 \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" "$URL/api/auth/login" | json "$2"
}
# wrk LABEL PATH [SCRIPT]: one Markdown row, with the server's CPU per request.
bench_wrk() {
  local label=$1 path=$2 script=${3:-} args=(-t2 -c64 -H "Accept-Encoding: gzip")
  [ -n "$script" ] && args+=(-s "$script")
  [ "$label" != refresh ] && args+=(-H "Authorization: Bearer $(token '' accessToken)")
  if [ "$label" != refresh ]; then wrk "${args[@]}" -d2s "$URL$path" >/dev/null; fi
  if [ "$label" = refresh ]; then
    : >"$DIR/rt.txt"
    for _ in $(seq 64); do token "-H X-Auth-Mode:token" refreshToken >>"$DIR/rt.txt"; done
  fi
  local before out n
  before=$(cpu)
  out=$(RT_FILE=$DIR/rt.txt wrk "${args[@]}" -d10s --latency "$URL$path")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  row "$label (wrk)" 64 \
    "$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
    "$(awk '/Non-2xx/ {print $5; f=1} END {if (!f) print 0}' <<<"$out")" \
    "$(( ($(cpu) - before) * 10000 / n )) µs"
}
# bench_loadgen LABEL SCENARIO CONNS [TERM]: one row from cmd/loadgen after a
# 2 s run to warm up; the CPU counted includes the run's one sign-in.
bench_loadgen() {
  local args=(-url "$URL" -email "$EMAIL" -password "$PASSWORD" -tasks 0 -scenario "$2" -c "$3" ${4:+-q "$4"})
  "$DIR/loadgen" "${args[@]}" -d 2s >/dev/null 2>&1
  local before
  before=$(cpu)
  "$DIR/loadgen" "${args[@]}" -d 10s -format json >"$DIR/loadgen.json" 2>/dev/null
  local after
  after=$(cpu)
  local f
  IFS=$'\t' read -r -a f < <(python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['total']
l = t['latency']
print(int(t['perSec']), '%.2fms' % (l['p50'] / 1e6), '%.2fms' % (l['p99'] / 1e6), t['errors'],
      '%d µs' % ((int(sys.argv[2]) - int(sys.argv[3])) * 10000 // max(t['count'], 1)), sep='\t')
" "$DIR/loadgen.json" "$after" "$before")
  row "$1 (loadgen)" "$3" "${f[@]}"
}

HEADER="| case | connections | req/s | p50 | p99 | errors | server CPU/req |
|---|--:|--:|--:|--:|--:|--:|"
# Reads first, on the fixture as seeded; then writes, which add tasks.
if has fresh; then
  echo "fresh account (10,000 tasks), $(load)"
  echo "$HEADER"
  for _ in $(seq "$RUNS"); do
    bench_wrk "list 20" "/api/tasks?limit=20"
    bench_wrk "search, 10 matches" "/api/tasks?limit=20&q=ref00012"
    bench_wrk "search, ~2,500 matches" "/api/tasks?limit=20&q=alpha"
  done
  echo
fi
if has writes; then
  echo "writes, $(load)"
  echo "$HEADER"
  for _ in $(seq "$RUNS"); do
    for c in 16 64; do bench_loadgen create create "$c"; done
    for c in 16 64; do bench_loadgen update update "$c"; done
    bench_wrk refresh /api/auth/refresh deploy/bench/refresh.lua
    bench_loadgen login login 64
  done
  echo
fi
if has grown; then
  # Grow the account until its newest 100,000 tasks hold neither term.
  grow() {
    wrk -t2 -c64 -d"${BENCH_GROW_SECONDS:-25}s" -s deploy/bench/create.lua \
      -H "Authorization: Bearer $(token '' accessToken)" "$URL/api/tasks" >/dev/null
  }
  total() {
    curl -sf -H "Authorization: Bearer $(token '' accessToken)" "$URL/api/tasks/stats" | json total
  }
  n=$(total)
  while ((n < 110000)); do grow; n=$(total); done
  echo "bench: bench@example.com holds $n tasks; letting the search index settle"
  start=$SECONDS
  settle
  echo "bench: settled in $((SECONDS - start)) s"
  echo "grown account ($n tasks; every match behind the newest $((n - 10000))), $(load)"
  echo "$HEADER"
  bench_wrk "list 20, grown" "/api/tasks?limit=20"
  for sort in created updated due priority title; do
    # The default order goes to the summary; the others only here.
    if [ $sort = created ]; then SUMMARY=1; else SUMMARY=0; fi
    bench_wrk "search, 10 matches, grown, sort=$sort" "/api/tasks?limit=20&q=ref00012&sort=$sort"
    bench_wrk "search, ~2,500 matches, grown, sort=$sort" "/api/tasks?limit=20&q=alpha&sort=$sort"
  done
  SUMMARY=0
  bench_wrk "list 20, grown (again)" "/api/tasks?limit=20"
  echo
fi
echo "summary (issue 16), ended with $(load)"
echo "$HEADER"
cat "$ROWS"

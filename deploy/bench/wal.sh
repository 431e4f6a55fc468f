#!/usr/bin/env bash
# The long write run of issue 16 part 2 (docs/BENCHMARKS.md, "Write tails
# and the WAL"): one instance on a fresh SQLite file, bench@example.com
# seeded with 10,000 tasks, then cmd/loadgen paced to BENCH_WAL_RATE
# writes a second in total (16 workers, half creates, half updates of the
# account's newest tasks) for BENCH_WAL_MINUTES, in runs of ten minutes
# (loadgen's longest). Beside it a sampler reads the WAL pages in use from
# the -shm header every 50 ms and the file sizes every second. Each ten
# minutes print one Markdown row; its longest write is the longest stall a
# client saw.
#
# Settings (environment): BENCH_WAL_MINUTES (60), BENCH_WAL_RATE (200),
# BENCH_ADDR (127.0.0.1:47312).
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=build/bench-wal
ADDR=${BENCH_ADDR:-127.0.0.1:47312}
MINUTES=${BENCH_WAL_MINUTES:-60}
RATE=${BENCH_WAL_RATE:-200}
URL=http://$ADDR
EMAIL=bench@example.com PASSWORD=bench-password-1

rm -rf "$DIR" && mkdir -p "$DIR/data"
go build -o "$DIR/authdash" ./cmd/authdash
go build -o "$DIR/loadgen" ./cmd/loadgen
ADDR=$ADDR DATA_DIR=$DIR/data RATE_LIMIT=off LOG_LEVEL=warn METRICS_ADDR=off \
  "$DIR/authdash" >"$DIR/server.log" 2>&1 &
server=$!
sampler=
trap 'kill $server $sampler 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.2; done

curl -sf -H 'Content-Type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"name\":\"Bench\"}" "$URL/api/auth/register" >/dev/null
"$DIR/loadgen" -url "$URL" -email "$EMAIL" -password "$PASSWORD" -tasks 10000 -scenario list -d 1s >/dev/null 2>&1
sleep 10

DB=$DIR/data/authdash.db
# The sampler: the WAL-index header's mxFrame (offset 16, native byte
# order) is the WAL's last valid frame, so the pages in use; one line a
# second: time, max pages in use that second, WAL and database file sizes.
python3 - "$DB" >"$DIR/wal.tsv" <<'EOF' &
import os, struct, sys, time
db = sys.argv[1]
last = time.time()
peak = 0
while True:
    try:
        with open(db + "-shm", "rb") as f:
            peak = max(peak, struct.unpack_from("=I", f.read(24), 16)[0])
    except (OSError, struct.error):
        pass
    now = time.time()
    if now - last >= 1:
        size = lambda p: os.path.getsize(p) if os.path.exists(p) else 0
        print(f"{now:.0f}\t{peak}\t{size(db + '-wal')}\t{size(db)}", flush=True)
        last, peak = now, 0
    time.sleep(0.05)
EOF
sampler=$!

echo "| minutes | writes | p50 | p99 | longest | errors | WAL pages in use (max) | WAL file (max) | database file | load average |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
for ((m = 0; m < MINUTES; m += 10)); do
  d=$((MINUTES - m < 10 ? MINUTES - m : 10))
  from=$(date +%s)
  "$DIR/loadgen" -url "$URL" -email "$EMAIL" -password "$PASSWORD" -tasks 0 \
    -scenario mixed -mix create=1,update=1 -rate "$RATE" -c 16 -d "${d}m" -format json >"$DIR/run-$m.json"
  to=$(date +%s)
  python3 - "$DIR/run-$m.json" "$DIR/wal.tsv" "$from" "$to" "$m" "$((m + d))" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import json, sys
rep, tsv, t0, t1, m0, m1, load = sys.argv[1:]
r = json.load(open(rep))
t = r["total"]
n, errs = t["count"], t["errors"]
ms = lambda ns: f"{ns / 1e6:.1f} ms"
p50, p99, mx = t["latency"]["p50"], t["latency"]["p99"], t["latency"]["max"]
rows = [l.split("\t") for l in open(tsv) if int(t0) <= int(l.split("\t")[0]) <= int(t1)]
pages = max(int(r[1]) for r in rows)
wal = max(int(r[2]) for r in rows)
dbs = [int(r[3]) for r in rows]
mib = lambda b: f"{b / 2**20:.1f} MiB"
print(f"| {m0}–{m1} | {n:,} | {ms(p50)} | {ms(p99)} | {ms(mx)} | {errs} | {pages:,} | {mib(wal)} | {mib(dbs[0])} → {mib(dbs[-1])} | {load} |")
EOF
done

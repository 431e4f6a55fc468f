#!/usr/bin/env bash
# make lighthouse: Lighthouse (desktop preset, from build/npm, which `make
# tools` installs) against the real binary serving the built frontend, in
# Debian's headless Chromium, as a new visitor: a fresh profile for each
# run. Audits / (where a new visitor arrives) and /signin, LIGHTHOUSE_RUNS
# times each (3), and takes each category's median. Prints Markdown rows
# for docs/BENCHMARKS.md and fails when a median is below its target:
# performance 80, accessibility 100, best practices 100.
#
# Settings (environment): LIGHTHOUSE_RUNS (3), LIGHTHOUSE_ADDR (127.0.0.1:47312),
# LIGHTHOUSE_PATHS ("/ /signin").
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=build/lighthouse
ADDR=${LIGHTHOUSE_ADDR:-127.0.0.1:47312}
RUNS=${LIGHTHOUSE_RUNS:-3}
PATHS=${LIGHTHOUSE_PATHS:-/ /signin}
LH=build/npm/node_modules/lighthouse/cli/index.js
CHROME=/usr/bin/chromium
[ -f "$LH" ] || { echo "lighthouse: $LH is missing (make tools)" >&2; exit 1; }
[ -x "$CHROME" ] || { echo "lighthouse: $CHROME is missing (make tools)" >&2; exit 1; }
[ -f build/web/app.wasm ] || { echo "lighthouse: build/web/app.wasm is missing (make wasm)" >&2; exit 1; }

rm -rf "$DIR" && mkdir -p "$DIR/data"
go build -o "$DIR/authdash" ./cmd/authdash
ADDR=$ADDR DATA_DIR=$DIR/data LOG_LEVEL=warn METRICS_ADDR=off "$DIR/authdash" >"$DIR/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.2; done

flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage"
for p in $PATHS; do
  for i in $(seq "$RUNS"); do
    name=$(echo "$p" | tr '/' '_')
    node "$LH" "http://$ADDR$p" --preset=desktop --quiet --output=json \
      --output-path="$DIR/report$name-$i.json" --chrome-path="$CHROME" --chrome-flags="$flags" \
      || { echo "lighthouse: the run on $p failed" >&2; exit 1; }
  done
done

# One row per path: the median of each category and of the key metrics,
# then the check against the targets.
node - "$DIR" "$RUNS" $PATHS <<'JS'
const fs = require("fs");
const [dir, runs, ...paths] = process.argv.slice(2);
const median = v => { v = [...v].sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const targets = {performance: 80, accessibility: 100, "best-practices": 100};
let failed = false;
console.log("| page | performance | accessibility | best practices | FCP | LCP | TBT | CLS | SI |");
console.log("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
for (const p of paths) {
  const reps = [];
  for (let i = 1; i <= +runs; i++) reps.push(JSON.parse(fs.readFileSync(`${dir}/report${p.replaceAll("/", "_")}-${i}.json`)));
  const cat = id => median(reps.map(r => Math.round(r.categories[id].score * 100)));
  const num = id => median(reps.map(r => r.audits[id].numericValue));
  const row = [p, cat("performance"), cat("accessibility"), cat("best-practices"),
    `${Math.round(num("first-contentful-paint"))} ms`, `${Math.round(num("largest-contentful-paint"))} ms`,
    `${Math.round(num("total-blocking-time"))} ms`, num("cumulative-layout-shift").toFixed(3), `${Math.round(num("speed-index"))} ms`];
  console.log(`| ${row.join(" | ")} |`);
  for (const [id, min] of Object.entries(targets)) {
    if (cat(id) < min) {
      failed = true;
      const r = reps[0];
      const lost = Object.values(r.categories[id].auditRefs).filter(a => a.weight > 0 && r.audits[a.id].score !== null && r.audits[a.id].score < 1)
        .map(a => `${a.id} (${r.audits[a.id].displayValue || r.audits[a.id].score})`);
      console.error(`lighthouse: ${p} ${id} ${cat(id)} < ${min}; first run loses on: ${lost.join(", ")}`);
    }
  }
}
process.exit(failed ? 1 : 0);
JS

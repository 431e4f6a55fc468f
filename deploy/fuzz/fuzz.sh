#!/usr/bin/env bash
# fuzz.sh: run every Go fuzz target of the module for FUZZTIME each (default 30s).
# go test -fuzz takes one target per invocation, so the targets are found with
# go test -list and run one after the other. FUZZPARALLEL workers (default 1:
# the machine is shared). A new crasher lands in the package's testdata/fuzz/
# and fails the run; it is then a seed `make test` replays until it is fixed.
# Prints "package target execs" per target at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
time=${FUZZTIME:-30s}
par=${FUZZPARALLEL:-1}
go=${GO:-go}
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
status=0
for pkg in $($go list ./... | grep -v -e /app -e /wasm -e /e2e); do
  dir=$($go list -f '{{.Dir}}' "$pkg")
  grep -lq '^func Fuzz' "$dir"/*_test.go 2>/dev/null || continue
  for target in $($go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
    echo "== $pkg $target ($time)"
    log=$(mktemp)
    if ! $go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" -parallel "$par" "$pkg" 2>&1 | tee "$log"; then
      status=1
    fi
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    echo "$pkg $target ${execs:-0}" >>"$summary"
    rm -f "$log"
  done
done
echo "== executions per target"
column -t "$summary"
exit $status

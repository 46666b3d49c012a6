#!/usr/bin/env bash
# Training throughput of `cnn train` with and without the dashboard open in a browser.
#
# Alternates plain runs with `--dashboard` runs that headless Chromium watches (the page
# connected, snapshots streaming), RUNS times each, and prints the images/s of every run: the
# mean of the epochs after the first (the browser connects during epoch 1).
#
#   swift build -c release --product cnn
#   Scripts/dashboard-throughput.sh                 # RUNS=3, EPOCHS=3, on the bundled MNIST sample
#   RUNS=5 EPOCHS=4 Scripts/dashboard-throughput.sh --model lenet5
#   ORDER=dashboard-first Scripts/dashboard-throughput.sh     # each pair starts with the watched run
#
# Needs chromium (Debian: apt-get install chromium). Extra arguments go to `cnn train`.
set -euo pipefail
cd "$(dirname "$0")/.."
CNN=${CNN:-.build/release/cnn}
RUNS=${RUNS:-3}
EPOCHS=${EPOCHS:-3}
BROWSER=${BROWSER:-chromium}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Mean images/s of the epochs after the first, from a --json log.
rate() {
  grep '"event":"epoch"' "$1" | grep -v '"epoch":1,' \
    | sed 's/.*"images_per_second":\([0-9.]*\).*/\1/' | awk '{ s += $1; n++ } END { if (n) printf "%.0f", s / n }'
}

# CPU seconds (user + system) that /usr/bin/time wrote to $1.
cpu() { tail -1 "$1" | awk '{ printf "%.1f", $1 + $2 }'; }

plain() {
  /usr/bin/time -f "%U %S" -o "$work/plain.time" "$CNN" train --epochs "$EPOCHS" --json "$@" > "$work/plain.jsonl"
}

watched() {
  : > "$work/dash.jsonl"
  /usr/bin/time -f "%U %S" -o "$work/dash.time" \
    "$CNN" train --epochs "$EPOCHS" --json --dashboard --port 0 "$@" > "$work/dash.jsonl" 2> "$work/dash.err" &
  local cnn=$!
  pids+=("$cnn")
  local url=""
  for _ in $(seq 1 600); do
    url=$(sed -n 's/^Dashboard: //p' "$work/dash.err")
    [ -n "$url" ] && break
    sleep 0.05
  done
  [ -n "$url" ] || { echo "no dashboard address" >&2; cat "$work/dash.err" >&2; exit 1; }
  "$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$work/profile" "$url" \
    > /dev/null 2>&1 &
  local browser=$!
  pids+=("$browser")
  until grep -q '"event":"finished"' "$work/dash.jsonl"; do sleep 0.2; done
  # Whether the page was still connected to the stream when training ended.
  local port=${url#http://127.0.0.1:}
  port=${port%%/*}
  connected=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l)
  kill "$browser" 2>/dev/null || true
  # Stop cnn itself (the child of /usr/bin/time), so that time reports its CPU.
  kill "$(pgrep -P "$cnn")" 2>/dev/null || true
  wait "$browser" "$cnn" 2>/dev/null || true
}

echo "cnn train --epochs $EPOCHS $*: images/s (mean of epochs 2–$EPOCHS)"
echo "run  plain images/s (cnn CPU s)  dashboard+browser images/s (cnn CPU s)  connections at the end"
for run in $(seq 1 "$RUNS"); do
  if [ "${ORDER:-plain-first}" = dashboard-first ]; then
    watched "$@"
    plain "$@"
  else
    plain "$@"
    watched "$@"
  fi
  echo "$run    $(rate "$work/plain.jsonl") ($(cpu "$work/plain.time"))    $(rate "$work/dash.jsonl") ($(cpu "$work/dash.time"))    $connected"
done

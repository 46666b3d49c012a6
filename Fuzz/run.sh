#!/usr/bin/env bash
# Builds CNNKit's fuzz harnesses (libFuzzer + AddressSanitizer, release) and runs each in turn.
#
#   Fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS…]      # default: 60 seconds, every harness
#   FUZZ_RUNS=1000000 Fuzz/run.sh 0 png cli           # a number of inputs instead of a time
#   FUZZ_JOBS=2 Fuzz/run.sh 600                       # two harnesses at a time
#   Fuzz/run.sh --seeds                                # rewrite the seed corpora
#
# Harnesses: idx cifar png safetensors checkpoint cli. New inputs and findings go to Fuzz/.work/<harness>/
# (git-ignored); the committed seeds in Fuzz/corpus/<harness>/ are only read. The script ends
# with one line per harness (executions, exec/s, coverage, findings) and exits 1 if any
# harness found a crash, a leak, an out-of-memory or a timeout.
set -euo pipefail
cd "$(dirname "$0")"

all=(idx cifar png safetensors checkpoint cli)
declare -A product=(
  [idx]=FuzzIDX [cifar]=FuzzCIFAR [png]=FuzzPNG [safetensors]=FuzzSafeTensors [checkpoint]=FuzzCheckpoint [cli]=FuzzCLI)
declare -A max_len=([idx]=4096 [cifar]=8192 [png]=4096 [safetensors]=4096 [checkpoint]=65536 [cli]=512)
# Where each harness is built: with AddressSanitizer (.build), or with coverage alone
# (.build-coverage) for the command line, whose parsing is safe Swift with no pointers of its
# own (Swift's own checks still trap on overflow, bounds and unwrapping) and runs 2.5 times as
# fast without the sanitizer's allocator.
declare -A build_path=([idx]=.build [cifar]=.build [png]=.build [safetensors]=.build [checkpoint]=.build [cli]=.build-coverage)

build() {
  # SwiftPM's --sanitize=fuzzer keeps libFuzzer's main; the combined -sanitize= flag after it
  # (two separate --sanitize flags reach swiftc as two -sanitize= options, and the last wins,
  # dropping the coverage) instruments every module for coverage and AddressSanitizer.
  local h
  # SwiftPM keeps its build plan for the path dependency `..` and misses source files added
  # there since; dropping the plan makes it look again (the compiled objects stay).
  rm -f .build/*/release/description.json .build-coverage/*/release/description.json
  for h in "${harnesses[@]}"; do
    if [[ ${build_path[$h]} == .build ]]; then
      swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --product "${product[$h]}"
    else
      swift build -c release --sanitize=fuzzer --scratch-path "${build_path[$h]}" --product "${product[$h]}"
    fi
  done
}

if [[ "${1:-}" == "--seeds" ]]; then
  # An ordinary build: libFuzzer's main would clash with this tool's own.
  swift build -c release --product FuzzSeeds --build-path .build-seeds
  rm -rf corpus/checkpoint
  .build-seeds/release/FuzzSeeds corpus/checkpoint
  python3 make-corpus.py
  exit 0
fi

seconds=${1:-60}
shift || true
harnesses=("$@")
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
  [[ -n "${product[$h]:-}" ]] || { echo "unknown harness '$h' (one of: ${all[*]})" >&2; exit 2; }
done

build
if [[ -n "${FUZZ_RUNS:-}" ]]; then limit=(-runs="$FUZZ_RUNS"); else limit=(-max_total_time="$seconds"); fi

run() {
  local h=$1 work=.work/$1
  mkdir -p "$work/corpus"
  local dict=()
  [[ -f dictionaries/$h.dict ]] && dict=(-dict="dictionaries/$h.dict")
  [[ $h == safetensors ]] && dict=(-dict=dictionaries/checkpoint.dict)
  # A single allocation over 512 MB, 2 GB resident or 10 s on one input is a finding.
  # malloc_context_size=0: no stack trace is recorded for each allocation (a fifth of the
  # time of the CLI harness); replay a finding with ASAN_OPTIONS= unset for the full stacks.
  # SWIFT_BACKTRACE=enable=no: Swift's own crash handler would catch a trap first, print a
  # backtrace and exit before libFuzzer writes the input to crash-… (the CLI harness's first
  # find was lost that way).
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:malloc_context_size=0} "${build_path[$h]}/release/${product[$h]}" "${limit[@]}" "${dict[@]}" \
    -max_len="${max_len[$h]}" -malloc_limit_mb=512 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" "corpus/$h" >"$work/log" 2>&1 || true
}

summary() {
  local h=$1 log=.work/$1/log
  local runs speed cov findings
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  speed=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  findings=$(find ".work/$h" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'slow-unit-*' \) | wc -l)
  printf '%-11s %12s executions %8s exec/s  cov %6s  findings %s\n' "$h" "$runs" "$speed" "$cov" "$findings"
  [[ $findings -eq 0 ]]
}

jobs=${FUZZ_JOBS:-1}
for h in "${harnesses[@]}"; do
  run "$h" &
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n; done
done
wait

status=0
for h in "${harnesses[@]}"; do summary "$h" || status=1; done
exit $status

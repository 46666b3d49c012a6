#!/usr/bin/env bash
# sgemm n×n×n, CNNKit (`cnn benchmark --only "sgemm N"`) and numpy/OpenBLAS side by side, in
# alternation, ROUNDS rounds: each round's GF/s of both, then the medians over the rounds and
# their ratio. On a shared machine single runs swing by ±40 %; the alternation and the medians
# keep that noise out of the ratio.
#
#   Scripts/bench-sgemm.sh CNN THREADS ROUNDS [N]
#   Scripts/bench-sgemm.sh .build/release/cnn 2 9 2048
#
# Needs numpy and threadpoolctl (`pip install threadpoolctl`); OpenBLAS's OPENBLAS_CORETYPE
# and OPENBLAS_L2_SIZE are unset for its runs, since they slow it down.
set -euo pipefail
cnn=${1:?usage: bench-sgemm.sh CNN THREADS ROUNDS [N]}
threads=${2:?}
rounds=${3:?}
n=${4:-2048}
numpy() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 - "$n" "$threads" <<'PY'
import statistics, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
n, threads = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
c = np.empty((n, n), dtype=np.float32)
with threadpool_limits(limits=threads, user_api="blas"):
    for _ in range(2):
        np.matmul(a, b, out=c)
    times = []
    while sum(times) < 1.5 or len(times) < 5:
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - start)
print(f"{2 * n ** 3 / statistics.median(times) / 1e9:.1f}")
PY
}
ours=() theirs=()
for round in $(seq 1 "$rounds"); do
  a=$("$cnn" benchmark --only "sgemm ${n}x" --threads "$threads" --repeats 5 --json | grep -o '"value":[0-9.]*' | cut -d: -f2)
  b=$(numpy)
  ours+=("$a") theirs+=("$b")
  echo "round $round: CNNKit $a, numpy/OpenBLAS $b GF/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a=$(median "${ours[@]}") b=$(median "${theirs[@]}")
awk -v n="$n" -v t="$threads" -v a="$a" -v b="$b" -v r="$rounds" \
  'BEGIN { printf "sgemm %d, %d threads, medians of %d rounds: CNNKit %.1f, numpy/OpenBLAS %.1f GF/s, ratio %.2f\n", n, t, r, a, b, a / b }'

#!/usr/bin/env bash
# One epoch (20 steps of 128) of resnet18 over the namespace hosts of netns-hosts.sh, with
# 2 ranks (recursive doubling, then Open MPI's default allreduce) and 4 ranks (ring); prints
# images/s and rank 0's gradient-sum line. DIR holds CIFAR-10 binaries whose data_batch_1.bin
# has the first 2,560 images (head -c $((2560*3073)) of the sample's).
#
#   Scripts/mpi/netns-train-resnet18.sh .build/mpi/release/cnn DIR
set -euo pipefail
cnn=$(realpath "${1:?usage: netns-train-resnet18.sh CNN DIR}")
dir=$(realpath "${2:?usage: netns-train-resnet18.sh CNN DIR}")
here=$(cd "$(dirname "$0")" && pwd)
err=$(mktemp)
trap 'rm -f "$err"' EXIT
run() { # label ranks [mca options…]
  local label=$1 n=$2
  shift 2
  local out
  out=$("$here/netns-mpirun.sh" "$n" "$@" "$cnn" train --model resnet18 --dataset cifar10 --data-dir "$dir" \
    --epochs 1 --batch-size 128 --optimizer momentum --learning-rate 0.1 --augment none --schedule constant \
    --threads 1 --json 2>"$err" | grep '"event":"epoch"' | grep -o '"images_per_second":[0-9.]*')
  echo "$label: $out; $(grep -o 'gradient sums.*' "$err") (load $(cut -d' ' -f1 /proc/loadavg))"
}
run "2 ranks, recursive doubling" 2 --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 3
run "2 ranks, Open MPI's default" 2
run "4 ranks, ring" 4 --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4

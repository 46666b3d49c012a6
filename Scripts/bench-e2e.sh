#!/usr/bin/env bash
# One epoch of a zoo network on the shared sample data, CNNKit and PyTorch side by side, in
# alternation: images/s of the training loop (the epoch's `images_per_second` of `cnn train
# --json`, and `../shared/bench/e2e_torch.py`), same batch size and optimizer.
#
#   Scripts/bench-e2e.sh CNN DATASETS_DIR THREADS ROUNDS MODEL…
#   Scripts/bench-e2e.sh .build/release/cnn ../shared/datasets 2 3 resnet18 cifar-cnn
#
# MODEL: simple-convnet, lenet5, mnist-cnn, cifar-cnn or resnet18 (e2e_torch.py's models).
set -euo pipefail
cnn=${1:?usage: bench-e2e.sh CNN DATASETS_DIR THREADS ROUNDS MODEL…}
datasets=${2:?}
threads=${3:?}
rounds=${4:?}
shift 4
torch_script=${TORCH_E2E:-$datasets/../bench/e2e_torch.py}
for model in "$@"; do
  case $model in
    simple-convnet) data=(--dataset mnist --data-dir "$datasets/mnist-5k"); recipe=(--optimizer adam --learning-rate 0.001 --batch-size 100) ;;
    lenet5) data=(--dataset mnist --data-dir "$datasets/mnist-5k"); recipe=(--optimizer adam --learning-rate 0.005 --batch-size 100) ;;
    mnist-cnn) data=(--dataset mnist --data-dir "$datasets/mnist-5k"); recipe=(--optimizer adam --learning-rate 0.0001 --batch-size 50) ;;
    cifar-cnn) data=(--dataset cifar10 --data-dir "$datasets/cifar10-sample"); recipe=(--optimizer rmsprop --learning-rate 0.001 --batch-size 128) ;;
    resnet18) data=(--dataset cifar10 --data-dir "$datasets/cifar10-sample"); recipe=(--optimizer momentum --learning-rate 0.1 --batch-size 128) ;;
    *) echo "bench-e2e.sh: unknown model $model" >&2; exit 2 ;;
  esac
  for round in $(seq 1 "$rounds"); do
    ours=$("$cnn" train --model "$model" "${data[@]}" "${recipe[@]}" --epochs 1 --augment none --schedule constant \
      --threads "$threads" --json 2>/dev/null | grep '"event":"epoch"' | grep -o '"images_per_second":[0-9.]*' | cut -d: -f2)
    theirs=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$torch_script" "$model" "$datasets" --threads "$threads" \
      | grep -o '"images_per_second": [0-9.]*' | cut -d' ' -f2)
    awk -v m="$model" -v t="$threads" -v r="$round" -v a="$ours" -v b="$theirs" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN { printf "%s threads %s round %s: CNNKit %d, PyTorch %d images/s, ratio %.2f (load %s)\n", m, t, r, a, b, a / b, l }'
  done
done

#!/usr/bin/env bash
# Every torchvision-named zoo network, CNNKit and PyTorch side by side, in alternation:
# training-step images/s at CIFAR size (3×32×32, batch 128; AlexNet 3×64×64) and inference images/s at
# 224×224 (batch 32 and batch 1, PyTorch under torch.no_grad() in eval mode), with each
# process's peak memory. `cnn benchmark --model` against `Scripts/torch_model.py`.
#
#   Scripts/bench-zoo.sh CNN THREADS [train|infer|both] MODEL…
#   Scripts/bench-zoo.sh .build/release/cnn 2 both resnet18 vgg11 googlenet
#
# Both sides train with their recipes' optimizers on random images (CNNKit: the model's
# recipe; PyTorch: Adam), so the optimizer's share of a step may differ slightly.
set -euo pipefail
cnn=${1:?usage: bench-zoo.sh CNN THREADS [train|infer|both] MODEL…}
threads=${2:?}
what=${3:?}
shift 3
here=$(dirname "$0")
torch() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$here/torch_model.py" "$@" --threads "$threads" --min-time 0.5; }
ours() { "$cnn" benchmark --model "$1" --input "$2" --batch-size "$3" --threads "$threads" --min-time 0.5 --repeats 3 --json --only "$4,peak" 2>/dev/null; }
field() { grep -o "\"$1\": [0-9.]*" | cut -d' ' -f2; }
value() { grep "$1" | grep -o '"value":[0-9.]*' | cut -d: -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
for model in "$@"; do
  if [[ $what == train || $what == both ]]; then
    # AlexNet's windows do not fit a 32×32 image (in either library): it trains on 64×64.
    side=32
    [[ $model == alexnet* ]] && side=64
    theirs=$(torch "$model" 3 $side $side 128 --classes 10 2>/dev/null) || theirs='{"train_images_per_second": 0}'
    mine=$(ours "$model" 3x${side}x${side} 128 train) || mine='{"name":"train","value":0}'
    a=$(echo "$mine" | value '"train ') b=$(echo "$theirs" | field train_images_per_second)
    echo "$model train ${side}x${side} b128: CNNKit $a, PyTorch $(printf %.1f "$b") images/s, ratio $(ratio "$a" "$b"); peak MB $(echo "$mine" | value 'peak memory') vs $(echo "$theirs" | field peak_rss_mb)"
  fi
  if [[ $what == infer || $what == both ]]; then
    theirs=$(torch "$model" 3 224 224 32 --skip-train)
    mine=$(ours "$model" 3x224x224 32 infer)
    for b in 32 1; do
      a=$(echo "$mine" | value "batch $b\"") c=$(echo "$theirs" | field "infer_batch${b}_images_per_second")
      echo "$model infer 224 b$b: CNNKit $a, PyTorch $(printf %.1f "$c") images/s, ratio $(ratio "$a" "$c")"
    done
    echo "$model infer 224 peak MB: CNNKit $(echo "$mine" | value 'peak memory'), PyTorch $(echo "$theirs" | field peak_rss_mb)"
  fi
done

#!/usr/bin/env bash
# mpirun across the namespaces of netns-hosts.sh, over TCP only (no shared memory), one rank per host:
#
#   Scripts/mpi/netns-mpirun.sh 2 .build/mpi/release/cnn allreduce
#   Scripts/mpi/netns-mpirun.sh 4 .build/mpi/release/cnn train --model resnet18 --dataset cifar10 …
set -euo pipefail
count=${1:?usage: netns-mpirun.sh RANKS COMMAND…}
shift
here=$(cd "$(dirname "$0")" && pwd)
hosts=$(mktemp)
trap 'rm -f "$hosts"' EXIT
for i in $(seq 1 "$count"); do echo "cnnh$i slots=1" >>"$hosts"; done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec mpirun -np "$count" --hostfile "$hosts" --bind-to none \
  --mca plm_rsh_agent "$here/netns-rsh.sh" \
  --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
  -x PATH ${CNN_THREADS:+-x CNN_THREADS} "$@"

#!/usr/bin/env bash
# Test hosts for `mpirun` over TCP on one machine: network namespaces cnnh1…cnnhN, each with a
# veth pair into a bridge (cnnbr0) that also carries the launching namespace's address.
# Traffic stays on 10.77.0.0/24, on those devices only. Needs root (ip netns, ip link, tc).
#
#   Scripts/mpi/netns-hosts.sh up 4 [RATE]   # create 4 hosts; RATE (e.g. 10gbit) shapes every veth
#   Scripts/mpi/netns-hosts.sh down 4        # remove them
#
# Addresses: the launcher is 10.77.0.254, host i is 10.77.0.i. Launch with Scripts/mpi/netns-mpirun.sh.
set -euo pipefail
action=${1:?usage: netns-hosts.sh up|down COUNT [RATE]}
count=${2:?usage: netns-hosts.sh up|down COUNT [RATE]}
rate=${3:-}
bridge=cnnbr0

if [ "$action" = down ]; then
  for i in $(seq 1 "$count"); do
    ip netns del "cnnh$i" 2>/dev/null || true
    ip link del "cnnv$i" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
  exit 0
fi

ip link show "$bridge" >/dev/null 2>&1 || {
  ip link add "$bridge" type bridge
  ip addr add 10.77.0.254/24 dev "$bridge"
  ip link set "$bridge" up
}
for i in $(seq 1 "$count"); do
  host="cnnh$i"
  ip netns list | grep -qw "$host" && continue
  ip netns add "$host"
  ip link add "cnnv$i" type veth peer name eth0 netns "$host"
  ip link set "cnnv$i" master "$bridge" up
  ip -n "$host" addr add "10.77.0.$i/24" dev eth0
  ip -n "$host" link set eth0 up
  ip -n "$host" link set lo up
  if [ -n "$rate" ]; then
    # Both directions: the host's egress (inside the namespace) and its ingress (the bridge side's egress).
    ip netns exec "$host" tc qdisc add dev eth0 root tbf rate "$rate" burst 1mbit latency 50ms
    tc qdisc add dev "cnnv$i" root tbf rate "$rate" burst 1mbit latency 50ms
  fi
done
ip -brief addr show "$bridge"

#!/usr/bin/env bash
# Open MPI's launch agent (--mca plm_rsh_agent) for the hosts of netns-hosts.sh: instead of
# ssh HOST COMMAND, runs COMMAND inside network namespace HOST, with its own host name (a
# UTS namespace), so each namespace is a separate node to Open MPI.
set -euo pipefail
host=$1
shift
exec ip netns exec "$host" unshare --uts sh -c "hostname $host; $*"

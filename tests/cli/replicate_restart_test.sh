#!/usr/bin/env bash
# `ferry replicate --restart` of a pass with compressed transport: the
# pass is killed with archives staged and not unpacked, then restarted. The discarded run's
# archives leave staging (and its unfinished uploads are aborted); the new pass brings every
# version to both transported destinations (regions A and B) exactly once, in order
# (tests/tools/replicate_check.py restart); then the same with a first --restart interrupted
# (SIGINT) while it waits for the frozen pass's leases, healed by the plain pass that follows
# (it waits for the leases the abandoned run recorded and deletes its archives).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF
python3 "$(dirname "$0")/../tools/replicate_check.py" restart

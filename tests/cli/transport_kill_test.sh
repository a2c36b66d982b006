#!/usr/bin/env bash
# Compressed transport survives SIGKILL: a pack-only run killed while packing, the full run
# killed while unpacking, then rerun: every object at the destination exactly once (RGW's usage
# log counts the PUTs), staging empty (tests/tools/transport_check.py kill).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF
python3 "$(dirname "$0")/../tools/transport_check.py" kill

#!/usr/bin/env bash
# Replication with compressed transport per destination: a versioned
# source on RGW A (several versions per key with metadata, tags and content types, a key with a
# delete marker, an incompressible object), two transported destinations in regions A and B
# sharing one staging bucket on B, and a direct destination. Every version's bytes, order and
# metadata at each destination, the marker, the summary's transported versions and wire bytes,
# staging empty, every status row COMPLETED, a second pass writing nothing (RGW's usage log),
# bad transport configs refused (tests/tools/replicate_check.py transport).
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF
python3 "$(dirname "$0")/../tools/replicate_check.py" transport

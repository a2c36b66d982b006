#!/usr/bin/env bash
# ferry replicate against both RGW gateways with versioned buckets (tests/tools/replicate_check.py
# does the S3 side in one process): every version in order (multipart, zero-byte, unicode/space/+
# keys), delete markers with both settings, a version-specific delete not replicated, tag/prefix
# filters and priority overlap, two destinations with different storage classes, server-side
# copies on one gateway (UploadPartCopy above the single-copy limit), an S3 JSON config, bad
# configs refused, a non-versioned source, dry run, report, status, a pass SIGKILLed and rerun
# (nothing written twice: the versions at the destination and RGW's usage log), and two-way
# replication with writers on both sides converging with no replica of a replica.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF
python3 "$(dirname "$0")/../tools/replicate_check.py"

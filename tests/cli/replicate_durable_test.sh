#!/usr/bin/env bash
# A replication pass as a durable run on PostgreSQL, shared by three `ferry worker` processes
# and the `ferry replicate` command itself: 300 keys x 3 versions from a versioned bucket of
# RGW A to one of RGW B, in replicate-keys jobs of 30 versions. A pass killed at once leaves an
# unfinished run: other rules are refused, --restart discards it. One worker is SIGKILLed while
# it holds a job, then the replicate command too; its rerun resumes the run. Every version
# arrives at B in the source's order, none is written twice (versions per key, RGW's usage
# log), and the completion report lists all 900 (tests/tools/replicate_check.py durable).
# Then a second pass (240 versions) with three workers already running and claiming while
# `ferry replicate --restart` discards its unfinished run: still no version written twice.
source "$(dirname "$0")/testlib.bash"
: "${FERRY_TEST_PG_URL:?FERRY_TEST_PG_URL not set: run through scripts/test-all.sh}"
: "${FERRY_TEST_CEPH_CONF:?FERRY_TEST_CEPH_CONF not set: run through scripts/test-all.sh}"
# a schema of our own in the shared database, so that runs of other tests do not mix in
SCHEMA=ferry_rd$$
psql "$FERRY_TEST_PG_URL" -q -c "CREATE SCHEMA $SCHEMA" >/dev/null
export STATE="$FERRY_TEST_PG_URL?options=-csearch_path%3D$SCHEMA"
trap 'psql "$FERRY_TEST_PG_URL" -q -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true; cleanup' EXIT
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF
python3 "$(dirname "$0")/../tools/replicate_check.py" durable

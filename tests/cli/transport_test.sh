#!/usr/bin/env bash
# ferry sync --compress --staging end to end on both RGW gateways (tests/tools/transport_check.py
# does the S3 side in one process): hostile keys and every kind of metadata through a staging
# prefix on B, byte- and metadata-identical to a plain sync; incompressible data within 2%;
# staging left empty; bad flag combinations refused with one line.
source "$(dirname "$0")/testlib.bash"
export WORK FERRY_BIN RA_KEY RA_SECRET RB_KEY RB_SECRET CONF_BASE=$CONF
python3 "$(dirname "$0")/../tools/transport_check.py" sync

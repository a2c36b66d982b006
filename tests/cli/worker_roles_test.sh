#!/usr/bin/env bash
# `ferry worker --kinds K1,K2 --region R`: a worker serves only those job kinds (and, with a
# region, that region's jobs and those of none). An unknown kind is one error line, exit 2. A
# worker serving only deletes leaves a run's scan alone; one serving scans and transfers
# copies the run.
source "$(dirname "$0")/testlib.bash"
mkdir -p "$WORK/src" "$WORK/dst"
for i in 1 2 3; do echo "object $i" > "$WORK/src/f$i"; done
STATE=$WORK/state.db
check "unknown kind: exit 2, one line naming it" \
  expect_error 2 "ferry: error: --kinds: unknown job kind \"bogus\" (known: cache-warm, delete, delete-scope, list-scan, move-sources, pack, part, replicate-deletes, replicate-event, replicate-keys, replicate-pack, replicate-scan, report-part, report-summary, restore, scan, transfer, unpack, verify-list, verify-range, verify-result, verify-summary)" \
  ferry worker --state "$STATE" --kinds scan,bogus
check "enqueue a run" ferry cp "$WORK/src" "$WORK/dst" --state "$STATE" --detach
serve() { # kinds -> serves for 3 s
  timeout -s INT 3 "$FERRY_BIN" --config "$CONF" worker --state "$STATE" --kinds "$1" \
    --region west 2>"$WORK/werr" || true
}
serve delete
check "a delete-only worker leaves the scan queued and unclaimed" \
  bash -c "'$FERRY_BIN' jobs show 1 --state '$STATE' | grep -q 'scan     queued attempts 0/'"
check "  it names its roles" grep -q "kinds=delete region=west" "$WORK/werr"
check "nothing copied" [ -z "$(ls "$WORK/dst")" ]
serve scan,transfer
check "a scan and transfer worker copies the run" [ "$(ls "$WORK/dst" | wc -l)" = 3 ]
finish

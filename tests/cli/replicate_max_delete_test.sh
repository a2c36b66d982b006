#!/usr/bin/env bash
# `ferry replicate --max-delete N|P%` (docs/design/guards.md) on the RGW pair: a versioned bucket
# of A replicated with its delete markers to a bucket of B that keeps no versions, where each
# replicated marker deletes the key. Past the limit not one key is deleted at B (a new key is
# still copied), the run says why, exits 2 and `ferry jobs` says it was stopped; within the
# limit the deletes are made; P% of the source keys; [replication] max_delete without the flag;
# bad values and --dry-run refused in one line; a rerun of an unfinished run with another limit
# refused.
source "$(dirname "$0")/testlib.bash"
export HOME=$WORK/home
mkdir -p "$HOME"
A=$(new_bucket ra)
B=$(new_bucket rb)
check "source versioned" aws_side a s3api put-bucket-versioning --bucket "$A" \
  --versioning-configuration Status=Enabled
cat >> "$CONF" <<TOML

[[replication.rules]]
id = "all"
delete_markers = true
destinations = [{ location = "rb:$B" }]
TOML
mkdir -p "$WORK/src"
for i in 0 1 2 3 4 5 6 7 8 9; do echo "object $i" > "$WORK/src/k$i"; done
check "10 objects at A" ferry cp "$WORK/src" "ra:$A" --no-progress
S=$WORK/replication.db
check "a first pass copies them" ferry replicate "ra:$A" --state "$S"
dst_keys() { ferry ls "rb:$B" | awk '{print $NF}' | sort | tr '\n' ' '; }
check "  10 keys at B" [ "$(dst_keys)" = "k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 " ]

for k in k1 k3 k5 k7; do
  aws_side a s3api delete-object --bucket "$A" --key "$k" > /dev/null || fail "delete $k at A"
done
mkdir -p "$WORK/more" && echo "new" > "$WORK/more/new1"
check "a new key at A" ferry cp "$WORK/more" "ra:$A" --no-progress

# Bad values: one line, exit 2, nothing done.
for bad in -1 abc 150%; do
  check "--max-delete $bad refused" expect_error 2 "ferry: error: --max-delete: '$bad'" \
    ferry replicate "ra:$A" --state "$S" --max-delete "$bad"
done
check "--max-delete with --dry-run refused" \
  expect_error 2 "--dry-run cannot be combined with --max-delete" \
  ferry replicate "ra:$A" --state "$S" --max-delete 3 --dry-run
check "  nothing deleted" [ "$(dst_keys)" = "k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 " ]

# Past the count: 4 markers would delete 4 keys at B.
rc=0; ferry replicate "ra:$A" --state "$S" --max-delete 3 > "$WORK/out" 2> "$WORK/err" || rc=$?
check "past the count exits 2" [ "$rc" = 2 ]
check "  says why: planned, limit, way on" grep -q \
  "ferry: error: run [0-9]*: 4 deletes planned, over --max-delete 3: nothing was deleted; .*rerun with a higher --max-delete" \
  "$WORK/err"
check "  no key deleted at B, the new key copied" \
  [ "$(dst_keys)" = "k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 new1 " ]
check "  ferry jobs says the run was stopped by --max-delete" bash -c \
  "'$FERRY_BIN' --config '$CONF' jobs list --state '$S' | grep -q 'failed (stopped by --max-delete: 4 deletes planned'"

# A percentage of the source keys the pass judged (11): 4 is 36.4%.
rc=0; ferry replicate "ra:$A" --state "$S" --max-delete 30% 2> "$WORK/err" > /dev/null || rc=$?
check "P%: past it exits 2" [ "$rc" = 2 ]
check "  says the share and the scope" grep -q \
  "4 deletes planned (36.4% of the 11 source objects in scope), over --max-delete 30%" "$WORK/err"
check "  nothing deleted" [ "$(dst_keys)" = "k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 new1 " ]

# [replication] max_delete applies without the flag, named by its key.
cp "$CONF" "$WORK/limited.toml"
sed -i 's/^\[\[replication.rules\]\]$/[replication]\nmax_delete = 2\n\n[[replication.rules]]/' \
  "$WORK/limited.toml"
check "config check accepts [replication] max_delete" \
  "$FERRY_BIN" --config "$WORK/limited.toml" config check
rc=0; "$FERRY_BIN" --config "$WORK/limited.toml" replicate "ra:$A" --state "$S" \
  2> "$WORK/err" > /dev/null || rc=$?
check "[replication] max_delete: exit 2" [ "$rc" = 2 ]
check "  names the key" grep -q \
  "over \[replication\] max_delete 2: nothing was deleted; .*raise \[replication\] max_delete" \
  "$WORK/err"
check "  nothing deleted" [ "$(dst_keys)" = "k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 new1 " ]
printf '[replication]\nmax_delete = "x"\n' > "$WORK/bad.toml"
check "config check refuses a bad max_delete" expect_error 2 "\[replication\]: 'max_delete'" \
  "$FERRY_BIN" --config "$WORK/bad.toml" config check

# Within the limit (the flag over the key): the four keys go, the rest stays.
check "within the limit the markers delete" "$FERRY_BIN" --config "$WORK/limited.toml" \
  replicate "ra:$A" --state "$S" --max-delete 4
check "  exactly the source's current keys at B" [ "$(dst_keys)" = "k0 k2 k4 k6 k8 k9 new1 " ]
check "  a pass after it deletes nothing more" ferry replicate "ra:$A" --state "$S" --max-delete 0
check "  still the same keys" [ "$(dst_keys)" = "k0 k2 k4 k6 k8 k9 new1 " ]
finish

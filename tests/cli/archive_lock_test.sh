#!/usr/bin/env bash
# S3 Object Lock through ferry's archives (format 2, docs/design/object-lock.md) on the RGW
# gateways: objects of an object-lock bucket of gateway A with a GOVERNANCE retention and a legal
# hold, a legal hold alone, a 17 MiB one with a retention (read in ranges; written by a multipart
# upload, above the unpack's 16 MiB whole-write limit: RGW ignores lock headers there, ferry sets
# the lock after the commit), and one without; `ferry cp --compress --staging ... --preserve-lock` to an
# object-lock bucket of gateway B keeps mode, date and hold (and nothing without the flag);
# `ferry archive pack` records them (`archive ls --json`); `ferry backup` then `ferry restore
# --preserve-lock` writes them back (and nothing without the flag); a destination without object
# lock refused in one line, exit 1, for cp --compress, restore and unpack alike.
source "$(dirname "$0")/testlib.bash"
SCRATCH=${FERRY_TEST_TMPDIR:-$WORK}
export HOME=$SCRATCH/home  # no ~/.config/ferry or ~/.aws of the machine
mkdir -p "$HOME"
source "$(dirname "$0")/locklib.bash"
trap 'unlock_all; cleanup' EXIT

# --- the source: an object-lock bucket of gateway A ---------------------------------------------
S=$(lock_bucket ra); LOCKED+=("ra:$S")
UNTIL=$(until_in 900)
printf 'locked' > "$WORK/small.txt"
head -c $((17 * 1024 * 1024 + 5)) /dev/urandom > "$WORK/big.bin"
aws_side a s3api put-object --bucket "$S" --key l/held.txt --body "$WORK/small.txt" \
  --object-lock-mode GOVERNANCE --object-lock-retain-until-date "$UNTIL" \
  --object-lock-legal-hold-status ON >/dev/null
aws_side a s3api put-object --bucket "$S" --key l/hold-only.txt --body "$WORK/small.txt" \
  --object-lock-legal-hold-status ON >/dev/null
aws_side a s3api put-object --bucket "$S" --key l/big.bin --body "$WORK/big.bin" \
  --object-lock-mode GOVERNANCE --object-lock-retain-until-date "$UNTIL" >/dev/null
aws_side a s3api put-object --bucket "$S" --key l/plain.txt --body "$WORK/small.txt" >/dev/null
want_until=$(head_field a "$S" l/held.txt ObjectLockRetainUntilDate)

# check_locks a|b BUCKET WHAT: the four objects as on the source (with_lock) or without any lock
# (no_lock), and the large one's bytes intact
check_locks() {
  local side=$1 b=$2 what=$3
  if [ "$what" = with_lock ]; then
    check "  GOVERNANCE retention until the source's date and legal hold carried" \
      test "$(head_field "$side" "$b" l/held.txt \
               '[ObjectLockMode,ObjectLockRetainUntilDate,ObjectLockLegalHoldStatus]')" = \
           "GOVERNANCE	$want_until	ON"
    check "  a legal hold alone carried" \
      test "$(head_field "$side" "$b" l/hold-only.txt '[ObjectLockMode,ObjectLockLegalHoldStatus]')" = \
           "None	ON"
    check "  the 17 MiB object's retention carried" \
      test "$(head_field "$side" "$b" l/big.bin '[ObjectLockMode,ObjectLockRetainUntilDate]')" = \
           "GOVERNANCE	$want_until"
  else
    for key in l/held.txt l/hold-only.txt l/big.bin; do
      check "  $key without retention or legal hold (not asked for)" \
        test "$(head_field "$side" "$b" "$key" '[ObjectLockMode,ObjectLockLegalHoldStatus]')" = \
             "None	None"
    done
  fi
  check "  an object without lock stays without" \
    test "$(head_field "$side" "$b" l/plain.txt '[ObjectLockMode,ObjectLockLegalHoldStatus]')" = \
         "None	None"
  aws_side "$side" s3 cp "s3://$b/l/big.bin" "$WORK/big.back" >/dev/null
  check "  the 17 MiB object's bytes intact" cmp -s "$WORK/big.back" "$WORK/big.bin"
}

# --- cp --compress --preserve-lock --------------------------------------------------------------
STG=$(new_bucket rb)
D=$(lock_bucket rb); LOCKED+=("rb:$D")
check "cp --compress --preserve-lock to an object-lock bucket of the other gateway" \
  ferry cp "ra:$S" "rb:$D" --compress --staging "rb:$STG/stage" --preserve-lock \
  --state "$WORK/cp.db" --no-progress
check_locks b "$D" with_lock
D2=$(lock_bucket rb); LOCKED+=("rb:$D2")
check "cp --compress without --preserve-lock" \
  ferry cp "ra:$S" "rb:$D2" --compress --staging "rb:$STG/stage2" --state "$WORK/cp2.db" \
  --no-progress
check_locks b "$D2" no_lock
P=$(new_bucket rb)
check "cp --compress --preserve-lock to a bucket without object lock: exit 1, one line" \
  expect_error 1 "destination s3://$P.* has no object lock" \
  ferry cp "ra:$S" "rb:$P" --compress --staging "rb:$STG/stage3" --preserve-lock \
  --state "$WORK/cp3.db" --no-progress
check "  nothing was copied" test -z "$(ferry ls "rb:$P")"
check "cp --compress --acl: still refused (archives carry no ACLs), exit 2, one line" \
  expect_error 2 "--acl and --grants do not work with --compress" \
  ferry cp "ra:$S" "rb:$D2" --compress --staging "rb:$STG/stage4" --acl private --no-progress
check "unpack --preserve-lock to a bucket without object lock: exit 1, one line" \
  expect_error 1 "destination s3://$P.* has no object lock" \
  ferry unpack "rb:$STG/stage5" "rb:$P" --preserve-lock --state "$WORK/unpack.db"

# --- archive pack records the lock ----------------------------------------------------------------
check "archive pack of the object-lock bucket" \
  ferry archive pack "ra:$S/l/" "$WORK/l.fza"
ferry archive ls "$WORK/l.fza" --json > "$WORK/ls.json"
recorded() {  # recorded KEY: "MODE HOLD" of the entry KEY in archive ls --json ("- -": none)
  python3 - "$WORK/ls.json" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["key"].endswith(sys.argv[2]):
        lock = e.get("object_lock")
        print("- -" if lock is None else "%s %s" % (lock["mode"] or "-", lock["legal_hold"]))
PY
}
check "  archive ls --json: GOVERNANCE and the legal hold recorded" \
  test "$(recorded held.txt)" = "GOVERNANCE True"
check "  a legal hold alone recorded" test "$(recorded hold-only.txt)" = "- True"
check "  no lock recorded for an object without" test "$(recorded plain.txt)" = "- -"

# --- backup, then restore --preserve-lock ----------------------------------------------------------
BK=$(new_bucket rb)
check "backup of the object-lock bucket" \
  ferry backup "ra:$S" "rb:$BK/b" --state "$WORK/backup.db"
R=$(lock_bucket rb); LOCKED+=("rb:$R")
check "restore --preserve-lock to an object-lock bucket" \
  ferry restore "rb:$BK/b" --prefix l/ --to "rb:$R" --state "$WORK/backup.db" --preserve-lock
check_locks b "$R" with_lock
R2=$(lock_bucket rb); LOCKED+=("rb:$R2")
check "restore without --preserve-lock" \
  ferry restore "rb:$BK/b" --prefix l/ --to "rb:$R2" --state "$WORK/backup.db"
check_locks b "$R2" no_lock
check "restore --preserve-lock to a bucket without object lock: exit 1, one line" \
  expect_error 1 "destination s3://$P.* has no object lock" \
  ferry restore "rb:$BK/b" --prefix l/ --to "rb:$P" --state "$WORK/backup.db" --preserve-lock
check "  nothing was restored" test -z "$(ferry ls "rb:$P")"

finish

#!/usr/bin/env bash
# The systemd units of deploy/systemd/: `systemd-analyze verify` finds
# nothing to say (an unknown key, a missing binary or a bad specifier would be said), their
# hardening scores "OK" in `systemd-analyze security --offline`, they take the keys from a
# credential and never name a secret, and the command lines they run are ferry's.
# Nothing is started through systemd (CI runs in a container without it as PID 1).
set -euo pipefail
: "${FERRY_BIN:?FERRY_BIN not set: run through scripts/test-all.sh}"
UNITS="$(cd "$(dirname "$0")/../.." && pwd)/deploy/systemd"
command -v systemd-analyze > /dev/null || { echo "FAIL - systemd-analyze not installed (scripts/install-deps.sh tools)"; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
check() { local what=$1; shift; if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; FAILS=$((FAILS + 1)); fi; }

# the units as installed would run /usr/bin/ferry: here, the binary under test
for unit in ferry-serve.service ferry-worker@.service; do
  [ -f "$UNITS/$unit" ] || { echo "FAIL - $unit missing"; exit 1; }
  sed "s|/usr/bin/ferry|$FERRY_BIN|g" "$UNITS/$unit" > "$WORK/${unit/@./@one.}"
done
cd "$WORK"
for unit in ferry-serve.service ferry-worker@one.service; do
  rc=0
  systemd-analyze verify "$unit" > verify.out 2>&1 || rc=$?
  check "$unit: systemd-analyze verify passes" [ "$rc" = 0 ]
  check "  and says nothing (no unknown key, no bad specifier)" [ ! -s verify.out ]
  [ -s verify.out ] && sed 's/^/    /' verify.out
  systemd-analyze security --offline=yes "$unit" > security.out 2>&1 || true
  level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' security.out)
  echo "  exposure: $level"
  check "  hardening: exposure 2.0 or less (systemd-analyze security)" \
    python3 -c "import sys; v='$level'.split(); sys.exit(0 if v and float(v[0]) <= 2.0 else 1)"
  for directive in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
                   PrivateTmp=yes CapabilityBoundingSet= 'LoadCredential=aws-credentials:'; do
    check "  $directive" grep -q "^$directive" "$unit"
  done
  check "  the keys come from the credential" \
    grep -q '^Environment=AWS_SHARED_CREDENTIALS_FILE=%d/aws-credentials$' "$unit"
  check "  no secret in the unit (its comments aside)" bash -c "! grep -v '^#' '$unit' | grep -Eiq 'secret|AWS_ACCESS_KEY_ID|password'"
done

# the command lines: ferry takes them (the env file's arguments left out)
serve_cmd=$(sed -n 's/^ExecStart=//p' ferry-serve.service | sed 's/ \$FERRY_SERVE_ARGS$//')
worker_cmd=$(sed -n 's/^ExecStart=//p' ferry-worker@one.service | sed 's/ \$FERRY_WORKER_ARGS$//')
printf '[remotes.x]\nendpoint = "http://127.0.0.1:1"\n' > ferry.toml
check "ferry-serve's command line is ferry's (its --help)" \
  bash -c "${serve_cmd/\/etc\/ferry\/ferry.toml/$WORK/ferry.toml} --help | grep -q -- '--state'"
check "ferry-worker's command line is ferry's (its --help)" \
  bash -c "${worker_cmd/\/etc\/ferry\/ferry.toml/$WORK/ferry.toml} --help | grep -q -- '--role'"
# ExecStartPre and the first ExecReload: `ferry config check`, which fails on a broken config
for unit in ferry-serve.service ferry-worker@one.service; do
  for key in ExecStartPre ExecReload; do
    pre=$(sed -n "s/^$key=\(.*config check\)\$/\1/p" "$unit")
    check "$unit: $key checks the config" [ -n "$pre" ]
    check "  and passes on a good config" bash -c "${pre/\/etc\/ferry\/ferry.toml/$WORK/ferry.toml} | grep -q ': ok: 1 remote'"
  done
done
printf '[remotes.x]\nendpont = "http://127.0.0.1:1"\n' > broken.toml
check "  and fails on a broken one (exit 2, one line)" \
  bash -c "${pre/\/etc\/ferry\/ferry.toml/$WORK/broken.toml}; [ \$? = 2 ]"
if [ "$FAILS" -gt 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
echo "all checks passed"

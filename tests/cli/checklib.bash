# `check` and the verdict for the CLI scripts that need no server (testlib.bash, the others',
# needs the RGW pair). Sourced.
FAILS=0
check() { # description, then a command that must succeed (its output shown when it fails)
  local what=$1 out rc=0; shift
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" = 0 ]; then echo "ok   - $what"; else
    echo "FAIL - $what"; printf '%s\n' "$out" | sed 's/^/    /'; FAILS=$((FAILS + 1)); fi
}
checks_done() {  # the last line; exit 1 when a check failed
  if [ "$FAILS" = 0 ]; then echo "all checks passed"; else echo "$FAILS check(s) failed"; exit 1; fi
}

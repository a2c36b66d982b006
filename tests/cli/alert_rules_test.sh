#!/usr/bin/env bash
# The Prometheus alerting rules shipped for ferry's replication SLA metrics
# (deploy/prometheus/ferry-alerts.yml): `promtool check rules` accepts them and `promtool test
# rules deploy/prometheus/ferry-alerts.test.yml` shows each alert firing on synthetic series and
# staying quiet where it must; every alert of the file has a test there; `amtool check-config`
# accepts the Alertmanager example (deploy/prometheus/alertmanager.yml). Needs no server.
# promtool comes with Debian's prometheus package (scripts/install-deps.sh, group prom, part of
# the test group that CI installs): a missing promtool is a failure, never a skip.
set -euo pipefail
DIR=$(cd "$(dirname "$0")/../../deploy/prometheus" && pwd)
for tool in promtool amtool; do
  if ! command -v "$tool" > /dev/null; then
    echo "FAIL - $tool is not installed (bash scripts/install-deps.sh prom)"
    exit 1
  fi
done
source "$(dirname "$0")/checklib.bash"
check "promtool check rules: ferry-alerts.yml is valid" promtool check rules "$DIR/ferry-alerts.yml"
check "promtool test rules: every test of ferry-alerts.test.yml passes" \
  promtool test rules "$DIR/ferry-alerts.test.yml"
untested=()
for alert in $(sed -n 's/^ *- alert: *//p' "$DIR/ferry-alerts.yml"); do
  grep -q "alertname: $alert\$" "$DIR/ferry-alerts.test.yml" || untested+=("$alert")
done
check "every alert has a test (untested: ${untested[*]:-none})" [ ${#untested[@]} = 0 ]
check "amtool check-config: the Alertmanager example (alertmanager.yml) is valid" \
  amtool check-config "$DIR/alertmanager.yml"
check "  it routes critical to a webhook and warning to e-mail" python3 - "$DIR/alertmanager.yml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
routes = dict(re.findall(r"matchers: \['severity=\"(\w+)\"'\]\n\s+receiver: (\S+)", text))
assert routes == {"critical": "ops-pager", "warning": "ops-email"}, routes
assert re.search(r"- name: ops-pager\n\s+webhook_configs:", text)
assert re.search(r"- name: ops-email\n\s+email_configs:", text)
PY
check "every alert has a severity the Alertmanager example routes" \
  bash -c "! grep -A8 '^ *- alert:' '$DIR/ferry-alerts.yml' | grep 'severity:' | grep -vE 'severity: (critical|warning)$'"
check "the five SLA alerts are there" \
  [ "$(grep -c '^ *- alert: FerryReplication' "$DIR/ferry-alerts.yml")" = 5 ]
checks_done

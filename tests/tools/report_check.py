#!/usr/bin/env python3
"""Reads a ferry per-object report (docs/design/report.md) from a local folder, for the CLI
tests: every part listed in summary.json, parsed as CSV (RFC 4180) or JSON lines.

  report_check.py rows DIR            one line per row: ACTION RESULT CHECKSUM KEY (key as JSON)
  report_check.py count DIR ACTION    the rows whose action is ACTION
  report_check.py summary DIR PATH    the summary's value at a dotted PATH (counts.copied.ok);
                                      0 when a count is absent
  report_check.py field DIR KEY NAME  the field NAME of the row of KEY
Exits 1 on a part that summary.json does not list, a listed part missing, a part whose row
count differs from the summary's, or a line that does not parse.
"""
import csv
import io
import json
import os
import sys


def load(folder):
    with open(os.path.join(folder, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    listed = {p["name"]: p["rows"] for p in summary["parts"]}
    on_disk = {n for n in os.listdir(folder) if n.startswith("part-")}
    if set(listed) != on_disk:
        sys.exit(f"parts on disk {sorted(on_disk)} differ from summary.json's {sorted(listed)}")
    rows = []
    for name in sorted(listed):
        with open(os.path.join(folder, name), encoding="utf-8", newline="") as f:
            text = f.read()
        if name.endswith(".csv"):
            part = list(csv.DictReader(io.StringIO(text, newline="")))
        else:
            part = [json.loads(line) for line in text.splitlines()]
        if len(part) != listed[name]:
            sys.exit(f"{name}: {len(part)} rows, summary.json says {listed[name]}")
        rows.extend(part)
    return summary, rows


def main():
    cmd, folder = sys.argv[1], sys.argv[2]
    summary, rows = load(folder)
    if cmd == "rows":
        for r in rows:
            print(r["action"], r["result"], r["checksum"], json.dumps(r["key"]))
    elif cmd == "count":
        print(sum(1 for r in rows if r["action"] == sys.argv[3]))
    elif cmd == "summary":
        value = summary
        for step in sys.argv[3].split("."):
            value = value.get(step, 0) if isinstance(value, dict) else 0
        print(json.dumps(value) if isinstance(value, (dict, list, bool)) else value)
    elif cmd == "field":
        match = [r for r in rows if r["key"] == sys.argv[3]]
        if len(match) != 1:
            sys.exit(f"{len(match)} rows for {sys.argv[3]!r}")
        print(match[0][sys.argv[4]])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The module rule of src/, checked: every #include "x/..." between ferry's modules is an edge the
map allows.

    python3 scripts/check-modules.py [--root DIR] [--print]

A module is a folder of src/ with its own CMakeLists.txt (one CMake library: `app`, `events/setup`,
`storage/s3`, ...); a file belongs to the deepest such folder above it (src/jobs/kinds/x.cc is
`jobs`). The allowed edges are the ```modules block of docs/architecture.md ("The module rule"):
one line per module, `name: the modules its code may include`. Non-test code may include only
the modules its line names; test code (a file whose name contains "test", and src/testing/) may
include, besides, `testing` and every module its module reaches through the map.

Exit status 0 when every edge is allowed; 1 with one line per edge the map does not allow (the
file and the include that makes it), or when the map names a module that does not exist or leaves
one out; `--print` prints the edges the sources have now, in the block's format, to start a new
map from. Allowed edges no module uses any more are reported as a note, not a failure.
"""
import argparse
import collections
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def find_modules(src):
    mods = set()
    for d, _, files in os.walk(src):
        if 'CMakeLists.txt' in files and d != src:
            mods.add(os.path.relpath(d, src).replace(os.sep, '/'))
    return mods


def module_of(path, mods):
    parts = path.split('/')
    for i in range(len(parts) - 1, 0, -1):
        candidate = '/'.join(parts[:i])
        if candidate in mods:
            return candidate
    return None


def is_test_code(rel, mod):
    return mod == 'testing' or 'test' in os.path.basename(rel)


def scan(src, mods):
    """(module, target) -> [(file, include)], separately for non-test and test code."""
    edges = collections.defaultdict(list)
    test_edges = collections.defaultdict(list)
    for d, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(('.cc', '.h')):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, src).replace(os.sep, '/')
            mod = module_of(rel, mods)
            if mod is None:
                continue
            with open(path, encoding='utf-8', errors='replace') as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                target = module_of(inc, mods)
                if target is None or target == mod:
                    continue
                where = test_edges if is_test_code(rel, mod) and mod != 'testing' else edges
                where[(mod, target)].append((rel, inc))
    return edges, test_edges


def read_map(doc):
    with open(doc, encoding='utf-8') as fh:
        text = fh.read()
    m = re.search(r'^```modules\n(.*?)^```', text, re.M | re.S)
    if not m:
        sys.exit(f'check-modules: {doc} has no ```modules block (the module rule)')
    allowed = {}
    for n, line in enumerate(m.group(1).splitlines(), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        if ':' not in line:
            sys.exit(f'check-modules: {doc}: modules block line {n}: "{line}" is not "module: deps..."')
        name, deps = line.split(':', 1)
        allowed[name.strip()] = set(deps.split())
    return allowed


def reach(allowed, mod):
    seen, todo = set(), list(allowed.get(mod, ()))
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(allowed.get(m, ()))
    return seen


def main():
    ap = argparse.ArgumentParser(description='check the includes between ferry modules against docs/architecture.md')
    ap.add_argument('--root', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    ap.add_argument('--print', action='store_true', help='print the edges the sources have now')
    args = ap.parse_args()
    src = os.path.join(args.root, 'src')
    doc = os.path.join(args.root, 'docs', 'architecture.md')
    mods = find_modules(src)
    edges, test_edges = scan(src, mods)
    if args.print:
        by = collections.defaultdict(set)
        for mod, target in edges:
            by[mod].add(target)
        for mod in sorted(mods):
            print(f'{mod}: {" ".join(sorted(by[mod]))}'.rstrip())
        return 0
    allowed = read_map(doc)
    bad = []
    for name in sorted(set(allowed) - mods):
        bad.append(f'the map names module "{name}", which has no folder with a CMakeLists.txt under src/')
    for name in sorted(mods - set(allowed)):
        bad.append(f'module "{name}" is missing from the map (docs/architecture.md, ```modules)')
    for (mod, target), where in sorted(edges.items()):
        if target not in allowed.get(mod, ()):
            rel, inc = where[0]
            more = f' (and {len(where) - 1} more)' if len(where) > 1 else ''
            bad.append(f'{mod} -> {target}: {rel} includes "{inc}"{more}')
    for (mod, target), where in sorted(test_edges.items()):
        if target != 'testing' and target not in allowed.get(mod, ()) and target not in reach(allowed, mod):
            rel, inc = where[0]
            bad.append(f'{mod} (tests) -> {target}: {rel} includes "{inc}"')
    used = {e for e in edges}
    stale = sorted((m, t) for m, ts in allowed.items() for t in ts if (m, t) not in used)
    for line in bad:
        print(f'check-modules: not allowed: {line}')
    if stale:
        print('check-modules: note: allowed but unused (the map may shrink): ' +
              ', '.join(f'{m} -> {t}' for m, t in stale))
    if bad:
        print(f'check-modules: {len(bad)} edge(s) the module rule does not allow; either the code moves '
              'or docs/architecture.md (The module rule) says why the edge is right')
        return 1
    print(f'check-modules: {sum(len(v) for v in allowed.values())} allowed edges, '
          f'{len(used)} used, {len(mods)} modules: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())

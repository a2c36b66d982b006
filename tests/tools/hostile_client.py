#!/usr/bin/env python3
"""hostile_client: attacks one ferry listener on this machine and measures what it costs it.

Usage:
  hostile_client.py --port P --pid PID [--host 127.0.0.1] [--probe /healthz]
                    [--tls --cafile CA] [--slowloris 200] [--flood 5000] [--stall 200]
                    [--attacks LIST] [--summary FILE] [--label NAME]

Only loopback addresses are accepted. Every loop is bounded in count and time; the whole run
takes about 20 s. While it attacks, one well-behaved client asks GET PROBE on a new connection
every 0.2 s (5 s timeout) and a sampler reads VmRSS of PID from /proc every 0.1 s.

Attacks, in this order (--attacks: a comma list of their names, default all but stall):
  slowloris  SLOWLORIS connections send a request line, then one header byte per second each,
             never ending the head (the other small attacks run meanwhile)
  big        a POST announcing 1 GiB (Content-Length) that then sends it; and a chunked POST
             streaming 1 GiB without a length
  paths      bad paths (dot segments, encoded ones, NUL, 8 KiB, a long query, '*')
  methods    bad methods (DELETE, PUT, TRACE, CONNECT, made-up, control characters)
  malformed  malformed request lines and headers, binary garbage, bad chunking
  headers    a 1 MiB header, and 2,000 headers of 100 bytes
  flood      FLOOD connections opened at once (the soft open-file limit raised first), held 3 s
  stall      (TLS) STALL connections that send half a ClientHello and then nothing

It prints what it did and a table of figures, writes them as JSON to --summary, and exits 0:
the caller decides what is acceptable (tests/cli/serve_hostile_test.sh).

  hostile_client.py --table SUMMARY...   the figures of several runs side by side
"""
import argparse
import json
import os
import resource
import selectors
import socket
import ssl
import sys
import threading
import time

GIB = 1 << 30


def log(msg):
    print(msg, flush=True)


class Target:
    def __init__(self, host, port, tls, cafile):
        self.host, self.port, self.tls = host, port, tls
        self.ctx = None
        if tls:
            self.ctx = ssl.create_default_context(cafile=cafile)

    def raw(self, timeout=5.0):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s

    def conn(self, timeout=5.0):
        s = self.raw(timeout)
        if self.ctx is not None:
            s = self.ctx.wrap_socket(s, server_hostname=self.host)
        return s


def read_status(s, limit=1 << 16):
    """The status code of the answer on s (0: closed or reset without one)."""
    data = b""
    try:
        while b"\r\n" not in data and len(data) < limit:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except (OSError, ssl.SSLError):
        pass
    parts = data.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1]), data
    return 0, data


def exchange(target, raw, timeout=5.0):
    """Sends raw on a new connection; (status or 0, seconds, first bytes of the answer)."""
    start = time.monotonic()
    try:
        s = target.conn(timeout)
    except (OSError, ssl.SSLError):
        return -1, time.monotonic() - start, b""
    try:
        s.sendall(raw)
    except (OSError, ssl.SSLError):
        pass
    code, data = read_status(s)
    s.close()
    return code, time.monotonic() - start, data[:200]


class Probe(threading.Thread):
    """GET path every 0.2 s on a new connection; latencies and failures, by phase. A request
    that fails is sent once more at once, as a scraper or a load balancer's health check would
    (at the height of a flood the listener cuts unanswered connections to keep room, and a
    probe's can be one of them); its time is both tries', and it counts as retried."""

    def __init__(self, target, path):
        super().__init__(daemon=True)
        self.target, self.path = target, path
        self.stop = threading.Event()
        self.phase = "baseline"
        self.results = []  # (phase, ok, seconds)

    def run(self):
        req = f"GET {self.path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        while not self.stop.is_set():
            phase = self.phase
            code, took, _ = exchange(self.target, req, timeout=5.0)
            retried = code != 200
            if retried:
                code, again, _ = exchange(self.target, req, timeout=5.0)
                took += again
            self.results.append((phase, code == 200, took, retried))
            self.stop.wait(0.2)


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.samples = []  # (phase, rss KiB)
        self.phase = "baseline"

    def read(self, field):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def run(self):
        while not self.stop.is_set():
            rss = self.read("VmRSS")
            if rss is not None:
                self.samples.append((self.phase, rss))
            self.stop.wait(0.1)


def slowloris(target, count, figures, budget_s=16.0):
    """count connections trickling a head; when each was cut (seconds from its start)."""
    socks = []
    for _ in range(count):
        try:
            s = target.conn(timeout=5.0)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            socks.append([s, time.monotonic(), None])
        except (OSError, ssl.SSLError):
            pass
    opened = len(socks)
    start = time.monotonic()
    while time.monotonic() - start < budget_s and any(c[2] is None for c in socks):
        time.sleep(1.0)
        for c in socks:
            if c[2] is not None:
                continue
            s = c[0]
            closed = False
            try:
                if s.recv(1) == b"":
                    closed = True
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            except (OSError, ssl.SSLError):
                closed = True
            if not closed:
                try:
                    s.send(b"X")  # one header byte per second
                except (BlockingIOError, ssl.SSLWantWriteError):
                    pass
                except (OSError, ssl.SSLError):
                    closed = True
            if closed:
                c[2] = time.monotonic() - c[1]
    cut = [c[2] for c in socks if c[2] is not None]
    for c in socks:
        c[0].close()
    figures["slowloris_opened"] = opened
    figures["slowloris_cut"] = len(cut)
    figures["slowloris_held_max_s"] = round(max(cut), 1) if cut else None
    figures["slowloris_held_min_s"] = round(min(cut), 1) if cut else None
    log(f"  slowloris: {opened} opened, {len(cut)} cut by the server, held "
        f"{figures['slowloris_held_min_s']}-{figures['slowloris_held_max_s']} s")


def big_bodies(target, events_path, figures):
    # announced: the answer should come before the body
    start = time.monotonic()
    s = target.conn()
    s.sendall(f"POST {events_path} HTTP/1.1\r\nHost: x\r\nContent-Length: {GIB}\r\n\r\n"
              .encode())
    s.settimeout(5.0)
    code, _ = read_status(s)
    sent = 0
    chunk = b"x" * (1 << 20)
    try:
        while sent < GIB and time.monotonic() - start < 20:
            s.sendall(chunk)
            sent += len(chunk)
    except (OSError, ssl.SSLError):
        pass
    s.close()
    figures["announced_1gib_status"] = code
    figures["announced_1gib_sent_mib"] = sent >> 20
    log(f"  1 GiB announced: answered {code}, {sent >> 20} MiB sent before the server closed")
    # chunked: the connection should close soon after max_body
    start = time.monotonic()
    s = target.conn()
    s.sendall(f"POST {events_path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              .encode())
    piece = b"100000\r\n" + chunk + b"\r\n"
    sent = 0
    try:
        while sent < GIB and time.monotonic() - start < 20:
            s.sendall(piece)
            sent += len(chunk)
    except (OSError, ssl.SSLError):
        pass
    s.close()
    figures["chunked_1gib_sent_mib"] = sent >> 20
    figures["chunked_1gib_seconds"] = round(time.monotonic() - start, 2)
    log(f"  1 GiB chunked: {sent >> 20} MiB sent before the server closed "
        f"({figures['chunked_1gib_seconds']} s)")


def answers(target, requests, figures, name):
    """Each raw request on its own connection; the codes seen (0: closed without an answer)."""
    codes = {}
    leaks = 0
    for raw in requests:
        code, _, data = exchange(target, raw)
        codes[code] = codes.get(code, 0) + 1
        if b"root:" in data:
            leaks += 1
    figures[f"{name}_codes"] = {str(k): v for k, v in sorted(codes.items())}
    # 505 is the answer meant for an HTTP version the server does not speak: not a failure
    figures[f"{name}_5xx"] = sum(v for k, v in codes.items() if 500 <= k <= 599 and k != 505)
    figures[f"{name}_leaks"] = leaks
    log(f"  {name}: {len(requests)} requests, answers {figures[f'{name}_codes']} "
        "(0: closed without one)")


def bad_paths():
    paths = ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
             "/assets/../../../../../etc/passwd", "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
             "/events%00", "/healthz%00.html", "//////", "/" + "a" * 8000,
             "/api/status?" + "x=1&" * 2000, "*", "http://evil.example/", "/\x7f",
             "/assets/" + "..%2f" * 50 + "etc/passwd"]
    return [f"GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")
            for p in paths]


def bad_methods():
    ms = ["DELETE /events", "PUT /healthz", "TRACE /", "CONNECT 127.0.0.1:22", "FOO /",
          "OPTIONS *", "PATCH /api/status", "G\x01T /", "GET\t/", "POST /metrics",
          "X" * 5000 + " /"]
    return [f"{m} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .encode("latin-1") for m in ms]


def malformed():
    return [b"GET\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", b"\r\n\r\n\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost x\r\n\r\n", b"GET / HTTP/1.1\r\n: empty\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
            b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n\r\n",
            b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 5\r\n\r\n0\r\n\r\n",
            b"GET / HTTP/1.1\nHost: x\n\n", bytes(range(256)) * 16,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200]


def huge_headers():
    one = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"
    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"b" * 90) for i in range(2000)) + b"\r\n"
    return [one, many]


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def flood(target, count, figures, hold_s=3.0):
    """count non-blocking connects at once, held hold_s; what became of them."""
    limit = raise_nofile(count + 200)
    count = min(count, limit - 200)
    sel = selectors.DefaultSelector()
    socks = []
    refused = 0
    start = time.monotonic()
    for _ in range(count):
        s = socket.socket(socket.AF_INET6 if ":" in target.host else socket.AF_INET)
        s.setblocking(False)
        err = s.connect_ex((target.host, target.port))
        if err not in (0, 115):  # 115: EINPROGRESS
            refused += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    connected, closed = set(), set()
    while time.monotonic() - start < hold_s + 2 and (len(connected) + len(closed)) < len(socks):
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected.add(s)
            else:
                closed.add(s)
            sel.unregister(s)
    time.sleep(max(0.0, hold_s - (time.monotonic() - start)))
    # which of the connected ones did the server close meanwhile
    cut = 0
    for s in connected:
        try:
            if s.recv(1) == b"":
                cut += 1
        except BlockingIOError:
            pass
        except OSError:
            cut += 1
    for s in socks:
        s.close()
    figures["flood_tried"] = count
    figures["flood_connected"] = len(connected)
    figures["flood_refused"] = refused + len(closed)
    figures["flood_pending"] = len(socks) - len(connected) - len(closed)
    figures["flood_closed_by_server"] = cut
    log(f"  flood: {count} connections at once: {len(connected)} connected, "
        f"{figures['flood_refused']} refused, {figures['flood_pending']} still pending after "
        f"{hold_s + 2:.0f} s, {cut} of the connected closed by the server within {hold_s:.0f} s")


def stall(target, count, figures, budget_s=16.0):
    """TLS: count connections that send half a ClientHello and wait; when each was cut."""
    socks = []
    for _ in range(count):
        try:
            s = target.raw()
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
            s.setblocking(False)
            socks.append([s, time.monotonic(), None])
        except OSError:
            pass
    start = time.monotonic()
    while time.monotonic() - start < budget_s and any(c[2] is None for c in socks):
        time.sleep(0.25)
        for c in socks:
            if c[2] is not None:
                continue
            try:
                if c[0].recv(4096) == b"":
                    c[2] = time.monotonic() - c[1]
            except BlockingIOError:
                pass
            except OSError:
                c[2] = time.monotonic() - c[1]
    cut = [c[2] for c in socks if c[2] is not None]
    for c in socks:
        c[0].close()
    figures["stall_opened"] = len(socks)
    figures["stall_cut"] = len(cut)
    figures["stall_held_max_s"] = round(max(cut), 1) if cut else None
    log(f"  TLS handshake never finished: {len(socks)} opened, {len(cut)} cut by the server, "
        f"held at most {figures['stall_held_max_s']} s")


def table(paths):
    runs = [json.load(open(p)) for p in paths]

    def g(f, k, unit=""):
        v = f.get(k)
        return "-" if v is None else f"{v}{unit}"

    def bad(f):
        return str(sum(f.get(k + "_5xx", 0) for k in ("paths", "methods", "malformed", "headers")))

    rows = [
        ("RSS before / peak (MiB)", lambda f: f"{g(f, 'rss_baseline_mib')} / "
                                              f"{g(f, 'rss_peak_mib')}"),
        ("probe answered during", lambda f: f"{f['probe_during'] - f['probe_during_failed']}/"
                                            f"{f['probe_during']} "
                                            f"({f.get('probe_during_retried', 0)} retried)"),
        ("probe median / max (s)", lambda f: f"{g(f, 'probe_during_median_s')} / "
                                             f"{g(f, 'probe_during_max_s')}"),
        ("slowloris cut / held max", lambda f: f"{g(f, 'slowloris_cut')}/"
                                               f"{g(f, 'slowloris_opened')} / "
                                               f"{g(f, 'slowloris_held_max_s', 's')}"),
        ("TLS stalls cut / held max", lambda f: f"{g(f, 'stall_cut')}/{g(f, 'stall_opened')} / "
                                                f"{g(f, 'stall_held_max_s', 's')}"),
        ("1 GiB announced", lambda f: f"{g(f, 'announced_1gib_status')} after "
                                      f"{g(f, 'announced_1gib_sent_mib', ' MiB')}"),
        ("1 GiB chunked closed after", lambda f: g(f, "chunked_1gib_sent_mib", " MiB")),
        ("5,000 at once: conn/refused/cut", lambda f: f"{g(f, 'flood_connected')}/"
                                                      f"{g(f, 'flood_refused')}/"
                                                      f"{g(f, 'flood_closed_by_server')}"),
        ("bad requests answered 5xx", bad),
    ]
    w = max(len(r[0]) for r in rows)
    cols = [f["label"] for f in runs]
    cw = [max(len(c), 22) for c in cols]
    log("\n  | " + "".ljust(w) + " | " + " | ".join(c.ljust(x) for c, x in zip(cols, cw)) + " |")
    for name, fn in rows:
        cells = " | ".join(fn(f).ljust(x) for f, x in zip(runs, cw))
        log("  | " + name.ljust(w) + " | " + cells + " |")


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--table":
        table(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--probe", default="/healthz")
    ap.add_argument("--events-path", default="/events")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--cafile")
    ap.add_argument("--slowloris", type=int, default=200)
    ap.add_argument("--flood", type=int, default=5000)
    ap.add_argument("--stall", type=int, default=200)
    ap.add_argument("--attacks", default="slowloris,big,paths,methods,malformed,headers,flood")
    ap.add_argument("--summary")
    ap.add_argument("--label", default="ferry")
    a = ap.parse_args()
    if not (a.host.startswith("127.") or a.host in ("::1", "localhost")):
        raise SystemExit("hostile_client: loopback addresses only")
    attacks = set(a.attacks.split(","))
    target = Target(a.host, a.port, a.tls, a.cafile)
    figures = {"label": a.label}
    sampler, probe = Sampler(a.pid), Probe(target, a.probe)
    sampler.start()
    probe.start()
    time.sleep(1.0)
    baseline = [r for _, r in sampler.samples]
    figures["rss_baseline_mib"] = round(max(baseline) / 1024, 1) if baseline else None

    def phase(name):
        sampler.phase = probe.phase = name

    started = time.monotonic()
    phase("attack")
    side = None
    if "slowloris" in attacks:
        side = threading.Thread(target=slowloris, args=(target, a.slowloris, figures))
        side.start()
        time.sleep(1.0)
    if "stall" in attacks:
        side2 = threading.Thread(target=stall, args=(target, a.stall, figures))
        side2.start()
        time.sleep(1.0)
    else:
        side2 = None
    if "big" in attacks:
        big_bodies(target, a.events_path, figures)
    if "paths" in attacks:
        answers(target, bad_paths(), figures, "paths")
    if "methods" in attacks:
        answers(target, bad_methods(), figures, "methods")
    if "malformed" in attacks:
        answers(target, malformed(), figures, "malformed")
    if "headers" in attacks:
        answers(target, huge_headers(), figures, "headers")
    for t in (side, side2):
        if t is not None:
            t.join()
    if "flood" in attacks:
        flood(target, a.flood, figures)
    figures["attack_seconds"] = round(time.monotonic() - started, 1)
    phase("after")
    time.sleep(1.5)
    probe.stop.set()
    sampler.stop.set()
    probe.join()
    sampler.join()

    during = [r for r in probe.results if r[0] == "attack"]
    after = [r for r in probe.results if r[0] == "after"]
    figures["probe_during"] = len(during)
    figures["probe_during_failed"] = sum(1 for r in during if not r[1])
    figures["probe_during_retried"] = sum(1 for r in during if r[3])
    figures["probe_during_max_s"] = round(max((r[2] for r in during), default=0), 3)
    lat = sorted(r[2] for r in during)
    figures["probe_during_median_s"] = round(lat[len(lat) // 2], 3) if lat else None
    figures["probe_after_failed"] = sum(1 for r in after if not r[1])
    figures["probe_after"] = len(after)
    rss = [r for _, r in sampler.samples]
    figures["rss_peak_mib"] = round(max(rss) / 1024, 1) if rss else None
    hwm = sampler.read("VmHWM")
    figures["vm_hwm_mib"] = round(hwm / 1024, 1) if hwm else None
    figures["alive"] = os.path.exists(f"/proc/{a.pid}")

    log(f"\n  figures ({a.label}):")
    rows = [("peak RSS during the attacks", f"{figures['rss_peak_mib']} MiB "
             f"(before: {figures['rss_baseline_mib']} MiB; VmHWM {figures['vm_hwm_mib']} MiB)"),
            (f"GET {a.probe} during the attacks",
             f"{len(during) - figures['probe_during_failed']}/{len(during)} answered "
             f"({figures['probe_during_retried']} on a second try), "
             f"median {figures['probe_during_median_s']} s, max {figures['probe_during_max_s']} s"),
            (f"GET {a.probe} after", f"{len(after) - figures['probe_after_failed']}/{len(after)}"
             " answered")]
    if "slowloris_opened" in figures:
        rows.append((f"slowloris ({figures['slowloris_opened']} trickling 1 byte/s)",
                     f"{figures['slowloris_cut']} cut, held at most "
                     f"{figures['slowloris_held_max_s']} s"))
    if "stall_opened" in figures:
        rows.append((f"TLS handshakes never finished ({figures['stall_opened']})",
                     f"{figures['stall_cut']} cut, held at most {figures['stall_held_max_s']} s"))
    if "announced_1gib_status" in figures:
        rows.append(("1 GiB announced", f"answered {figures['announced_1gib_status']} after "
                     f"{figures['announced_1gib_sent_mib']} MiB sent"))
        rows.append(("1 GiB chunked", f"closed after {figures['chunked_1gib_sent_mib']} MiB"))
    if "flood_tried" in figures:
        rows.append((f"{figures['flood_tried']} connections at once",
                     f"{figures['flood_connected']} connected, {figures['flood_refused']} "
                     f"refused, {figures['flood_closed_by_server']} closed by the server in 3 s"))
    for name in ("paths", "methods", "malformed", "headers"):
        if f"{name}_codes" in figures:
            rows.append((f"bad {name}", f"answers {figures[f'{name}_codes']}, "
                         f"5xx {figures[f'{name}_5xx']}"))
    rows.append(("alive at the end", str(figures["alive"])))
    width = max(len(r[0]) for r in rows)
    for k, v in rows:
        log(f"  | {k.ljust(width)} | {v}")
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()

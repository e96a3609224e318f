#!/usr/bin/env python3
"""Benchmark `rnetstat -N` on a population spread over network namespaces.

Builds N named namespaces (`ip netns add`), each with one process holding C loopback TCP
connections (both ends, plus its listener), and one more namespace holding the same number of
connections in the same number of processes. Then times, with the same host state for all:

  * `rnetstat -N ns1 ... -N nsN -tanp`  (the N namespaces; root's own sockets left out)
  * the ss loop users write: `for n in ns1 ... nsN; do ip netns exec $n ss -tanp; done`
  * `rnetstat -tanp` in the one namespace holding as many sockets (entered with nsenter)
  * `rnetstat -N all -tanp` (every namespace on the host, including everything else running)

and prints a Markdown table plus the two target checks: at most 0.05x the ss loop, at most
1.5x the one-namespace listing. Needs root, `ip`, `ss`, `nsenter`; removes every namespace and
process it made. Standard library only.
"""

import argparse
import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
PREFIX = "rntb%d-" % os.getpid()


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def holder(ns_path, connections, ready_w, hold_r):
    """Child: enter the namespace, hold `connections` loopback connections, wait for EOF."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(ns_path, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        os._exit(3)
    os.close(fd)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    held = []
    left = connections
    while left:
        batch = min(left, 256)
        clients = [socket.create_connection(listener.getsockname()) for _ in range(batch)]
        for _ in range(batch):
            held.append(listener.accept()[0])
        held.extend(clients)
        left -= batch
    os.write(ready_w, b"x")
    os.read(hold_r, 1)  # EOF when the parent is done
    os._exit(0)


class Population:
    def __init__(self, namespaces, connections):
        self.names = []
        self.children = []
        self.hold_w = []
        self.namespaces = namespaces
        self.connections = connections

    def add_ns(self, name):
        sh("ip", "netns", "add", name)
        self.names.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")

    def spawn(self, name, connections):
        ready_r, ready_w = os.pipe()
        hold_r, hold_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ready_r)
                os.close(hold_w)
                for w in self.hold_w:
                    os.close(w)
                holder("/run/netns/" + name, connections, ready_w, hold_r)
            finally:
                os._exit(4)
        os.close(ready_w)
        os.close(hold_r)
        self.children.append(pid)
        self.hold_w.append(hold_w)
        return ready_r

    def build(self):
        ready = []
        for i in range(self.namespaces):
            name = "%s%03d" % (PREFIX, i)
            self.add_ns(name)
            ready.append(self.spawn(name, self.connections))
        one = PREFIX + "one"
        self.add_ns(one)
        for _ in range(self.namespaces):
            ready.append(self.spawn(one, self.connections))
        for r in ready:
            if os.read(r, 1) != b"x":
                raise RuntimeError("a holder failed to build its connections")
            os.close(r)
        return [n for n in self.names if n != one], one

    def teardown(self):
        for w in self.hold_w:
            try:
                os.close(w)
            except OSError:
                pass
        for pid in self.children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        for name in self.names:
            sh("ip", "netns", "del", name, check=False)


def timed(cmd, shell=False):
    start = time.perf_counter()
    out = subprocess.run(cmd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd, out.returncode, out.stderr[-500:]))
    return took, out.stdout


def rows(stdout):
    return sum(1 for line in stdout.splitlines() if b"ESTABLISHED" in line or b"LISTEN" in line or b"ESTAB" in line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument("--connections", type=int, default=200, help="per namespace")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ss-runs", type=int, default=3)
    ap.add_argument("--rnetstat", default="target/release/rnetstat")
    ap.add_argument("--smoke", action="store_true", help="5 namespaces x 20 connections, 2 runs")
    ap.add_argument("--json-out")
    ap.add_argument("--child-ehash", type=int, default=0, metavar="N",
                    help="set net.ipv4.tcp_child_ehash_entries=N while the namespaces are made "
                         "(each then gets its own TCP hash table), restored at exit")
    a = ap.parse_args()
    if a.smoke:
        a.namespaces, a.connections, a.runs, a.ss_runs = 5, 20, 2, 1
    if os.geteuid() != 0:
        print("netns_bench: needs root (ip netns add, setns)", file=sys.stderr)
        return 2
    for tool in ("ip", "ss", "nsenter"):
        if not shutil.which(tool):
            print("netns_bench: needs %s" % tool, file=sys.stderr)
            return 2
    if not os.access(a.rnetstat, os.X_OK):
        print("netns_bench: build %s first (cargo build --release)" % a.rnetstat, file=sys.stderr)
        return 2
    rn = os.path.abspath(a.rnetstat)
    ehash_key = "/proc/sys/net/ipv4/tcp_child_ehash_entries"
    ehash_before = None
    if a.child_ehash:
        with open(ehash_key) as f:
            ehash_before = f.read().strip()
        with open(ehash_key, "w") as f:
            f.write(str(a.child_ehash))
    pop = Population(a.namespaces, a.connections)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        t0 = time.perf_counter()
        names, one = pop.build()
        empty = PREFIX + "empty"
        pop.add_ns(empty)
        print("built %d namespaces x %d connections (+1 namespace with as many) in %.1f s"
              % (a.namespaces, a.connections, time.perf_counter() - t0), file=sys.stderr)
        sockets = a.namespaces * (2 * a.connections + 1)
        ns_args = []
        for n in names:
            ns_args += ["-N", n]
        loop = "for n in %s; do ip netns exec $n ss -tanp; done" % " ".join(names)
        cases = [
            ("rnetstat -N <%d names> -tanp" % len(names), [rn] + ns_args + ["-tanp"], False, a.runs),
            ("ss loop (ip netns exec $n ss -tanp)", loop, True, a.ss_runs),
            ("rnetstat -tanp, one namespace, same sockets",
             ["nsenter", "--net=/run/netns/" + one, rn, "-tanp"], False, a.runs),
            ("rnetstat -N all -tanp (whole host)", [rn, "-N", "all", "-tanp"], False, a.runs),
            ("rnetstat -N <one empty namespace> -tan (the per-namespace floor)",
             [rn, "-N", empty, "-tan"], False, a.runs),
            ("rnetstat -N <%d names> -tan (no owners)" % len(names), [rn] + ns_args + ["-tan"], False, a.runs),
        ]
        results = {}
        for label, cmd, shell, runs in cases:
            timed(cmd, shell)  # warm-up
            times = []
            for _ in range(runs):
                took, out = timed(cmd, shell)
                times.append(took)
            results[label] = {"median_s": statistics.median(times), "runs": times, "rows": rows(out)}
        print()
        print("%d namespaces x %d connections (%d TCP sockets); tcp_child_ehash_entries=%d; "
              "median of runs" % (a.namespaces, a.connections, sockets, a.child_ehash))
        print()
        print("| command | median wall | rows |")
        print("|---|---|---|")
        for label, r in results.items():
            print("| %s | %.3f s | %d |" % (label, r["median_s"], r["rows"]))
        multi = results[cases[0][0]]["median_s"]
        ss_loop = results[cases[1][0]]["median_s"]
        single = results[cases[2][0]]["median_s"]
        checks = [
            ("vs the ss loop", multi / ss_loop, 0.05),
            ("vs one namespace", multi / single, 1.5),
        ]
        print()
        failed = False
        for what, ratio, target in checks:
            ok = ratio <= target
            failed |= not ok
            print("%s: rnetstat -N %s: %.3fx (target <= %gx)" % ("PASS" if ok else "FAIL", what, ratio, target))
        # -N all lists more than the one namespace holds (everything on the host): per row.
        whole = results[cases[3][0]]
        one_rows = results[cases[2][0]]["rows"]
        if whole["rows"] and one_rows:
            per_row = (whole["median_s"] / whole["rows"]) / (single / one_rows)
            print("info: rnetstat -N all -tanp vs one namespace, per socket listed: %.3fx "
                  "(%d rows against %d)" % (per_row, whole["rows"], one_rows))
        if a.json_out:
            with open(a.json_out, "w") as f:
                json.dump({"results": results, "checks": checks}, f, indent=1)
        return 0 if (a.smoke or not failed) else 3
    finally:
        pop.teardown()
        if ehash_before is not None:
            with open(ehash_key, "w") as f:
                f.write(ehash_before)


if __name__ == "__main__":
    sys.exit(main())

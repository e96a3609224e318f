#!/usr/bin/env python3
"""rnetstat benchmark: time rnetstat against ss, netstat and lsof on a large socket population.

Why: rnetstat's performance targets (see the project issue) only mean something on a machine with
~100k TCP sockets held by ~1,000 processes, where `ss -tanp` spends seconds joining sockets to
processes. This script builds that population itself (loopback only, ports from bind(port 0)),
times every tool round-robin with matching flags, prints a Markdown table plus PASS/FAIL lines,
and tears the population down by PID, even on error or Ctrl-C.

Run from the repo root after `cargo build --release`:
    python3 bench/bench.py --smoke          # CI: 2,000 connections, 20 idle procs, 2 runs
    python3 bench/bench.py                  # full: 50,000 connections (100k sockets), 1,000 idle
    python3 bench/bench.py --help           # all options
Python 3 standard library only; works as non-root (then -p only sees your own processes).
Exit status: 0 ok; 1 a command failed or the population could not be built; 2 bad environment
(missing binary, kernel limits); 3 a target FAILed (full size only: --smoke judges no targets; it only
proves the benchmark works, and prints the ratios without PASS or FAIL).
"""
import argparse, contextlib, ctypes, http.client, json, os, resource, select, shutil, signal, socket
import statistics, struct, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FD_MARGIN = 64            # descriptors per worker kept free below RLIMIT_NOFILE
MAIN_PID = os.getpid()
LINGER0 = struct.pack("ii", 1, 0)   # close() sends RST: teardown leaves no TIME_WAIT behind
_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36
SIGS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class BenchError(Exception):
    """The environment is unsuitable (exit 2) or the population could not be built (exit 1)."""


def _on_signal(signum, _frame):
    if os.getpid() != MAIN_PID:      # a child forked just now still has our handler
        os._exit(128 + signum)
    raise SystemExit(128 + signum)   # unwinds into the finally blocks that tear down


def read_sysctl(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return f.read().split()


def write_sysctl(name, value):
    with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
        f.write(str(value))


# ---- socket population: workers hold connections, idle processes one socket each
class Population:
    """Worker and idle processes forked by this script. Only PIDs in self.pids are ever killed."""

    def __init__(self, per_worker, batch):
        self.pids = []          # every child we forked; reaped only in teardown()
        self.per_worker, self.batch = per_worker, batch
        self.connections = self.listeners = self.idle = 0

    def _fork(self, child_body):
        """Fork with signals blocked so a PID is always recorded before a signal can unwind."""
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGS)
        try:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)    # the parent decides when we die
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    if os.getppid() != MAIN_PID:                    # parent already gone
                        os._exit(1)
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGS)
                    child_body()
                    code = 0
                except BaseException as e:  # noqa: BLE001 - report anything, never return to caller
                    print(f"bench child {os.getpid()}: {e!r}", file=sys.stderr)
                finally:
                    os._exit(code)
            self.pids.append(pid)
            return pid
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGS)

    def add_idle(self, count, kind):
        """P processes, each holding one socket bound to 127.0.0.1 port 0 and nothing else."""
        for _ in range(count):
            s = socket.socket(type=socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            if kind == "tcp":
                s.listen(1)
            fd = s.fileno()
            self._fork(lambda: _idle_body(fd))
            s.close()
        self.idle += count
        self.listeners += count if kind == "tcp" else 0

    def add_connections(self, total):
        """Spread `total` established loopback connections (2 sockets each) over new workers."""
        nworkers = -(-total // self.per_worker)
        shares = [total // nworkers + (i < total % nworkers) for i in range(nworkers)]
        pipes = {}
        for n in shares:
            r, w = os.pipe()
            self._fork(lambda n=n, w=w: _worker_body(n, self.batch, w))
            os.close(w)
            pipes[r] = n
        return pipes, shares

    def wait_ready(self, pipes, timeout):
        """Read one status line per worker: 'ok N' or an error; EOF means the worker died."""
        deadline, buf = time.monotonic() + timeout, {r: b"" for r in pipes}
        try:
            while buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError(f"{len(buf)} worker(s) not ready after {timeout:.0f} s")
                for r in select.select(list(buf), [], [], left)[0]:
                    chunk = os.read(r, 4096)
                    buf[r] += chunk
                    if chunk and not buf[r].endswith(b"\n"):
                        continue
                    line = buf.pop(r).decode(errors="replace").strip()
                    if not line.startswith("ok "):
                        raise BenchError(f"worker failed: {line or 'exited without reporting'}")
                    self.connections += int(line.split()[1])
                    self.listeners += 1
        finally:
            for r in pipes:
                os.close(r)

    def teardown(self):
        """SIGKILL and reap exactly the children we forked (unreaped PIDs cannot be reused)."""
        for pid in self.pids:
            os.kill(pid, signal.SIGKILL)    # a dead but unreaped child is a zombie: still no error
        for pid in self.pids:
            os.waitpid(pid, 0)
        self.pids.clear()


def _close_inherited(keep_fd):
    """Close every descriptor inherited from the parent except stdio and keep_fd."""
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _idle_body(fd):
    _close_inherited(fd)
    while True:
        signal.pause()


def _worker_body(count, batch, wfd):
    """Hold `count` connections to a private listener; report readiness on wfd, then sleep."""
    _close_inherited(wfd)
    held = []
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        lst = socket.socket()
        lst.bind(("127.0.0.1", 0))
        lst.listen(batch)
        addr = lst.getsockname()
        while len(held) < 2 * count:
            n = min(batch, count - len(held) // 2)   # never more pending than the accept queue
            for _ in range(n):
                held.append(socket.socket())
                held[-1].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
                held[-1].connect(addr)
            for _ in range(n):
                held.append(lst.accept()[0])
                held[-1].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    except OSError as e:
        os.write(wfd, f"error after {len(held) // 2} connections: {e}\n".encode())
        raise
    os.write(wfd, f"ok {count}\n".encode())
    os.close(wfd)
    while True:
        signal.pause()


# ---- environment checks
def plan_limits(args, total_conns):
    """Pick connections per worker and list the kernel settings this population needs."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    lo, hi = map(int, read_sysctl("net.ipv4.ip_local_port_range"))
    # 2 fds per connection; every worker's clients share one destination, so stay well below
    # the ephemeral port count (other workers' connections may reuse the same source ports)
    per_worker = min((hard - FD_MARGIN) // 2, (hi - lo + 1) // 2, args.per_worker or 1 << 30)
    if per_worker < 100:
        raise BenchError(f"RLIMIT_NOFILE hard limit {hard} / port range {lo}-{hi} too small")
    nworkers = -(-total_conns // per_worker)
    nprocs = nworkers + args.idle_procs
    fds = int(read_sysctl("fs.file-nr")[0]) + 2 * total_conns + 4 * nprocs   # allocated + ours
    running = sum(1 for d in os.listdir("/proc") if d.isdigit())
    needs = []   # (sysctl, current, wanted)
    fmax = int(read_sysctl("fs.file-max")[0])
    if fds + 10000 > fmax:
        needs.append(("fs.file-max", fmax, fds + 50000))
    for name in ("kernel.pid_max", "kernel.threads-max"):
        cur = int(read_sysctl(name)[0])
        if running + nprocs + 1000 > cur:
            needs.append((name, cur, min(4194304, running + nprocs + 10000)))
    if os.geteuid() != 0:
        nhard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        if nhard != resource.RLIM_INFINITY and nhard < running + nprocs + 100:
            raise BenchError(f"RLIMIT_NPROC hard limit {nhard} < {running + nprocs} processes")
        resource.setrlimit(resource.RLIMIT_NPROC, (nhard, nhard))
    batch = min(512, int(read_sysctl("net.core.somaxconn")[0]))
    return per_worker, batch, needs


def apply_sysctls(needs, tune):
    """Raise needed sysctls only with --tune-sysctl (root); return originals for restoring."""
    if not needs:
        return []
    cmd = " ".join(f"{k}={v}" for k, _, v in needs)
    if not tune or os.geteuid() != 0:
        for k, cur, v in needs:
            print(f"needs {k} >= {v} (now {cur})", file=sys.stderr)
        raise BenchError(f"kernel limits too low: as root, run `sysctl -w {cmd}` "
                         "or pass --tune-sysctl")
    for k, cur, v in needs:
        write_sysctl(k, v)
        print(f"raised {k}: {cur} -> {v} (restored on exit)", file=sys.stderr)
    return [(k, cur) for k, cur, _ in needs]


# ---- timing
def find_gnu_time():
    """GNU time reports the command's own peak RSS; os.wait4 alone reports at least our own RSS,
    because Linux carries the spawning process's high-water mark across exec."""
    path = shutil.which("time", path="/usr/bin:/bin")
    if path and subprocess.run([path, "-f", "%M", "-o", os.devnull, "true"],
                               stderr=subprocess.DEVNULL).returncode == 0:
        return path
    return None


def run_timed(argv, timeout, gnu_time):
    """Run argv with stdout to /dev/null; return dict(ok, wall, cpu, rss_kib, error)."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rssf:
        full = [gnu_time, "-f", "%M", "-o", rssf.name, *argv] if gnu_time else argv
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        t0 = time.perf_counter()
        try:
            # own process group, so a kill also reaches the command GNU time forked
            pid = os.posix_spawn(full[0], full, os.environ, file_actions=actions, setpgroup=0)
        except OSError as e:
            return {"ok": False, "error": f"cannot start: {e}"}
        pidfd = os.pidfd_open(pid)
        try:                                  # readable once the command has exited
            if not select.select([pidfd], [], [], timeout)[0]:
                raise TimeoutError
        except BaseException as e:            # timeout or Ctrl-C: never leave the command running
            os.killpg(pid, signal.SIGKILL)    # pid is not reaped yet, so this group is still ours
            with contextlib.suppress(ChildProcessError):   # as subreaper we also reap
                while True:                                 # time's orphaned child
                    os.waitpid(-pid, 0)
            if isinstance(e, TimeoutError):
                return {"ok": False, "error": f"timed out after {timeout} s"}
            raise
        finally:
            os.close(pidfd)
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGS)   # no unwinding between reap and record
        try:
            _, status, ru = os.wait4(pid, 0)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGS)
        wall = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").splitlines()[:2]
            msg = " / ".join(ln.strip() for ln in lines)
            return {"ok": False, "error": f"exit status {rc}: {msg[:160]}"}
        rss = ru.ru_maxrss
        if gnu_time:
            rssf.seek(0)                      # GNU time wrote "%M" (KiB) as the last line
            words = rssf.read().split()
            rss = int(words[-1]) if words and words[-1].isdigit() else rss
        return {"ok": True, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_kib": rss}


def bench_commands(commands, runs, warmup, timeout, gnu_time):
    """Round-robin: every round runs each command once. A command that fails is dropped."""
    res = {name: {"argv": argv, "runs": [], "error": None} for name, argv in commands}
    for rnd in range(warmup + runs):
        for name, argv in commands:
            r = res[name]
            if r["error"]:
                continue
            out = run_timed(argv, timeout, gnu_time)
            if not out["ok"]:
                r["error"] = out["error"]
                print(f"  FAILED: {name}: {out['error']}", file=sys.stderr)
            elif rnd >= warmup:
                r["runs"].append(out)
        print(f"  round {rnd + 1}/{warmup + runs} done{' (warm-up)' if rnd < warmup else ''}",
              file=sys.stderr)
    for r in res.values():
        if r["runs"] and not r["error"]:
            r["wall"] = statistics.median(x["wall"] for x in r["runs"])
            r["cpu"] = statistics.median(x["cpu"] for x in r["runs"])
            r["rss_mib"] = max(x["rss_kib"] for x in r["runs"]) / 1024
    return res


# ---- the metrics server: scrapes of one long-running `rnetstat --metrics --listen`
METRICS_PAIRS = [("scrape --metrics -t", ["-t"], "rnetstat -tan"),
                 ("scrape --metrics -tp", ["-tp"], "rnetstat -tanp")]
RSS_SCRAPES = 200


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def bench_metrics(args, results, gnu_time):
    """Times scrapes of `rnetstat --metrics --listen 127.0.0.1:0` against the listing it
    replaces, and samples the server's RSS over RSS_SCRAPES scrapes. The server is killed by
    its PID however this ends."""
    out = {}
    for name, flags, ref in METRICS_PAIRS:
        sink = open(os.devnull, "wb")
        proc = subprocess.Popen([args.rnetstat, "--metrics", "--listen", "127.0.0.1:0", *flags],
                                stdout=sink, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: _libc.prctl(PR_SET_PDEATHSIG,
                                                               signal.SIGKILL, 0, 0, 0))
        try:
            line = proc.stderr.readline()
            port = int(line.rsplit(":", 1)[1].split("/")[0])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=args.timeout)

            def scrape():
                t = time.monotonic()
                try:
                    conn.request("GET", "/metrics")
                    resp = conn.getresponse()
                except (ConnectionError, http.client.RemoteDisconnected):
                    # The server closed a kept-alive connection (its idle or lifetime limit).
                    conn.close()
                    t = time.monotonic()
                    conn.request("GET", "/metrics")
                    resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or b"rnetstat_sockets" not in body:
                    raise BenchError(f"{name}: HTTP {resp.status}")
                return time.monotonic() - t

            # Interleaved with the listing it replaces, so drift (other load) hits both alike.
            ref_argv = results.get(ref, {}).get("argv")
            walls, ref_walls = [], []
            for rnd in range(args.warmup + args.runs):
                w = scrape()
                rw = run_timed(ref_argv, args.timeout, gnu_time) if ref_argv else None
                if rnd >= args.warmup:
                    walls.append(w)
                    if rw and rw.get("ok"):
                        ref_walls.append(rw["wall"])
            rss = []
            for i in range(RSS_SCRAPES):
                scrape()
                if i in (9, RSS_SCRAPES - 1) or i % 20 == 19:
                    rss.append(vm_rss_kib(proc.pid))
            conn.close()
            r = {"runs": len(walls), "wall": statistics.median(walls), "min": min(walls),
                 "max": max(walls), "ref": ref, "rss_kib": rss,
                 "rss_at_10_mib": rss[0] / 1024, "rss_at_end_mib": rss[-1] / 1024}
            r["ref_wall"] = statistics.median(ref_walls) if ref_walls else None
            r["ratio"] = r["wall"] / r["ref_wall"] if r["ref_wall"] else None
            out[name] = r
        except (OSError, ValueError, IndexError, http.client.HTTPException, BenchError) as e:
            out[name] = {"error": repr(e)}
            print(f"  FAILED: {name}: {e!r}", file=sys.stderr)
        finally:
            proc.kill()
            proc.wait()
            sink.close()
    return out


def print_metrics(metrics):
    print(f"\n### Metrics server (one `rnetstat --metrics --listen` per row; "
          f"RSS over {RSS_SCRAPES} scrapes)\n")
    print("| scrape | runs | median wall (s) | wall min–max (s) | vs (interleaved) | its median (s) "
          "| ratio | RSS at scrape 10 (MiB) | RSS at scrape 200 (MiB) |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for name, r in metrics.items():
        if "error" in r:
            print(f"| `{name}` | 0 | FAILED | | | | | | |")
            continue
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] else "–"
        ref_wall = f"{r['ref_wall']:.3f}" if r["ref_wall"] else "–"
        print(f"| `{name}` | {r['runs']} | {r['wall']:.3f} | {r['min']:.3f}–{r['max']:.3f} "
              f"| `{r['ref']}` | {ref_wall} | {ratio} | {r['rss_at_10_mib']:.1f} "
              f"| {r['rss_at_end_mib']:.1f} |")


# ---- reporting
def owner_scan_used(rn):
    """What `rnetstat -v -tanp` says about its owner scan (the BPF iterator needs root)."""
    err = subprocess.run([rn, "-v", "-tanp"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True).stderr
    lines = [ln.split("owners: ", 1)[1] for ln in err.splitlines() if "owners: " in ln]
    return lines[0] if lines else "unknown"


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": os.uname().release, "cpu": "?", "mem_gib": 0.0}
    with open("/proc/cpuinfo") as f:
        models = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
    info["cpu"] = models[0] if models else "?"
    with open("/proc/meminfo") as f:
        info["mem_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    return info


def census():
    """TCP sockets as ss sees them, plus processes and descriptors visible in /proc."""
    out = subprocess.run(["ss", "-tan"], capture_output=True, text=True, check=True).stdout
    pids, fds = [d for d in os.listdir("/proc") if d.isdigit()], 0
    for pid in pids:
        with contextlib.suppress(OSError):     # exited meanwhile, or not ours to read
            fds += len(os.listdir(f"/proc/{pid}/fd"))
    return {"tcp_sockets": max(0, len(out.splitlines()) - 1), "processes": len(pids), "fds": fds}


MATCHING_SS = {"rnetstat -tan": "ss -tan", "netstat -tan": "ss -tan", "ss -tan": "ss -tan"}


def print_table(res, rss_floor_mib):
    print("| command | runs | median wall (s) | wall min–max (s) | median CPU (s) | peak RSS (MiB) "
          "| wall vs ss |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in res.items():
        if r["error"] or not r["runs"]:
            print(f"| `{name}` | 0 | FAILED | | | | |")
            continue
        ref = res.get(MATCHING_SS.get(name, "ss -tanp"), {})
        ratio = f"{r['wall'] / ref['wall']:.2f}×" if ref.get("wall") else "–"
        rss = f"≤ {rss_floor_mib:.1f}" if r["rss_mib"] <= rss_floor_mib else f"{r['rss_mib']:.1f}"
        walls = [x["wall"] for x in r["runs"]]
        print(f"| `{name}` | {len(walls)} | {r['wall']:.3f} | {min(walls):.3f}–{max(walls):.3f} "
              f"| {r['cpu']:.3f} | {rss} | {ratio} |")
    failed = [f"- `{n}`: {r['error']}" for n, r in res.items() if r["error"]]
    if failed:
        print("\nFailed commands (not timed):", *failed, sep="\n")


def target_checks(res, scale_ratio, metrics=None):
    """The issue's targets as (description, verdict, detail)."""
    specs = [("rnetstat -tanp wall <= 0.10 x ss -tanp", "rnetstat -tanp", "ss -tanp", "wall", 0.10),
             ("rnetstat -tan wall <= 1.0 x ss -tan", "rnetstat -tan", "ss -tan", "wall", 1.0),
             ("rnetstat -tanp --json wall <= 1.1 x rnetstat -tanp", "rnetstat -tanp --json",
              "rnetstat -tanp", "wall", 1.1),
             ("rnetstat -tanp peak RSS <= ss -tanp", "rnetstat -tanp", "ss -tanp", "rss_mib", 1.0)]
    out = []
    for desc, a, b, key, limit in specs:
        va, vb = res.get(a, {}).get(key), res.get(b, {}).get(key)
        if va is None or not vb:
            out.append((desc, "SKIP", "a command failed or was not run"))
        else:
            out.append((desc, "PASS" if va <= limit * vb else "FAIL", f"ratio {va / vb:.3f}"))
    m = (metrics or {}).get("scrape --metrics -t")
    if m is not None:
        desc = "one scrape (--metrics -t) wall <= 1.2 x rnetstat -tan"
        if "error" in m or m.get("ratio") is None:
            out.append((desc, "SKIP", "the server or rnetstat -tan failed"))
        else:
            out.append((desc, "PASS" if m["ratio"] <= 1.2 else "FAIL", f"ratio {m['ratio']:.3f}"))
            # Flat: at most 2 MiB more after 200 scrapes than after the first 10.
            grew = (m["rss_kib"][-1] - m["rss_kib"][0]) / 1024
            out.append((f"metrics server RSS flat over {RSS_SCRAPES} scrapes (growth <= 2 MiB)",
                        "PASS" if grew <= 2 else "FAIL", f"grew {grew:.2f} MiB"))
    if scale_ratio is not None:
        out.append(("rnetstat -tanp wall at 2N <= 2.2 x at N",
                    "PASS" if scale_ratio <= 2.2 else "FAIL", f"ratio {scale_ratio:.3f}"))
    return out


# ---- main
def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--connections", type=int, default=50000, metavar="N",
                   help="loopback TCP connections to hold open (see --unit)")
    p.add_argument("--unit", choices=["connections", "sockets"], default="connections",
                   help="what N counts: established connections (2 sockets each, both ends held "
                        "open) or TCP sockets in total (N/2 connections)")
    p.add_argument("--idle-procs", type=int, default=1000, metavar="P",
                   help="extra processes holding one socket each")
    p.add_argument("--idle-socket", choices=["udp", "tcp"], default="udp",
                   help="socket each idle process holds (tcp = a listener, shows up in -t output)")
    p.add_argument("--per-worker", type=int, default=0, metavar="C",
                   help="max connections per worker (0 = as many as RLIMIT_NOFILE allows)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per command")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds before the timed runs")
    p.add_argument("--rnetstat", default=os.path.join(ROOT, "target/release/rnetstat"),
                   metavar="PATH", help="rnetstat binary")
    p.add_argument("--no-lsof", action="store_true", help="skip lsof (slow at full size)")
    p.add_argument("--no-metrics", action="store_true",
                   help="skip the metrics server's scrapes (--metrics --listen)")
    p.add_argument("--metrics-only", action="store_true",
                   help="time only rnetstat -tan and -tanp (the references) and the scrapes")
    p.add_argument("--scale-check", action="store_true",
                   help="then double the connections and report rnetstat -tanp's time ratio")
    p.add_argument("--smoke", action="store_true",
                   help="CI mode: 2,000 connections, 20 idle procs, 2 runs; fails only if a "
                        "command fails or the population cannot be built, never on targets")
    p.add_argument("--timeout", type=float, default=600, help="seconds per command run")
    p.add_argument("--ready-timeout", type=float, default=600,
                   help="seconds to wait for the population to be built")
    p.add_argument("--tune-sysctl", action="store_true",
                   help="root only: raise kernel limits the population needs (restored on exit)")
    p.add_argument("--json-out", metavar="FILE", help="also write results as JSON")
    a = p.parse_args()
    if a.smoke:
        a.connections, a.idle_procs, a.runs, a.unit = 2000, 20, 2, "connections"
    if a.connections < 1 or a.idle_procs < 0 or a.runs < 1 or a.warmup < 0:
        p.error("--connections and --runs must be >= 1, --idle-procs and --warmup >= 0")
    return a


def build_commands(args):
    rn, cmds = args.rnetstat, []
    if not (os.path.isfile(rn) and os.access(rn, os.X_OK)):
        raise BenchError(f"rnetstat binary not found at {rn}: run `cargo build --release` in "
                         f"{ROOT}, or pass --rnetstat PATH")
    tools = {t: shutil.which(t) for t in ("ss", "netstat", "lsof")}
    if not tools["ss"]:
        raise BenchError("ss (iproute2) is required: it is the reference for every ratio")
    cmds += [("rnetstat -tan", [rn, "-tan"]), ("rnetstat -tanp", [rn, "-tanp"]),
             ("rnetstat -tanp --json", [rn, "-tanp", "--json"]),
             # The owner scan without root's BPF iterator: what every other user gets.
             ("rnetstat -tanp --owner-scan proc", [rn, "-tanp", "--owner-scan", "proc"]),
             ("ss -tan", [tools["ss"], "-tan"]), ("ss -tanp", [tools["ss"], "-tanp"])]
    if tools["netstat"]:
        cmds += [("netstat -tan", [tools["netstat"], "-tan"]),
                 ("netstat -tanp", [tools["netstat"], "-tanp"])]
    else:
        print("note: netstat not installed (net-tools); skipping its rows", file=sys.stderr)
    if tools["lsof"] and not args.no_lsof:
        cmds.append(("lsof -nP -iTCP", [tools["lsof"], "-nP", "-iTCP"]))
    elif not args.no_lsof:
        print("note: lsof not installed; skipping its row", file=sys.stderr)
    return cmds


def build_population(args, conns, pop):
    """Fork workers (connections) and idle processes; return a summary once all report ready."""
    t0, load = time.monotonic(), os.getloadavg()[0]
    if load > 0.5:
        print(f"note: load average is {load:.2f}: other work will inflate wall times "
              "(compare the CPU column)", file=sys.stderr)
    print(f"building: {conns} connections ({2 * conns} sockets), <= {pop.per_worker} per worker, "
          f"{args.idle_procs} idle processes ({args.idle_socket})", file=sys.stderr)
    pipes, shares = pop.add_connections(conns)
    pop.add_idle(args.idle_procs, args.idle_socket)
    pop.wait_ready(pipes, args.ready_timeout)
    info = {"connections": pop.connections, "workers": len(shares), "idle_procs": pop.idle,
            "expected_tcp": 2 * pop.connections + pop.listeners,
            "build_s": round(time.monotonic() - t0, 2), "loadavg_start": load, **census()}
    print(f"population ready: {info}", file=sys.stderr)
    if info["tcp_sockets"] < info["expected_tcp"]:
        print("warning: ss sees fewer TCP sockets than were built", file=sys.stderr)
    return info


def report(args, pop_info, results, scale, gnu_time, metrics=None):
    """Print the Markdown report; return the target checks."""
    m, p = machine_info(), pop_info
    m["loadavg_end"] = os.getloadavg()[0]
    print(f"\n## rnetstat benchmark\n\nmachine: {m['nproc']} CPUs ({m['cpu']}), "
          f"{m['mem_gib']} GiB, Linux {m['kernel']}; uid {os.geteuid()}; load average "
          f"{p['loadavg_start']:.2f} before building, {m['loadavg_end']:.2f} at the end")
    print(f"population: {p['connections']} connections in {p['workers']} workers, "
          f"{p['idle_procs']} idle processes; ss sees {p['tcp_sockets']} TCP sockets "
          f"(built {p['expected_tcp']}); "
          f"{p['processes']} processes, {p['fds']} fds visible; built in {p['build_s']} s")
    floor = 0.0
    if not gnu_time:     # what wait4 reports for a command that uses almost nothing
        floor = run_timed([shutil.which("true") or "/bin/true"], 10, None).get("rss_kib", 0) / 1024
    how = "GNU time" if gnu_time else f"wait4, floored at {floor:.1f} MiB (no GNU time)"
    print(f"runs: {args.runs} per command, round-robin, after {args.warmup} warm-up round(s); "
          f"peak RSS via {how}")
    p["owner_scan"] = owner_scan_used(args.rnetstat)
    print(f"rnetstat -tanp owner scan: {p['owner_scan']}\n")
    print_table(results, floor)
    if scale:
        print(f"\nscale: at 2N ({scale['tcp_sockets']} TCP sockets) rnetstat -tanp median wall "
              f"{scale['wall_2n']:.3f} s ({scale['ratio']:.2f}× N), CPU {scale['cpu_2n']:.3f} s "
              f"({scale['cpu_ratio']:.2f}× N)")
    if metrics:
        print_metrics(metrics)
    checks = target_checks(results, scale and scale["ratio"], metrics)
    if args.smoke:
        # At smoke size the targets mean nothing (start-up dominates every command): no verdicts,
        # so a passing CI run prints no PASS or FAIL lines, only the figures.
        print("\n### Targets: not judged\n\nThis smoke run only proves the benchmark works (it "
              "built the population, ran and timed every command, and tears it down). Targets are "
              "judged at full size (python3 bench/bench.py); the ratios here, for the record:\n")
        for desc, _, detail in checks:
            print(f"- {desc}: {detail}")
    else:
        print("\n### Targets\n")
        for desc, verdict, detail in checks:
            print(f"- {verdict}: {desc} ({detail})")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": m, "args": vars(args), "population": p, "results": results,
                       "scale": scale, "metrics": metrics, "gnu_time": bool(gnu_time),
                       "checks": [dict(zip(("target", "verdict", "detail"), c)) for c in checks]},
                      f, indent=2)
    return checks


def run(args, pop_holder, saved_holder):
    commands = build_commands(args)
    if args.metrics_only:
        commands = [c for c in commands if c[0] in ("rnetstat -tan", "rnetstat -tanp")]
    conns = args.connections if args.unit == "connections" else max(1, args.connections // 2)
    per_worker, batch, needs = plan_limits(args, conns * (2 if args.scale_check else 1))
    saved_holder.extend(apply_sysctls(needs, args.tune_sysctl))
    gnu_time = find_gnu_time()
    pop = Population(per_worker, batch)
    pop_holder.append(pop)
    pop_info = build_population(args, conns, pop)
    results = bench_commands(commands, args.runs, args.warmup, args.timeout, gnu_time)
    metrics = None if args.no_metrics else bench_metrics(args, results, gnu_time)

    scale = None
    if args.scale_check and results["rnetstat -tanp"]["error"]:
        print("scale check skipped: rnetstat -tanp failed", file=sys.stderr)
    elif args.scale_check:
        print(f"scale check: adding {conns} more connections", file=sys.stderr)
        pop.wait_ready(pop.add_connections(conns)[0], args.ready_timeout)
        seen = census()["tcp_sockets"]
        r2 = bench_commands([c for c in commands if c[0] == "rnetstat -tanp"], args.runs,
                            args.warmup, args.timeout, gnu_time)["rnetstat -tanp"]
        if r2["error"]:
            results["rnetstat -tanp @2N"] = r2
        else:
            r1 = results["rnetstat -tanp"]
            scale = {"tcp_sockets": seen, "wall_2n": r2["wall"], "ratio": r2["wall"] / r1["wall"],
                     "cpu_2n": r2["cpu"], "cpu_ratio": r2["cpu"] / max(r1["cpu"], 1e-6)}

    checks = report(args, pop_info, results, scale, gnu_time, metrics)
    if any(r["error"] for r in results.values()) or any("error" in m for m in (metrics or {}).values()):
        return 1
    return 3 if not args.smoke and any(v == "FAIL" for _, v, _ in checks) else 0


def main():
    args = parse_args()
    for s in SIGS:
        signal.signal(s, _on_signal)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)   # orphans of commands we kill come to us
    pop_holder, saved = [], []
    t0 = time.monotonic()
    try:
        return run(args, pop_holder, saved)
    except (BenchError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1 if pop_holder else 2
    finally:
        for s in SIGS:
            signal.signal(s, signal.SIG_IGN)        # do not let a second Ctrl-C skip teardown
        for pop in pop_holder:
            pop.teardown()
        for name, value in saved:
            write_sysctl(name, value)
        print(f"torn down; total {time.monotonic() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Renders the benchmark results (Google Benchmark JSON) into plots and a results page.

    scripts/plot_bench.py RESULTS.json [RESULTS.json ...] [SYSCALLS.json] OUT_DIR

Reads the JSON written by `bench --benchmark_format=json --benchmark_out=FILE` (with or
without --benchmark_repetitions: medians are used when there are repetitions), writes SVG plots
and `results.md` (tables and the key ratios) into the output folder. Several files (the passes
of one `make bench`) are merged; the machine line comes from the first. A file named
`syscalls.json` is scripts/count_syscalls.py's count, put on the page beside them. Needs
python3-matplotlib.
"""

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CLIENTS = ["tunedhttp", "curl", "beast_sync", "raw_socket"]
CLIENT_LABELS = {
    "tunedhttp": "tunedhttp",
    "curl": "libcurl (reused easy handle / fresh handle)",
    "beast_sync": "Boost.Beast, synchronous",
    "raw_socket": "raw socket floor",
}
MODES = [("plain", "reused"), ("plain", "fresh"), ("tls", "reused"), ("tls", "fresh")]


def load(path):
    """Returns (context, {benchmark name: {field: value}}) with medians over repetitions."""
    document = json.loads(Path(path).read_text())
    runs = defaultdict(list)
    medians = {}
    for entry in document["benchmarks"]:
        name = entry.get("run_name", entry["name"]).removesuffix("/real_time")
        name = name.removesuffix("/manual_time").replace("/iterations:1", "")
        # vs_go/workers:N/CLIENT/N and servers/workers:N/SERVER/N: the argument is in the name.
        if name.startswith(("vs_go/", "vs_go_pinned/", "servers/")):
            name = re.sub(r"(/\d+)+$", "", name)
        if entry.get("run_type") == "aggregate":
            if entry.get("aggregate_name") == "median":
                medians[name] = entry
        elif not entry.get("error_occurred"):
            runs[name].append(entry)
    results = {}
    for name, entries in runs.items():
        if name in medians:
            results[name] = medians[name]
            continue
        fields = {}
        for key, value in entries[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                fields[key] = statistics.median(e[key] for e in entries if key in e)
        results[name] = fields
    return document.get("context", {}), results


def rate(results, name):
    entry = results.get(name)
    return entry.get("items_per_second") if entry else None


def machine_line(context):
    load_average = context.get("load_avg", [])
    load_text = ", ".join(f"{x:.2f}" for x in load_average) if load_average else "?"
    return (f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
            f"load average at start {load_text}, {context.get('date', '')}")


def plot_requests(results, out):
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.2
    for index, client in enumerate(CLIENTS):
        rates, p50, p99 = [], [], []
        for security, mode in MODES:
            entry = results.get(f"requests/{security}/{mode}/{client}", {})
            rates.append(entry.get("items_per_second", 0))
            p50.append(entry.get("p50_us", 0))
            p99.append(entry.get("p99_us", 0))
        positions = [m + (index - 1.5) * width for m in range(len(MODES))]
        left.bar(positions, rates, width, label=CLIENT_LABELS[client])
        right.bar(positions, p50, width, label=CLIENT_LABELS[client])
        right.scatter(positions, p99, marker="_", s=120, color="black",
                      label="p99" if index == 0 else None, zorder=3)
    for axis in (left, right):
        axis.set_xticks(range(len(MODES)))
        axis.set_xticklabels([f"{s}\n{m} connection" for s, m in MODES])
        axis.set_yscale("log")
        axis.grid(axis="y", which="both", alpha=0.3)
    left.set_ylabel("requests per second (log)")
    left.set_title("Throughput, one request at a time")
    right.set_ylabel("latency per request, µs (log): bar p50, tick p99")
    right.set_title("Per-request latency")
    left.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "requests.svg")
    plt.close(figure)


def concurrency_rows(results):
    rows = defaultdict(dict)  # cap → workers → entry
    for name, entry in results.items():
        if not name.startswith("concurrency/"):
            continue
        parts = dict(p.split(":") for p in name.split("/")[1:])
        rows[int(parts["max_host_idle_conns"])][int(parts["workers"])] = entry
    return rows


def plot_concurrency(results, out):
    rows = concurrency_rows(results)
    if not rows:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for cap in sorted(rows):
        workers = sorted(rows[cap])
        label = f"max_host_idle_conns={cap}" + (" (=2)" if cap == 0 else "")
        left.plot(workers, [rows[cap][w]["items_per_second"] for w in workers], "o-", label=label)
        right.plot(workers, [rows[cap][w]["dials_per_request"] for w in workers], "o-",
                   label=label)
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("parallel workers (one client, one host)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    left.set_ylabel("requests per second")
    left.set_title("Throughput")
    right.set_ylabel("dials per request")
    right.set_title("New connections per request")
    figure.tight_layout()
    figure.savefig(out / "concurrency.svg")
    plt.close(figure)


def plot_timers(results, out):
    timers = ["response_header", "expect_continue", "idle_conn"]
    figure, axis = plt.subplots(figsize=(9, 4.5))
    width = 0.38
    for index, load_name in enumerate(["idle", "busy"]):
        entries = [results.get(f"timer/{t}/{load_name}", {}) for t in timers]
        positions = [t + (index - 0.5) * width for t in range(len(timers))]
        p50 = [e.get("lateness_p50_us", 0) for e in entries]
        p99 = [e.get("lateness_p99_us", 0) for e in entries]
        worst = [e.get("lateness_max_us", 0) for e in entries]
        axis.bar(positions, p50, width, label=f"p50, other core {load_name}")
        axis.scatter(positions, p99, marker="_", s=150, color="black",
                     label="p99" if index == 0 else None, zorder=3)
        axis.scatter(positions, worst, marker="x", color="red",
                     label="max" if index == 0 else None, zorder=3)
    axis.set_xticks(range(len(timers)))
    axis.set_xticklabels([f"{t}\n(limit 20 ms)" for t in timers])
    axis.set_yscale("log")
    axis.set_ylabel("lateness after the limit, µs (log)")
    axis.set_title("Timer precision: how long after its limit each timer fired")
    axis.grid(axis="y", which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "timers.svg")
    plt.close(figure)


def plot_memory(results, out):
    names = [n for n in ("memory/plain", "memory/tls") if n in results]
    if not names:
        return
    figure, axis = plt.subplots(figsize=(5, 3.5))
    values = [results[n]["bytes_per_idle_conn"] / 1024 for n in names]
    axis.bar([n.split("/")[1] for n in names], values, color=["tab:blue", "tab:orange"])
    for index, value in enumerate(values):
        axis.text(index, value, f"{value:.1f} KiB", ha="center", va="bottom")
    axis.set_ylabel("heap per idle pooled connection, KiB")
    axis.set_title("Client memory per idle connection")
    figure.tight_layout()
    figure.savefig(out / "memory.svg")
    plt.close(figure)


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "n/a"


def key_ratios(results, syscalls=None):
    """The issue's targets, as (what, value, target, met) rows."""
    rows = []
    plain_reused = rate(results, "requests/plain/reused/tunedhttp")
    plain_fresh = rate(results, "requests/plain/fresh/tunedhttp")
    tls_reused = rate(results, "requests/tls/reused/tunedhttp")
    tls_fresh = rate(results, "requests/tls/fresh/tunedhttp")
    curl_reused = rate(results, "requests/plain/reused/curl")
    curl_tls_reused = rate(results, "requests/tls/reused/curl")
    floor = rate(results, "requests/plain/reused/raw_socket")
    tls_floor = rate(results, "requests/tls/reused/raw_socket")

    def row(what, a, b, target):
        value = a / b if a and b else None
        rows.append((what, ratio(a, b), f"≥ {target}", value is not None and value >= target))

    row("plain: reused ÷ fresh (tunedhttp)", plain_reused, plain_fresh, 5)
    row("TLS: reused ÷ fresh (tunedhttp)", tls_reused, tls_fresh, 20)
    row("plain reused: tunedhttp ÷ libcurl reused handle", plain_reused, curl_reused, 1.2)
    row("TLS reused: tunedhttp ÷ libcurl reused handle", tls_reused, curl_tls_reused, 1.2)
    row("plain reused: tunedhttp ÷ raw-socket floor", plain_reused, floor, 0.75)
    row("TLS reused: tunedhttp ÷ raw OpenSSL floor", tls_reused, tls_floor, 0.5)
    row("1 worker, pinned to one CPU: tunedhttp_one_thread ÷ Go's net/http client",
        rate(results, "vs_go_pinned/workers:1/tunedhttp_one_thread"),
        rate(results, "vs_go_pinned/workers:1/go_nethttp"), 1.5)
    # On both CPUs one worker's requests wait for a sleeping CPU to wake; shown, not a target.
    unpinned = (rate(results, "vs_go/workers:1/tunedhttp_one_thread"),
                rate(results, "vs_go/workers:1/go_nethttp"))
    rows.append(("1 worker, both CPUs (wake-up bound): tunedhttp_one_thread ÷ Go's net/http "
                 "client", ratio(*unpinned), "—", None))
    for workers, client, target in ((64, "tunedhttp_one_thread", 1.2),
                                    (64, "tunedhttp_all_cpus", 1.2)):
        row(f"{workers} worker{'s' if workers > 1 else ''}: {client} ÷ Go's net/http client",
            rate(results, f"vs_go/workers:{workers}/{client}"),
            rate(results, f"vs_go/workers:{workers}/go_nethttp"), target)
    row("plain reused, our client: in-process mock server ÷ bench server",
        rate(results, "requests/plain/reused/tunedhttp_vs_mockserver"), plain_reused, 0.9)
    row("32 Go workers: `tunedhttp serve` ÷ Go's net/http server",
        rate(results, "servers/workers:32/tunedhttp_serve"),
        rate(results, "servers/workers:32/go_nethttp"), 1)
    allocations = results.get("requests/plain/reused/tunedhttp", {}).get("allocs_per_request")
    if allocations is not None:
        rows.append(("heap allocations per reused plain request (tunedhttp)", f"{allocations:.1f}",
                     "≤ 10", allocations <= 10.05))
    if syscalls:
        rows.append(("system calls per reused plain request (strace, below)",
                     f"{syscalls['total']:.2f}", "≤ 4", syscalls["total"] <= 4.005))
    return rows


def fmt(value, digits=0):
    return "–" if value is None else f"{value:,.{digits}f}"


def peer_table(results, group, names, title, intro, column):
    """A `group/workers:N/NAME` family as a table: requests/s and dials per request by workers."""
    found = {}
    for name, entry in results.items():
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == group and parts[1].startswith("workers:"):
            found[(int(parts[1].split(":")[1]), parts[2])] = entry
    if not found:
        return []
    lines = ["", title, "", intro, "", f"| workers | {column} | requests/s | dials per request |",
             "|---:|---|---:|---:|"]
    for workers in sorted({w for w, _ in found}):
        for name in names:
            entry = found.get((workers, name))
            if entry:
                lines.append(f"| {workers} | {name} | {fmt(entry.get('items_per_second'))} | "
                             f"{entry.get('dials_per_request', 0):.3f} |")
    return lines


def write_page(context, results, out, sources, syscalls=None):
    lines = ["# Benchmark results", "",
             f"Generated by `scripts/plot_bench.py {' '.join(sources)} {out}` from one "
             "`make bench` (see the README's Benchmarks section for the command). One request at "
             "a time, the TLS dial, memory and one worker against Go's client (`vs_go_pinned`) "
             "ran pinned to one CPU (`taskset -c 0`: client and server share it, so no request "
             "waits for an idle core to wake); concurrency, timers and the other runs against Go "
             "ran on both CPUs.", "",
             f"Machine: {machine_line(context)}.", "", "## Key ratios (same run)", "",
             "| ratio | measured | target | met |", "|---|---|---|---|"]
    for what, value, target, met in key_ratios(results, syscalls):
        verdict = "—" if met is None else "yes" if met else "**no**"
        lines.append(f"| {what} | {value} | {target} | {verdict} |")
    lines += ["", "## One request at a time", "", "![requests](requests.svg)", "",
              "| server connection | client | requests/s | p50 µs | p99 µs |",
              "|---|---|---:|---:|---:|"]
    for security, mode in MODES:
        for client in CLIENTS + ["tunedhttp_vs_mockserver", "event_loop_floor"]:
            entry = results.get(f"requests/{security}/{mode}/{client}")
            if not entry:
                continue
            lines.append(f"| {security} {mode} | {client} | {fmt(entry.get('items_per_second'))}"
                         f" | {fmt(entry.get('p50_us'), 1)} | {fmt(entry.get('p99_us'), 1)} |")
    event_loop = rate(results, "requests/plain/reused/event_loop_floor")
    if event_loop:
        lines += ["", "`event_loop_floor` is the raw floor's exchange through Asio's reactor: the "
                  "request written in place, the response read with `async_read_some` on one "
                  "`io_context` (a speculative `recv`, `epoll_wait`, a handler), no HTTP. It is "
                  f"{ratio(event_loop, rate(results, 'requests/plain/reused/raw_socket'))} the "
                  "raw floor; tunedhttp is "
                  f"{ratio(rate(results, 'requests/plain/reused/tunedhttp'), event_loop)} the "
                  "event-loop floor."]
    handshake = results.get("tls_handshake/tunedhttp")
    if handshake:
        lines += ["", "TLS dial, from tunedhttp's trace (fresh connection per request): TCP "
                  f"connect p50 {fmt(handshake.get('tcp_connect_p50_us'), 1)} µs, TLS handshake "
                  f"p50 {fmt(handshake.get('tls_handshake_p50_us'), 1)} µs / p99 "
                  f"{fmt(handshake.get('tls_handshake_p99_us'), 1)} µs (TLS 1.3, ECDSA P-256)."]
    rows = concurrency_rows(results)
    if rows:
        workers = sorted({w for cap in rows.values() for w in cap})
        lines += ["", "## Concurrency × max_host_idle_conns", "", "![concurrency](concurrency.svg)",
                  "", "requests/s (dials per request):", "",
                  "| max_host_idle_conns | " + " | ".join(f"{w} workers" for w in workers) + " |",
                  "|---|" + "---:|" * len(workers)]
        for cap in sorted(rows):
            cells = []
            for w in workers:
                entry = rows[cap].get(w)
                cells.append(f"{fmt(entry['items_per_second'])} ({entry['dials_per_request']:.2f})"
                             if entry else "–")
            lines.append(f"| {cap}{' (=2)' if cap == 0 else ''} | " + " | ".join(cells) + " |")
    lines += peer_table(results, "vs_go", ["tunedhttp_one_thread", "tunedhttp_all_cpus", "go_nethttp"],
                        "## Against Go's net/http client",
                        "Both clients send the same GETs to the same in-process bench server "
                        "(max_host_idle_conns 100); Go's is the Go peer's session, timed by Go. "
                        "Ours runs on one thread of an io_context (`tunedhttp_one_thread`) or on "
                        "as many as there are CPUs (`tunedhttp_all_cpus`).",
                        "client")
    lines += peer_table(results, "vs_go_pinned", ["tunedhttp_one_thread", "go_nethttp"],
                        "## Against Go's net/http client, one CPU",
                        "The same comparison with one worker, in the pass pinned to one CPU "
                        "(`taskset -c 0`; the Go peer inherits the mask, so Go runs with "
                        "GOMAXPROCS 1): client, server and Go share the CPU, so the figure is "
                        "what each client costs, not how fast an idle CPU wakes.", "client")
    lines += peer_table(results, "servers", ["tunedhttp_serve", "go_nethttp"],
                        "## The servers, against Go's net/http client",
                        "`tunedhttp serve` (no faults, its event log kept) and Go's net/http "
                        "server (the Go peer's `server` mode), each in its own process, answer "
                        "the same GETs from Go's client.", "server")
    lines += ["", "## Timer precision (limit 20 ms)", "", "![timers](timers.svg)", "",
              "| timer | other core | firings | p50 late µs | p99 late µs | max late µs |",
              "|---|---|---:|---:|---:|---:|"]
    for timer in ["response_header", "expect_continue", "idle_conn"]:
        for load_name in ["idle", "busy"]:
            entry = results.get(f"timer/{timer}/{load_name}")
            if entry:
                lines.append(f"| {timer} | {load_name} | {fmt(entry.get('firings'))} | "
                             f"{fmt(entry.get('lateness_p50_us'), 1)} | "
                             f"{fmt(entry.get('lateness_p99_us'), 1)} | "
                             f"{fmt(entry.get('lateness_max_us'), 1)} |")
    lines += ["", "## Memory per idle pooled connection", "", "![memory](memory.svg)", "",
              "| connection | heap bytes per idle connection | idle connections measured |",
              "|---|---:|---:|"]
    for name in ("memory/plain", "memory/tls"):
        entry = results.get(name)
        if entry:
            lines.append(f"| {name.split('/')[1]} | {fmt(entry['bytes_per_idle_conn'])} | "
                         f"{fmt(entry.get('idle_conns'))} |")
    if syscalls:
        lines += ["", "## System calls per reused plain request", "",
                  f"`scripts/count_syscalls.py`, run by `make bench`: {syscalls['command']}.", "",
                  "| system call | per request |", "|---|---:|"]
        for name, value in sorted(syscalls["per_request"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| `{name}` | {value:.2f} |")
        lines.append(f"| total | {syscalls['total']:.2f} |")
    # Figures measured outside Google Benchmark (bench/held_connections.py) keep their own file
    # and are carried into every regenerated results.md.
    held = out / "held_connections.md"
    if held.exists():
        lines += ["", held.read_text().rstrip("\n")]
    (out / "results.md").write_text("\n".join(lines) + "\n")


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sources, out = argv[1:-1], Path(argv[-1])
    syscalls = None
    for source in [s for s in sources if Path(s).name == "syscalls.json"]:
        sources.remove(source)
        if Path(source).exists():
            syscalls = json.loads(Path(source).read_text())
    out.mkdir(parents=True, exist_ok=True)
    context, results = load(sources[0])
    for source in sources[1:]:
        results.update(load(source)[1])
    plt.rcParams["svg.hashsalt"] = "tunedhttp"  # stable SVG ids between runs
    plt.rcParams["svg.fonttype"] = "none"
    plot_requests(results, out)
    plot_concurrency(results, out)
    plot_timers(results, out)
    plot_memory(results, out)
    write_page(context, results, out, sources, syscalls)
    for what, value, target, met in key_ratios(results, syscalls):
        print(f"{what}: {value} (target {target}){'  MISSED' if met is False else ''}")
    print(f"wrote {out}/requests.svg concurrency.svg timers.svg memory.svg results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

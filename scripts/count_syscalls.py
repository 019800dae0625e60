#!/usr/bin/env python3
"""System calls per reused plain request of `tunedhttp request`, counted with strace.

Usage: count_syscalls.py TUNEDHTTP OUT.json [REQUESTS]

Starts `TUNEDHTTP serve` (its own process, not traced), then runs
`strace -f -c TUNEDHTTP request --count N URL > /dev/null` twice: with N = REQUESTS and with
N = 2 * REQUESTS. The difference between the two runs, divided by REQUESTS, is what each extra
reused request costs: the program's start, the dial and the exit cancel out. The program's own
`write` of each body to stdout is not the client's and is left out. (Not `-o FILE`: the file
output is streamed through the event loop, which adds trips that are not the client's.) Writes the per-call
figures and the command to OUT.json, which scripts/plot_bench.py puts on the results page.
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The program's writes of the bodies to stdout, one per request: output, not HTTP.
NOT_THE_CLIENTS = {"write"}


def counts(program, url, requests):
    """strace -c's calls column for one run, by system call name."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as table:
        subprocess.run(["strace", "-f", "-c", "-o", table.name, program, "request", "--count",
                        str(requests), url],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        calls = {}
        for line in Path(table.name).read_text().splitlines():
            # % time, seconds, usecs/call, calls, [errors], syscall
            fields = line.split()
            if len(fields) >= 5 and re.fullmatch(r"[\d.]+", fields[0]) and fields[-1] != "total":
                calls[fields[-1]] = int(fields[3])
        return calls


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    program, out = argv[1], Path(argv[2])
    requests = int(argv[3]) if len(argv) > 3 else 2000
    if not shutil.which("strace"):
        print("count_syscalls: strace is not installed; skipped", file=sys.stderr)
        return 0
    server = subprocess.Popen([program, "serve"], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        once = counts(program, url, requests)
        twice = counts(program, url, 2 * requests)
    finally:
        server.terminate()
        server.wait(timeout=10)
    per_request = {name: (twice.get(name, 0) - once.get(name, 0)) / requests
                   for name in sorted(set(once) | set(twice)) if name not in NOT_THE_CLIENTS}
    per_request = {name: value for name, value in per_request.items() if abs(value) >= 0.005}
    command = (f"strace -f -c {program} request --count N URL > /dev/null, N = {requests} and "
               f"{2 * requests}, against `tunedhttp serve`; (calls at 2N − calls at N) ÷ N, "
               f"without the program's `write` of the bodies to stdout")
    out.write_text(json.dumps({"requests": requests, "per_request": per_request,
                               "total": sum(per_request.values()), "command": command},
                              indent=2) + "\n")
    print(f"system calls per reused request: {sum(per_request.values()):.2f} {per_request}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""Memory per held connection: N clients each send one request that the server holds (never
answers), and the server's resident memory (VmRSS) is read before and after. Side by side in
one run: `tunedhttp serve --fault hold-headers` and the Go peer's net/http server
(`tunedhttp-go-peer server --hold-headers`, Go's defaults).

    bench/held_connections.py build/harness/tunedhttp build/peers/go/tunedhttp-go-peer [N]

Prints one line per server: connections held, failed connects, RSS before/after, bytes per held
connection. This process holds N sockets, so its own descriptor limit is raised to the hard one.
"""

import resource
import socket
import subprocess
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: held-connections\r\n\r\n"


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def settled_rss(pid, quiet=0.5, limit=60.0):
    """The RSS once it has not changed for `quiet` seconds (the server has read every request)."""
    deadline = time.monotonic() + limit
    last, since = rss_bytes(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = rss_bytes(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def measure(name, command, count):
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().strip()
        host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
        address = (host, int(port))
        # One connection first, so that what start-up allocates lazily is in `before`.
        warm = socket.create_connection(address)
        warm.sendall(REQUEST)
        before = settled_rss(server.pid)
        sockets, failed = [], 0
        for _ in range(count):
            try:
                client = socket.create_connection(address, timeout=5)
                client.sendall(REQUEST)
                sockets.append(client)
            except OSError:
                failed += 1
        after = settled_rss(server.pid)
        alive = server.poll() is None
        per = (after - before) / max(len(sockets), 1)
        print(f"{name:10} held {len(sockets):6}  failed {failed:5}  rss {before / 2**20:7.1f} MiB"
              f" -> {after / 2**20:7.1f} MiB  {per:8.0f} bytes/connection"
              f"{'' if alive else '  (server died)'}", flush=True)
        for client in sockets + [warm]:
            client.close()
        return per
    finally:
        server.terminate()
        server.wait(10)


def main():
    program, go_peer = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ours = measure("tunedhttp", [program, "serve", "--fault", "hold-headers"], count)
    go = measure("go", [go_peer, "server", "--hold-headers"], count)
    print(f"tunedhttp / go bytes per held connection: {ours / go:.2f}")


if __name__ == "__main__":
    main()

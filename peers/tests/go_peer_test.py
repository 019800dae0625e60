"""Tests of the Go peer (peers/go, docs/go-peer.md): `tunedhttp-go-peer server` against `client`
and `session`, and the Go client against `tunedhttp serve` when that program is given.

    python3 go_peer_test.py PATH/tunedhttp-go-peer [PATH/tunedhttp]

Exit 0 when every case passes, 1 otherwise. Every wait has a timeout; every child process is
stopped (SIGTERM, then SIGKILL) before the script ends.
"""

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

# The project's timing tolerance (units/src/timing_tolerance.cpp): 100 ms × the scale.
try:
    SCALE = float(os.environ.get("TUNEDHTTP_TIMING_SCALE", "1"))
except ValueError:
    SCALE = 1.0
SCALE = SCALE if SCALE > 0 else 1.0
TOLERANCE_MS = 100.0 * SCALE

# Children see no proxy: only our servers count.
ENV = {k: v for k, v in os.environ.items()
       if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Server:
    """A server program printing its base URL (and with TLS a PEM path) as its first lines."""

    def __init__(self, command, lines=1):
        self.command, self.lines = command, lines
        self.process, self.printed = None, []
        self._lines = queue.Queue()

    def __enter__(self):
        print("$ " + " ".join(self.command))
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        threading.Thread(target=self._read, daemon=True).start()
        try:
            for _ in range(self.lines):
                try:
                    line = self._lines.get(timeout=10)
                except queue.Empty:
                    raise Failure(f"{self.command[0]} printed nothing within 10 s")
                if line is None:
                    self.process.wait(timeout=5)
                    raise Failure(f"{self.command[0]} exited {self.process.returncode} early: "
                                  f"{self.process.stderr.read().decode(errors='replace').strip()}")
                self.printed.append(line)
        except BaseException:
            self.stop()
            raise
        return self

    def _read(self):
        for raw in self.process.stdout:
            self._lines.put(raw.decode().strip())
        self._lines.put(None)

    @property
    def url(self):
        return self.printed[0]

    @property
    def port(self):
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                raise Failure(f"{self.command[0]} ignored SIGTERM for 5 s (killed)")
        return self.process.returncode

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.process.stdout.close()
            self.process.stderr.close()
        return False


def run_client(peer, document, timeout=30, echo=True):
    """Runs `peer client` with `document` (a dict, or raw text) on stdin; returns (exit status,
    request lines, pool line, stderr). `echo` prints each request line."""
    text = document if isinstance(document, str) else json.dumps(document)
    result = subprocess.run([peer, "client"], input=text.encode(), capture_output=True,
                            timeout=timeout, env=ENV)
    lines = [json.loads(line) for line in result.stdout.decode().splitlines() if line.strip()]
    pool = lines[-1]["pool"] if lines and "pool" in lines[-1] else None
    requests = [line for line in lines if "pool" not in line]
    for line in requests if echo else []:
        print("  " + json.dumps(line)[:400])
    if pool is not None:
        print(f"  pool {pool}; exit {result.returncode}")
    return result.returncode, requests, pool, result.stderr.decode()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def case_reuse(peer, _):
    with Server([peer, "server"]) as server:
        code, requests, pool, _ = run_client(peer, {"requests": [{"url": server.url, "count": 3}]})
        check(code == 0, f"exit {code}, expected 0")
        check([r["status"] for r in requests] == [200, 200, 200], "expected three 200s")
        check([r["reused"] for r in requests] == [False, True, True],
              f"reused {[r['reused'] for r in requests]}, expected false/true/true")
        check([r["body_bytes"] for r in requests] == [3, 3, 3], "expected 3-byte bodies (ok\\n)")
        check(all(r["error"] is None and r["message"] == "OK" for r in requests), "errors")
        check(pool == {"dials": 1, "reuses": 2, "requests": 3}, f"pool {pool}")
        trace = requests[0]["trace"]
        for name in ("get_conn", "dial_start", "connect_done", "got_conn", "wrote_request",
                     "got_first_response_byte", "got_response_headers", "response_done"):
            check(name in trace, f"trace point {name} missing: {trace}")
        check(list(trace.values()) == sorted(trace.values()), "trace points not in time order")
        check(server.stop() == 0, "server did not exit 0 on SIGTERM")


def case_refused(peer, _):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.bind(("127.0.0.1", 0))  # bound, never listening: a connect is refused
        port = reserved.getsockname()[1]
        code, requests, pool, _ = run_client(
            peer, {"requests": [{"url": f"http://127.0.0.1:{port}/"}]})
    check(code == 1, f"exit {code}, expected 1")
    check(len(requests) == 1 and requests[0]["status"] is None, "expected one failed request")
    check(requests[0]["error"] == "connection_refused", f"error {requests[0]['error']}")
    check("connection refused" in requests[0]["message"], requests[0]["message"])
    check(pool == {"dials": 0, "reuses": 0, "requests": 1}, f"pool {pool}")


def case_resolve_dual_stack(peer, _):
    if not ipv6_loopback():
        print("  no IPv6 loopback on this machine: Go would dial 127.0.0.1 only; case skipped")
        return
    for _attempt in range(3):
        with Server([peer, "server", "--listen", "127.0.0.1:0"]) as server:
            # Hold [::1]:PORT bound without listening, so the ::1 attempt is surely refused.
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as reserved:
                try:
                    reserved.bind(("::1", server.port))
                except OSError:
                    continue  # that port is taken on ::1: try another server port
                host = f"dual.test:{server.port}"
                code, requests, _, _ = run_client(peer, {
                    "settings": {"dual_stack_fallback_delay": "300ms"},
                    "resolve": {host: ["::1", "127.0.0.1"]},
                    "requests": [{"url": f"http://{host}/"}]})
            check(code == 0, f"exit {code}, expected 0")
            request = requests[0]
            check(request["status"] == 200, f"status {request['status']}")
            connects = request["connects"]
            check(len(connects) == 2, f"expected two connect attempts: {connects}")
            first, second = connects
            check(first["family"] == "tcp6" and first["address"] == f"[::1]:{server.port}",
                  f"first attempt {first}")
            check(first["error"] == "connection_refused", f"first attempt {first}")
            check(second["family"] == "tcp4" and second["error"] is None, f"second {second}")
            # dialParallel starts the fallback at once when the primaries fail, not after 300 ms.
            gap = second["start_ms"] - first["done_ms"]
            check(0 <= gap <= TOLERANCE_MS, f"fallback started {gap:.1f} ms after the refusal")
            check("dns_start" in request["trace"] and "dns_done" in request["trace"],
                  "the override goes through Go's resolver: dns_start/dns_done expected")
            return
    raise Failure("no server port was free on ::1 in three tries")


def case_tls(peer, _):
    with Server([peer, "server", "--tls", "--body-size", "70000"], lines=2) as server:
        url, pem = server.printed
        check(url.startswith("https://127.0.0.1:"), f"URL {url}")
        check(os.path.isfile(pem), f"no PEM file at {pem}")
        code, requests, pool, _ = run_client(peer, {
            "ca_file": pem, "requests": [
                {"url": url, "count": 2},
                {"method": "PUT", "url": url, "body_size": 100000,
                 "headers": {"Expect": "100-continue"}}]})
        check(code == 0, f"exit {code}")
        check([r["status"] for r in requests] == [200] * 3, "expected three 200s")
        check(all(r["body_bytes"] == 70000 for r in requests), "expected 70000-byte bodies")
        check("tls_handshake_done" in requests[0]["trace"], "no TLS handshake traced")
        check("got_100_continue" in requests[2]["trace"], "no 100 Continue traced")
        check(pool["dials"] == 1, f"pool {pool}")
        code, requests, _, _ = run_client(peer, {"requests": [{"url": url}]})
        check(code == 1 and requests[0]["error"] == "certificate_verify_failed",
              f"without ca_file: exit {code}, error {requests[0]['error']}")
        check(server.stop() == 0, "server did not exit 0 on SIGTERM")
        check(not os.path.exists(pem), f"{pem} left behind")


def case_bad_input(peer, _):
    for text, field in (('{"requests": [', "bad JSON"),
                        ('{"requests": [{"url": "http://127.0.0.1:1/", "deadline": "3x"}]}',
                         "requests[0].deadline"),
                        ('{"settings": {"connect": "1q"}, "requests": []}', "settings.connect"),
                        ('{"requests": [], "unknown": 1}', "unknown"),
                        ('{}', "requests")):
        code, requests, _, stderr = run_client(peer, text)
        print(f"  {text!r}: exit {code}, {stderr.strip()}")
        check(code == 2, f"{text!r}: exit {code}, expected 2")
        check(not requests, f"{text!r}: requests were run")
        check(len(stderr.strip().splitlines()) == 1 and field in stderr,
              f"{text!r}: stderr should be one line naming {field!r}: {stderr!r}")


class Session:
    """`peer session`: JSON lines to its stdin, its stdout lines read by a thread."""

    def __init__(self, peer):
        self.command = [peer, "session"]
        self.process = None
        self._lines = queue.Queue()

    def __enter__(self):
        print("$ " + " ".join(self.command))
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self):
        for raw in self.process.stdout:
            self._lines.put(raw.decode())
        self._lines.put(None)

    def send(self, message):
        """Writes one JSON line; returns time.monotonic_ns() just before the write."""
        text = message if isinstance(message, str) else json.dumps(message)
        print("  > " + text[:200])
        sent = time.monotonic_ns()
        self.process.stdin.write(text.encode() + b"\n")
        self.process.stdin.flush()
        return sent

    def receive(self, timeout=10):
        """The next stdout line as an object, within `timeout` seconds."""
        try:
            raw = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise Failure(f"session printed nothing within {timeout} s")
        if raw is None:
            raise Failure(f"session closed its stdout (exit {self.process.poll()})")
        check(raw.endswith("\n"), f"a line without its newline: {raw!r}")
        print("  < " + raw.strip()[:400])
        try:
            return json.loads(raw)
        except ValueError:
            raise Failure(f"not one JSON object per line: {raw!r}")

    def results(self, command_id, count, timeout=10):
        """The `count` result lines of request command `command_id`, by index."""
        by_index = {}
        deadline = time.monotonic() + timeout
        while len(by_index) < count:
            line = self.receive(max(0.0, deadline - time.monotonic()))
            check(line.get("op") == "result" and line.get("id") == command_id,
                  f"expected a result of command {command_id}: {line}")
            check(line["index"] not in by_index, f"index {line['index']} twice")
            by_index[line["index"]] = line
        check(sorted(by_index) == list(range(count)), f"indexes {sorted(by_index)}")
        return [by_index[i] for i in range(count)]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                try:
                    stream.close()
                except OSError:
                    pass  # stdin of a killed child
        return False


def check_started(result, sent_ns):
    """mono_start_ns is CLOCK_MONOTONIC, Python's time.monotonic_ns(): after the send, soon."""
    start = result["mono_start_ns"]
    check(sent_ns <= start <= sent_ns + 1_000_000_000,
          f"mono_start_ns {start} is not within 1 s after the send ({sent_ns})")


def case_session(peer, tunedhttp):
    with Server([peer, "server"]) as server, Session(peer) as session, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        # A listener that never accepts or answers: the pending request when tunedhttp is absent.
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hold = None
        if tunedhttp:
            hold = Server([tunedhttp, "serve", "--fault", "hold-headers=1s"]).__enter__()
        try:
            session.send({"settings": {"keep_alive": {"idle": "2s", "interval": "3s",
                                                      "count": 4}}})
            check(session.receive() == {"op": "ready"}, "expected {\"op\": \"ready\"} first")

            sent = session.send({"op": "requests", "id": 1,
                                 "requests": [{"url": server.url}] * 3})
            first = session.results(1, 3)
            for result in first:
                check(result["status"] == 200 and result["error"] is None, f"result {result}")
                check_started(result, sent)
                check(result["keep_alive"] == {"enabled": True, "idle_s": 2, "interval_s": 3,
                                               "count": 4},
                      f"keep_alive {result['keep_alive']}: the keep_alive setting, read back")
                check(all(c["family"] == "tcp4" for c in result["connects"]), "families")
                check("put_idle_conn" in result["trace"], "put_idle_conn missing")

            sent = session.send({"op": "requests", "id": 2, "requests": [
                {"method": "GET", "url": server.url, "deadline": "0s"}]})
            (second,) = session.results(2, 1)
            check(second["status"] == 200 and second["reused"] is True,
                  f"the request after the first three should reuse a connection: {second}")
            check_started(second, sent)

            session.send({"op": "pool", "id": 3})
            pool = session.receive()
            check(pool.get("op") == "pool" and pool.get("id") == 3, f"pool reply {pool}")
            check(pool["dials"] <= 3 and pool["reuses"] >= 1 and pool["requests"] == 4,
                  f"pool {pool}: expected dials <= 3, reuses >= 1, requests 4")

            session.send({"op": "nothing", "id": 4})
            reply = session.receive()
            check(reply.get("op") == "error" and reply.get("id") == 4, f"unknown op: {reply}")
            session.send("{not json")
            reply = session.receive()
            check(reply.get("op") == "error" and reply.get("id") is None, f"bad JSON: {reply}")
            session.send({"op": "close_idle", "id": 5})
            check(session.receive() == {"op": "done", "id": 5}, "close_idle: expected done")

            # A request held pending by the server; the next command is answered meanwhile.
            held_url = hold.url if hold else f"http://127.0.0.1:{silent.getsockname()[1]}/"
            session.send({"op": "requests", "id": 6, "requests": [{"url": held_url}]})
            time.sleep(0.2)  # the request is under way (well within the 1 s hold)
            asked = time.monotonic()
            session.send({"op": "pool", "id": 7})
            # The next line must be the pool reply, not the result (due 1 s after the send).
            pool = session.receive(timeout=0.5 * SCALE)
            waited = time.monotonic() - asked
            check(pool.get("op") == "pool" and pool.get("id") == 7,
                  f"expected the pool reply before the pending request's result: {pool}")
            check(pool["requests"] == 5, f"pool {pool}: the pending request should count")
            print(f"  pool answered in {waited * 1000:.1f} ms while a request was pending")

            # EOF: exit 0 at once, abandoning the pending request (no result line for it).
            closed = time.monotonic()
            session.process.stdin.close()
            try:
                code = session.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                raise Failure("session did not exit within 1 s of EOF on stdin")
            print(f"  exit {code} {(time.monotonic() - closed) * 1000:.1f} ms after EOF")
            check(code == 0, f"exit {code} at EOF, expected 0")
            leftover = []
            while True:
                try:
                    line = session._lines.get(timeout=5)
                except queue.Empty:
                    raise Failure("stdout stayed open after the exit")
                if line is None:
                    break
                leftover.append(line)
            check(not leftover, f"lines after EOF (the pending request should be abandoned): "
                                f"{leftover}")
            stderr = session.process.stderr.read().decode()
            check(not stderr.strip(), f"stderr: {stderr!r}")
        finally:
            if hold:
                hold.__exit__(None, None, None)


def case_session_bad_config(peer, _):
    for text, field in (("", "empty"), ('{"requests": []}', "requests"),
                        ('{"settings": {"connect": "1q"}}', "settings.connect"),
                        ('{"ca_pem": "no certificate"}', "ca_pem")):
        result = subprocess.run([peer, "session"], input=(text + "\n").encode(),
                                capture_output=True, timeout=10, env=ENV)
        stderr = result.stderr.decode()
        print(f"  {text!r}: exit {result.returncode}, {stderr.strip()}")
        check(result.returncode == 2, f"{text!r}: exit {result.returncode}, expected 2")
        check(not result.stdout, f"{text!r}: printed {result.stdout!r}")
        check(len(stderr.strip().splitlines()) == 1 and field in stderr,
              f"{text!r}: stderr should be one line naming {field!r}: {stderr!r}")


def case_tunedhttp_hold_headers(peer, tunedhttp):
    if not tunedhttp:
        print("  no tunedhttp program given: case skipped")
        return
    with Server([tunedhttp, "serve", "--fault", "hold-headers=2s"]) as server:
        code, requests, _, _ = run_client(peer, {
            "settings": {"response_header": "300ms"}, "requests": [{"url": server.url}]})
    check(code == 1, f"exit {code}, expected 1")
    request = requests[0]
    check(request["error"] == "response_header_timeout", f"error {request['error']}")
    check(request["message"] == "net/http: timeout awaiting response headers", request["message"])
    elapsed = request["elapsed_ms"]
    fired = elapsed - request["trace"]["wrote_request"]
    print(f"  elapsed {elapsed:.1f} ms, {fired:.1f} ms after wrote_request "
          f"(limit 300 ms, tolerance {TOLERANCE_MS:.0f} ms)")
    check(fired >= 300.0, f"fired early: {fired:.1f} ms after wrote_request")
    check(300.0 <= elapsed <= 300.0 + TOLERANCE_MS, f"elapsed {elapsed:.1f} ms")


def case_host_cap_under_load(peer, tunedhttp):
    """Go as the judge of pool churn: 32 workers through one client with the AWS default
    max_host_idle_conns 10, against Go's server. Ours may open at most Go's dials + 10%."""
    if not tunedhttp:
        print("  no tunedhttp program given: case skipped")
        return
    workers, per_worker = 32, 200
    with Server([peer, "server"]) as server:
        code, requests, go_pool, _ = run_client(peer, {
            "settings": {"max_host_idle_conns": 10},
            "requests": [{"url": server.url, "count": per_worker, "parallel": workers}]},
            timeout=120, echo=False)
        check(code == 0 and len(requests) == workers * per_worker, f"Go client: exit {code}")
        ours = subprocess.run([tunedhttp, "request", "--parallel", str(workers), "--count",
                               str(per_worker), "--max-host-idle-conns", "10", "-v", server.url],
                              capture_output=True, timeout=120, env=ENV)
    check(ours.returncode == 0, f"tunedhttp request: exit {ours.returncode}")
    summary = [line for line in ours.stderr.decode().splitlines() if line.startswith("* pool:")]
    check(len(summary) == 1, f"no pool summary from tunedhttp request -v: {ours.stderr[-400:]!r}")
    dials = int(summary[0].split()[2])
    print(f"  {workers * per_worker} GETs: Go dialled {go_pool['dials']}, ours {dials}")
    check(dials >= workers, f"ours dialled {dials}: fewer than one per worker is impossible")
    check(dials <= go_pool["dials"] * 1.1, f"ours dialled {dials}, Go {go_pool['dials']} (+10%)")


CASES = [
    ("reuse: three requests on one connection", case_reuse),
    ("refused port: connection_refused, exit 1", case_refused),
    ("resolve override: ::1 refused, then 127.0.0.1", case_resolve_dual_stack),
    ("TLS server, ca_file, 100-continue", case_tls),
    ("bad input: exit 2", case_bad_input),
    ("tunedhttp serve hold-headers: response_header_timeout", case_tunedhttp_hold_headers),
    ("session: parallel requests, reuse, pool, a pending request, EOF", case_session),
    ("session: bad config: exit 2", case_session_bad_config),
    ("32 workers, host cap 10: ours dial no more than Go + 10%", case_host_cap_under_load),
]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    peer = os.path.abspath(sys.argv[1])
    tunedhttp = os.path.abspath(sys.argv[2]) if len(sys.argv) == 3 else None
    failed = []
    for name, function in CASES:
        print(f"--- {name}")
        started = time.monotonic()
        try:
            function(peer, tunedhttp)
        except Exception as error:  # noqa: BLE001 - every failure is reported the same way
            failed.append(name)
            print(f"FAIL {name}: {type(error).__name__}: {error}")
        else:
            print(f"PASS {name} ({time.monotonic() - started:.2f} s)")
    if failed:
        print(f"{len(failed)} of {len(CASES)} failed: {', '.join(failed)}")
        return 1
    print(f"all {len(CASES)} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

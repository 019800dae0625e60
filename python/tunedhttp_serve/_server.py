"""The `tunedhttp serve` process and its control API (docs/control-api.md)."""

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

STARTUP_LIMIT = 10.0  # seconds for serve to print its URL lines
STOP_LIMIT = 10.0  # seconds for serve to exit after SIGTERM


class AdminError(Exception):
    """The control API refused a request; `status` is the HTTP status, `message` its error."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def find_program(program=None):
    """The tunedhttp binary: `program`, else $TUNEDHTTP_PROGRAM, else `tunedhttp` on PATH."""
    candidate = program or os.environ.get("TUNEDHTTP_PROGRAM") or shutil.which("tunedhttp")
    if not candidate:
        raise FileNotFoundError(
            "tunedhttp not found: pass program=, set TUNEDHTTP_PROGRAM or put it on PATH")
    return candidate


class Server:
    """A running `tunedhttp serve --admin 127.0.0.1:0`. Use serve() to start and stop one."""

    def __init__(self, program=None, faults=(), tls=False, respond_with=None, args=()):
        command = [find_program(program), "serve", "--admin", "127.0.0.1:0"]
        if tls:
            command.append("--tls")
        if respond_with:
            command += ["--respond-with", respond_with]
        for spec in faults:
            command += ["--fault", spec]
        command += list(args)
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)
        self.url = None  # "http://127.0.0.1:PORT/"
        self.ca = None  # the CA's PEM file, with tls
        self.admin_url = None  # "http://127.0.0.1:PORT/", the control API
        self.stderr = ""  # what serve wrote on stderr, once stopped
        try:
            self._read_banner(tls)
        except BaseException:
            self.stop()
            raise

    def _read_banner(self, tls):
        lines = []
        expected = 3 if tls else 2
        reader = threading.Thread(target=lambda: lines.extend(
            self._process.stdout.readline().rstrip("\n") for _ in range(expected)))
        reader.daemon = True
        reader.start()
        reader.join(STARTUP_LIMIT)
        if len(lines) < expected or not all(lines):
            self.stop()
            raise RuntimeError(f"tunedhttp serve did not start: {self.stderr.strip()}")
        self.url = lines[0]
        if tls:
            self.ca = lines[1]
        admin = lines[-1]
        if not admin.startswith("admin: "):
            raise RuntimeError(f"tunedhttp serve printed {admin!r}, expected 'admin: URL'")
        self.admin_url = admin[len("admin: "):]

    def stop(self):
        """SIGTERM, then wait (killed after STOP_LIMIT); returns the exit code. What serve wrote
        on stderr is then in `stderr`."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_LIMIT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if not self._process.stderr.closed:
            self.stderr += self._process.stderr.read()
        for stream in (self._process.stdout, self._process.stderr):
            stream.close()
        return self._process.returncode

    # --- the control API ---

    def _call(self, method, path, body=None, timeout=10.0):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.admin_url + path.lstrip("/"), data=data,
                                         method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise AdminError(error.code, message) from None

    def faults(self):
        """The faults in force: [{"id", "spec", "name", "parameters", "target"}, ...]."""
        return json.loads(self._call("GET", "faults"))

    def set_faults(self, specs):
        """Replaces every fault with SPECs ("hold-headers=2s", ...); all or nothing."""
        return json.loads(self._call("PUT", "faults", list(specs)))

    def add_fault(self, spec):
        """Adds one fault; returns it, with its id."""
        return json.loads(self._call("POST", "faults", spec))

    def remove_fault(self, fault_id):
        """Removes the fault with that id (from faults() or add_fault())."""
        return json.loads(self._call("DELETE", f"faults/{int(fault_id)}"))

    def clear_faults(self):
        return json.loads(self._call("DELETE", "faults"))

    def events(self, since=0, wait=None):
        """The event log after sequence number `since`; with `wait` (seconds), a long poll
        that returns as soon as there is one (or after `wait`)."""
        query = f"events?since={int(since)}"
        if wait is not None:
            query += f"&wait={int(wait * 1000)}ms"
        text = self._call("GET", query, timeout=(wait or 0) + 10.0)
        return [json.loads(line) for line in text.splitlines() if line]

    def clear_events(self):
        self._call("DELETE", "events")

    def stats(self):
        """{"connections", "requests", "faults_fired": {name: count}, "faults", "events"}."""
        return json.loads(self._call("GET", "stats"))

    def reset(self):
        """No faults and an empty event log, as after a fresh start."""
        self._call("POST", "reset")

    def find_events(self, kind, **fields):
        """The events of `kind` whose fields match `fields` (connection=1, request=2, ...)."""
        return [event for event in self.events() if event["kind"] == kind and
                all(event.get(key) == value for key, value in fields.items())]

    def wait_for_event(self, kind, timeout=5.0, **fields):
        """The first event of `kind` matching `fields`, waiting up to `timeout` seconds for it;
        raises TimeoutError when none comes."""
        deadline = time.monotonic() + timeout
        since = 0
        while True:
            for event in self.events(since=since):
                since = event["seq"]
                if event["kind"] == kind and all(event.get(key) == value
                                                 for key, value in fields.items()):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind} event {fields or ''} within {timeout} s")
            self.events(since=since, wait=min(left, 1.0))


@contextmanager
def serve(program=None, faults=(), tls=False, respond_with=None, args=()):
    """Starts `tunedhttp serve` with its control API on ephemeral ports; stops it on exit."""
    server = Server(program=program, faults=faults, tls=tls, respond_with=respond_with,
                    args=args)
    try:
        yield server
    finally:
        server.stop()

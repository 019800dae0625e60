"""Shared helpers for the interop tests: run `tunedhttp serve` as a subprocess, read its event
log, and make boto3 clients aimed at it.

Every test script takes the path of the `tunedhttp` program as its only argument (ctest passes
$<TARGET_FILE:tunedhttp>) and must be run with Debian's /usr/bin/python3 (python3-boto3).
Exit codes: 0 pass, 1 fail. A missing boto3 fails too: scripts/setup.sh installs it, so a
test that skipped would hide a broken set-up.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

# Keep the SDK away from the developer's AWS set-up and any proxy: only the mock server counts.
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

try:
    import boto3
    import botocore
    import botocore.config
    import botocore.exceptions
    import botocore.parsers
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"FAIL: boto3/botocore not importable by {sys.executable} ({error}); "
          "install Debian's python3-boto3 (scripts/setup.sh does)")
    sys.exit(1)


def timing_scale():
    """TUNEDHTTP_TIMING_SCALE, parsed as units/src/timing_tolerance.cpp does (bad or <= 0 → 1)."""
    text = os.environ.get("TUNEDHTTP_TIMING_SCALE")
    if text is None:
        return 1.0
    try:
        scale = float(text)
    except ValueError:
        return 1.0
    return scale if scale > 0.0 else 1.0


# The project's single timing tolerance (units/src/timing_tolerance.cpp): 100 ms × scale.
TOLERANCE = 0.100 * timing_scale()


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def check_fire_time(what, measured, configured, tolerance=None):
    """A timer must never fire early and at most `tolerance` late (seconds)."""
    tolerance = TOLERANCE if tolerance is None else tolerance
    lateness = measured - configured
    print(f"  {what}: configured {configured * 1000:.0f} ms, measured {measured * 1000:.1f} ms "
          f"(late by {lateness * 1000:+.1f} ms, tolerance {tolerance * 1000:.0f} ms)")
    check(measured >= configured, f"{what} fired early: {measured * 1000:.1f} ms < "
          f"{configured * 1000:.0f} ms")
    check(lateness <= tolerance, f"{what} fired {lateness * 1000:.1f} ms late "
          f"(tolerance {tolerance * 1000:.0f} ms)")


def check_server_view(what, measured, configured, tolerance=None):
    """The same fire time as the server saw it: the event log notes a start when the server
    *reads* the client's bytes, which on a loaded machine can be a few ms after the SDK's timer
    started, so this view may look a little early: within the tolerance either way."""
    tolerance = TOLERANCE if tolerance is None else tolerance
    lateness = measured - configured
    print(f"  {what}: configured {configured * 1000:.0f} ms, observed {measured * 1000:.1f} ms "
          f"({lateness * 1000:+.1f} ms, tolerance ±{tolerance * 1000:.0f} ms)")
    check(abs(lateness) <= tolerance, f"{what}: {measured * 1000:.1f} ms is off by "
          f"{lateness * 1000:+.1f} ms (tolerance ±{tolerance * 1000:.0f} ms)")


class Serve:
    """`tunedhttp serve --events [--tls] [--fault SPEC]...` as a subprocess.

    Use as a context manager: on exit the server gets SIGTERM and must exit 0; it is killed if
    it does not exit within a few seconds (and the test fails).
    """

    def __init__(self, program, faults=(), tls=False, respond_with=None, proxy=False):
        self.command = [program, "serve", "--events"] + (["--tls"] if tls else [])
        if proxy:
            self.command += ["--proxy"]
        for fault in faults:
            self.command += ["--fault", fault]
        # `--respond-with s3|lambda` (a plausible S3/Lambda answer) once serve has it; until
        # then serve answers every request with its default 200 "ok\n".
        self.respond_with = respond_with if respond_with and has_respond_with(program) else None
        if self.respond_with:
            self.command += ["--respond-with", self.respond_with]
        self.tls = tls
        self.url = None
        self.ca = None
        self.events = []
        self._condition = threading.Condition()
        self._process = None
        self._reader = None
        self._stderr = b""

    def __enter__(self):
        print("$ " + " ".join(self.command))
        self._process = subprocess.Popen(self.command, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            self.url = self._read_line("the base URL")
            if self.tls:
                self.ca = self._read_line("the CA path")
            self._reader = threading.Thread(target=self._read_events, daemon=True)
            self._reader.start()
        except BaseException:
            self._kill()
            raise
        return self

    def _read_line(self, what):
        line = self._process.stdout.readline().decode().strip()
        if not line:
            self._process.wait(timeout=5)
            raise Failure(f"serve printed no {what}; exit {self._process.returncode}, stderr: "
                          f"{self._process.stderr.read().decode().strip()}")
        return line

    def _read_events(self):
        for raw in self._process.stdout:
            line = raw.decode().strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"kind": "unparsable", "detail": line}
            with self._condition:
                self.events.append(event)
                self._condition.notify_all()

    def wait_for(self, predicate, deadline_s=5.0, what="an event"):
        """Waits (with a deadline, never a sleep) until predicate(events) is truthy."""
        end = time.monotonic() + deadline_s
        with self._condition:
            while True:
                result = predicate(self.events)
                if result:
                    return result
                left = end - time.monotonic()
                if left <= 0:
                    raise Failure(f"timed out after {deadline_s} s waiting for {what}; "
                                  f"events: {self.events}")
                self._condition.wait(left)

    def wait_for_event(self, kind, connection=None, request=None, deadline_s=5.0):
        def find(events):
            for event in events:
                if event.get("kind") == kind and \
                        (connection is None or event.get("connection") == connection) and \
                        (request is None or event.get("request") == request):
                    return event
            return None
        return self.wait_for(find, deadline_s,
                             f"{kind} (connection {connection}, request {request})")

    def snapshot(self):
        with self._condition:
            return list(self.events)

    def find(self, kind, connection=None, request=None):
        return [e for e in self.snapshot() if e.get("kind") == kind and
                (connection is None or e.get("connection") == connection) and
                (request is None or e.get("request") == request)]

    def print_events(self):
        for event in self.snapshot():
            print("  event " + json.dumps(event))

    def _kill(self):
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def __exit__(self, exc_type, exc, traceback):
        try:
            if self._process.poll() is None:
                self._process.send_signal(signal.SIGTERM)
            try:
                code = self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
                raise Failure("serve did not exit within 5 s of SIGTERM (killed)")
            if self._reader:
                self._reader.join(timeout=5)
            self._stderr = self._process.stderr.read()
            if exc_type is None:
                check(code == 0, f"serve exited {code} after SIGTERM; stderr: "
                      f"{self._stderr.decode().strip()}")
        finally:
            self._kill()
            for stream in (self._process.stdout, self._process.stderr):
                stream.close()
        return False


def client(service, serve, connect_timeout=5.0, read_timeout=5.0, retries=None, verify=None,
           **config):
    """A boto3 client aimed at `serve`: dummy credentials, us-east-1, path-style addressing.

    Retries: one attempt only by default. Careful: botocore's retries={'max_attempts': N} counts
    *retries* (N=1 means two attempts); {'total_max_attempts': 1} is a single attempt."""
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE",
                                    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                    region_name="us-east-1")
    return session.client(
        service,
        endpoint_url=serve.url.rstrip("/"),
        verify=verify if verify is not None else (serve.ca if serve.tls else None),
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries if retries is not None else {"total_max_attempts": 1,
                                                         "mode": "standard"},
            **config,
        ),
    )


class SendClock:
    """Records time.monotonic() at botocore's `before-send` event, i.e. just before the request
    goes to urllib3 (connect, TLS handshake, write), for fire times the event log cannot show."""

    def __init__(self, sdk_client):
        self.sent_at = []
        sdk_client.meta.events.register("before-send", self._on_send)

    def _on_send(self, **kwargs):
        self.sent_at.append(time.monotonic())

    @property
    def last(self):
        return self.sent_at[-1]


class ContinueWaitClock:
    """The SDK's own wait for 100 Continue, from botocore's debug log (botocore.awsrequest logs
    "Waiting for 100 Continue response." right after writing the headers, before
    wait_for_read(sock, 1), and "No response seen from server, ..." or "100 Continue response
    seen, ..." when it ends). Times are time.monotonic() when each record is made."""

    def __init__(self):
        self.records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = lambda record: self.records.append((time.monotonic(), record.getMessage()))
        logger = logging.getLogger("botocore.awsrequest")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        self._handler, self._logger = handler, logger

    def waits(self):
        """(seconds waited, how it ended) for each request that waited."""
        result, started = [], None
        for at, message in self.records:
            if message.startswith("Waiting for 100 Continue"):
                started = at
            elif started is not None:
                result.append((at - started, message))
                started = None
        return result

    def close(self):
        self._logger.removeHandler(self._handler)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def between(serve, first_kind, second_kind, connection=None, request=None):
    """Seconds between the first `first_kind` and the first `second_kind` event."""
    first = serve.find(first_kind, connection, request)
    second = serve.find(second_kind, connection, request)
    check(first, f"no {first_kind} event (connection {connection}, request {request})")
    check(second, f"no {second_kind} event (connection {connection}, request {request})")
    return (second[0]["at_ms"] - first[0]["at_ms"]) / 1000.0


def run_cases(cases):
    """Runs each case (name, function); prints PASS/FAIL per case; exits 0 iff all pass."""
    print(f"botocore {botocore.__version__} (boto3 {boto3.__version__}) under {sys.executable}; "
          f"tolerance {TOLERANCE * 1000:.0f} ms")
    failed = []
    for name, function in cases:
        print(f"--- {name}")
        started = time.monotonic()
        try:
            function()
        except Exception as error:  # noqa: BLE001 - report every failure the same way
            failed.append(name)
            print(f"FAIL {name}: {type(error).__name__}: {error}")
        else:
            print(f"PASS {name} ({time.monotonic() - started:.2f} s)")
    if failed:
        print(f"{len(failed)} of {len(cases)} failed: {', '.join(failed)}")
        sys.exit(1)
    print(f"all {len(cases)} passed")
    sys.exit(0)


_respond_with_support = {}


def has_respond_with(program):
    """Whether this `tunedhttp serve` has `--respond-with` (its --help mentions it)."""
    if program not in _respond_with_support:
        result = subprocess.run([program, "serve", "--help"], capture_output=True, text=True,
                                timeout=10)
        _respond_with_support[program] = "--respond-with" in result.stdout + result.stderr
    return _respond_with_support[program]


def put_object(s3, serve, key="key", body=b"x" * 16):
    """S3 PutObject against `serve`; returns the HTTP status botocore got.

    With `--respond-with s3` the SDK must parse a success with an ETag. Without it (serve's
    default answer is 200 "ok\n", not XML) botocore raises ResponseParserError after a 200: that
    is accepted as the outcome, checked against the event log, so the stall measurements still
    hold."""
    answered_before = len(serve.find("response_done"))

    def answered():  # the event log reader may lag the SDK by a moment: wait for it
        serve.wait_for(lambda events: len([e for e in events if e.get("kind") == "response_done"])
                       > answered_before, what="the response to put_object")
        return serve.find("response_headers_sent")[answered_before]

    try:
        response = s3.put_object(Bucket="bucket", Key=key, Body=body)
    except botocore.parsers.ResponseParserError:
        if serve.respond_with == "s3":
            raise
        detail = answered()["detail"]
        check(detail.startswith("200"), f"server answered {detail}")
        print("  put_object: 200, body not S3 XML (serve has no --respond-with s3): "
              "botocore raised ResponseParserError")
        return 200
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    answered()
    if serve.respond_with == "s3":
        check(response.get("ETag"), f"put_object response without ETag: {response}")
        print(f"  put_object: {status}, ETag {response['ETag']}")
    return status

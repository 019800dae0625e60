"""Issue 12: a long-running Lambda invoke (`--fault hold-headers=D`) against botocore's
read_timeout.

botocore's read_timeout is a socket timeout (urllib3 sets it on the socket before reading the
response): it bounds each blocking recv(), so it runs from the moment the request was written
(the server's body_done event) to the response headers, and again between any two reads of the
body. It is an inactivity limit, not a deadline for the call.
"""

import json
import sys
import time

from serve_process import (Serve, SendClock, between, check, check_fire_time,
                           check_server_view, client, run_cases)

import botocore.exceptions

PROGRAM = sys.argv[1]
PAYLOAD = json.dumps({"job": "long-running", "seconds": 2}).encode()


def invoke(lam):
    return lam.invoke(FunctionName="long-running", Payload=PAYLOAD)


def check_invoke_succeeded(response, serve):
    status = response["StatusCode"]
    check(status == 200, f"invoke StatusCode {status}, expected 200")
    check("FunctionError" not in response, f"FunctionError: {response.get('FunctionError')}")
    payload = response["Payload"].read()
    print(f"  invoke → {status}, payload {payload!r}")
    if serve.respond_with == "lambda":
        json.loads(payload)  # --respond-with lambda answers a JSON payload
    return payload


def held_past_read_timeout():
    """Headers held 2 s, read_timeout 0.5 s: ReadTimeoutError 0.5 s after the request was
    written; botocore closes the connection (the server sees it)."""
    read_timeout = 0.5
    with Serve(PROGRAM, ["hold-headers=2s"], respond_with="lambda") as serve:
        lam = client("lambda", serve, read_timeout=read_timeout)
        clock = SendClock(lam)
        try:
            invoke(lam)
        except botocore.exceptions.ReadTimeoutError as error:
            failed_at = time.monotonic()
            print(f"  {type(error).__name__}: {error}")
        else:
            raise AssertionError("invoke succeeded although the headers were held 2 s")
        serve.wait_for_event("closed_by_peer")
        serve.print_events()
        check(len(clock.sent_at) == 1, f"{len(clock.sent_at)} attempts, expected 1")
        check(not serve.find("response_headers_sent"), "the server sent headers during the hold")
        # Before-send precedes the write that starts the timer: never early, a few ms of
        # connect + write on top.
        check_fire_time("read_timeout (wall clock: before-send → error)",
                        failed_at - clock.last, read_timeout)
        check_server_view("body_done → closed_by_peer",
                          between(serve, "body_done", "closed_by_peer", connection=1),
                          read_timeout)


def held_inside_read_timeout():
    """Headers held 300 ms, read_timeout 0.8 s: the call succeeds after the hold."""
    with Serve(PROGRAM, ["hold-headers=300ms"], respond_with="lambda") as serve:
        lam = client("lambda", serve, read_timeout=0.8)
        check_invoke_succeeded(invoke(lam), serve)
        serve.wait_for_event("response_done")
        serve.print_events()
        check_fire_time("headers held (event log: body_done → response_headers_sent)",
                        between(serve, "body_done", "response_headers_sent", request=1), 0.3)
        check(not serve.find("closed_by_peer"), "botocore closed the connection")


def slow_body_inside_read_timeout():
    """read_timeout is per read: a body dripped in 3 pieces 300 ms apart takes 0.6 s, longer
    than the 0.5 s read_timeout in total, yet the call succeeds."""
    with Serve(PROGRAM, respond_with="lambda") as serve:  # learn the payload's size first
        size = len(check_invoke_succeeded(invoke(client("lambda", serve)), serve))
    piece = (size + 2) // 3
    with Serve(PROGRAM, [f"drip-body={piece}/300ms"], respond_with="lambda") as serve:
        lam = client("lambda", serve, read_timeout=0.5)
        response = invoke(lam)  # the headers and the first piece
        check_invoke_succeeded(response, serve)  # reads the other pieces, 300 ms apart
        serve.wait_for_event("response_done")
        serve.print_events()
        body_time = between(serve, "response_headers_sent", "response_done", request=1)
        print(f"  body of {size} bytes in pieces of {piece} took {body_time * 1000:.0f} ms")
        check(body_time > 0.5, f"the body took only {body_time:.2f} s")


def retried_after_read_timeout():
    """Recorded as it is: retries={'max_attempts': 1} means one *retry* in botocore, and a read
    timeout is retried even for Invoke (a POST that is not idempotent): the function is invoked
    twice, each attempt timing out after read_timeout, with a backoff in between."""
    read_timeout = 0.3
    with Serve(PROGRAM, ["hold-headers=2s"], respond_with="lambda") as serve:
        lam = client("lambda", serve, read_timeout=read_timeout,
                     retries={"max_attempts": 1, "mode": "standard"})
        clock = SendClock(lam)
        try:
            invoke(lam)
        except botocore.exceptions.ReadTimeoutError as error:
            print(f"  {type(error).__name__}: {error}")
        else:
            raise AssertionError("invoke succeeded although the headers were held 2 s")
        serve.wait_for_event("closed_by_peer", connection=2)
        serve.print_events()
        check(len(clock.sent_at) == 2, f"{len(clock.sent_at)} attempts, expected 2")
        requests = serve.find("request_headers_read")
        check([r["connection"] for r in requests] == [1, 2],
              f"requests on connections {[r['connection'] for r in requests]}")
        for connection in (1, 2):
            check_server_view(f"attempt {connection}: body_done → closed_by_peer",
                            between(serve, "body_done", "closed_by_peer", connection=connection),
                            read_timeout)
        backoff = (serve.find("accepted", connection=2)[0]["at_ms"] -
                   serve.find("closed_by_peer", connection=1)[0]["at_ms"]) / 1000.0
        print(f"  backoff before the retry: {backoff * 1000:.0f} ms")


run_cases([
    ("hold-headers=2s, read_timeout=0.5: ReadTimeoutError at 0.5 s", held_past_read_timeout),
    ("hold-headers=300ms, read_timeout=0.8: success", held_inside_read_timeout),
    ("drip-body 300 ms gaps, read_timeout=0.5: success (per-read timeout)",
     slow_body_inside_read_timeout),
    ("retries max_attempts=1: the invoke is sent twice", retried_after_read_timeout),
])

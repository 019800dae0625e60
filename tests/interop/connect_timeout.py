"""Issue 12: a black-holed endpoint (`--fault stall-accept`) against botocore's connect_timeout.

The server's accept queue is full, so the kernel drops the SDK's SYNs and connect() stays
pending. botocore's connect_timeout is the socket timeout urllib3 gives connect(), so it fires
connect_timeout after the connect starts. The event log cannot show a connection that never
completed, so the reference point is botocore's `before-send` event (just before urllib3
connects): wall clock from there to the error.
"""

import sys
import time

from serve_process import (put_object, Serve, SendClock, check, check_fire_time, client, run_cases)

import botocore.exceptions

PROGRAM = sys.argv[1]


def put(s3, serve):
    return put_object(s3, serve)


def accept_stalled():
    connect_timeout = 0.5
    with Serve(PROGRAM, ["stall-accept"], respond_with="s3") as serve:
        s3 = client("s3", serve, connect_timeout=connect_timeout)
        clock = SendClock(s3)
        try:
            put(s3, serve)
        except botocore.exceptions.ConnectTimeoutError as error:
            failed_at = time.monotonic()
            print(f"  {type(error).__name__}: {error}")
        else:
            raise AssertionError("put_object succeeded against a stalled accept queue")
        serve.print_events()
        check(not serve.find("accepted"), "the server accepted a connection during the stall")
        check_fire_time("connect_timeout (wall clock: before-send → error)",
                        failed_at - clock.last, connect_timeout)


def accept_resumes_inside_connect_timeout():
    """The stall ends after 300 ms, but the SDK's SYN was dropped: it connects only on the
    kernel's SYN retransmission, 1 s after the first SYN. connect_timeout 1.5 s covers that."""
    with Serve(PROGRAM, ["stall-accept=300ms"], respond_with="s3") as serve:
        s3 = client("s3", serve, connect_timeout=1.5)
        clock = SendClock(s3)
        status = put(s3, serve)
        done_at = time.monotonic()
        check(status == 200, f"status {status}")
        serve.print_events()
        check(len(serve.find("accepted")) == 1, "expected one accepted connection")
        took = done_at - clock.last
        print(f"  put_object took {took * 1000:.0f} ms (SYN retransmitted after ~1 s)")
        check(took >= 0.3, f"connected in {took:.2f} s, during the 300 ms stall")


run_cases([
    ("stall-accept, connect_timeout=0.5: ConnectTimeoutError at 0.5 s", accept_stalled),
    ("stall-accept=300ms, connect_timeout=1.5: success after the SYN retransmission",
     accept_resumes_inside_connect_timeout),
])

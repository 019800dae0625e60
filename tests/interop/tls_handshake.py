"""Issue 12: a TLS endpoint that stalls the handshake (`--tls --fault delay-tls-handshake=D`),
with the CA that serve prints passed to boto3 as verify=.

botocore has no TLS-handshake setting: urllib3 does the handshake on a socket whose timeout is
still connect_timeout (the connect timeout covers connect + handshake; read_timeout is set only
afterwards). So connect_timeout fires, measured from the TCP connection (the server's accepted
event) to the SDK closing it (closed_by_peer). urllib3 reports the handshake timeout as a read
timeout: botocore raises ReadTimeoutError although the value is connect_timeout.
"""

import sys

import time

from serve_process import (put_object, Serve, SendClock, between, check, check_fire_time,
                           check_server_view, client, run_cases)

import botocore.exceptions

PROGRAM = sys.argv[1]


def put(s3, serve):
    return put_object(s3, serve)


def handshake_past_connect_timeout():
    connect_timeout = 0.5
    with Serve(PROGRAM, ["delay-tls-handshake=2s"], tls=True, respond_with="s3") as serve:
        s3 = client("s3", serve, connect_timeout=connect_timeout, read_timeout=5.0)
        clock = SendClock(s3)
        try:
            put(s3, serve)
        except (botocore.exceptions.ReadTimeoutError,
                botocore.exceptions.ConnectTimeoutError) as error:
            failed_at = time.monotonic()
            print(f"  {type(error).__name__}: {error}")
        else:
            raise AssertionError("put_object succeeded although the handshake was held 2 s")
        serve.wait_for_event("closed_by_peer")
        serve.print_events()
        check(not serve.find("tls_done"), "the handshake completed")
        check_fire_time("connect_timeout over connect + handshake (wall clock: before-send → "
                        "error)", failed_at - clock.last, connect_timeout)
        check_server_view("accepted → closed_by_peer",
                          between(serve, "accepted", "closed_by_peer", connection=1),
                          connect_timeout)


def handshake_inside_connect_timeout():
    """Handshake held 300 ms, connect_timeout 0.8 s (read_timeout 0.2 s, to show it does not
    govern the handshake): the call succeeds, verified against the printed CA."""
    with Serve(PROGRAM, ["delay-tls-handshake=300ms"], tls=True, respond_with="s3") as serve:
        check(serve.url.startswith("https://"), f"serve URL {serve.url}")
        s3 = client("s3", serve, connect_timeout=0.8, read_timeout=0.2)
        status = put(s3, serve)
        check(status == 200, f"status {status}")
        serve.print_events()
        check_fire_time("handshake held (event log: accepted → tls_done)",
                        between(serve, "accepted", "tls_done", connection=1), 0.3)


run_cases([
    ("delay-tls-handshake=2s, connect_timeout=0.5: timeout at 0.5 s",
     handshake_past_connect_timeout),
    ("delay-tls-handshake=300ms, connect_timeout=0.8, read_timeout=0.2: success",
     handshake_inside_connect_timeout),
])

"""Issue 12: S3 put_object through a "proxy" that swallows `100 Continue`.

botocore adds `Expect: 100-continue` to S3 PutObject (its body becomes a file object), writes the
headers, then waits for a response with urllib3.util.wait_for_read(sock, 1): a fixed 1 s, not
configurable (botocore/awsrequest.py, AWSConnection._send_output). If nothing comes it sends the
body anyway; a 100 makes it send at once; a final status (417) means the body is never sent.
"""

import sys
import time

from serve_process import (TOLERANCE, ContinueWaitClock, Serve, between, check,
                           check_fire_time, check_server_view, client, put_object, run_cases)

PROGRAM = sys.argv[1]
BODY = b"tunedhttp interop " * 64  # 1152 bytes
BOTOCORE_CONTINUE_WAIT = 1.0  # hard-coded in botocore/awsrequest.py


def put(s3, serve):
    status = put_object(s3, serve, body=BODY)
    check(status == 200, f"put_object status {status}, expected 200")
    done = serve.find("body_done")
    check(done, "the server never read the whole body")
    check(done[-1]["detail"] == f"{len(BODY)} bytes", f"body_done says {done[-1]['detail']}")


def continue_withheld():
    """No 100 ever: botocore waits its fixed 1 s, then sends the body; the call succeeds."""
    with Serve(PROGRAM, ["withhold-continue"], respond_with="s3") as serve, \
            ContinueWaitClock() as clock:
        s3 = client("s3", serve)
        put(s3, serve)
        check(not serve.find("continue_sent"), "the server sent a 100 despite the fault")
        serve.print_events()
        waits = clock.waits()
        check(len(waits) == 1, f"botocore logged {len(waits)} waits for 100 Continue")
        check(waits[0][1].startswith("No response seen"), f"the wait ended with: {waits[0][1]}")
        check_fire_time("botocore's wait for 100 Continue (its debug log)", waits[0][0],
                        BOTOCORE_CONTINUE_WAIT)
        # What the server saw: request headers read → first body byte.
        check_server_view("request_headers_read → body_first_byte",
                          between(serve, "request_headers_read", "body_first_byte", request=1),
                          BOTOCORE_CONTINUE_WAIT)


def continue_withheld_every_request():
    """The wait is per request, also on a reused connection: two calls, two 1 s waits."""
    with Serve(PROGRAM, ["withhold-continue"], respond_with="s3") as serve, \
            ContinueWaitClock() as clock:
        s3 = client("s3", serve)
        put(s3, serve)
        put(s3, serve)
        serve.print_events()
        check(len(serve.find("accepted")) == 1, "expected both requests on one connection")
        waits = clock.waits()
        check(len(waits) == 2, f"botocore logged {len(waits)} waits for 100 Continue")
        for request in (1, 2):
            check_fire_time(f"request {request}: botocore's wait (its debug log)",
                            waits[request - 1][0], BOTOCORE_CONTINUE_WAIT)
            check_server_view(f"request {request}: request_headers_read → body_first_byte",
                              between(serve, "request_headers_read", "body_first_byte",
                                      request=request), BOTOCORE_CONTINUE_WAIT)


def continue_after_500ms():
    """A 100 that comes late but inside the 1 s: the body follows the 100 at once."""
    with Serve(PROGRAM, ["withhold-continue=500ms"], respond_with="s3") as serve, \
            ContinueWaitClock() as clock:
        s3 = client("s3", serve)
        put(s3, serve)
        serve.print_events()
        check_fire_time("100 Continue sent (event log)",
                        between(serve, "request_headers_read", "continue_sent", request=1), 0.5)
        waits = clock.waits()
        check(len(waits) == 1 and waits[0][1].startswith("100 Continue response seen"),
              f"botocore's wait: {waits}")
        check_server_view("botocore's wait (its debug log)", waits[0][0], 0.5)
        gap = between(serve, "continue_sent", "body_first_byte", request=1)
        print(f"  body first byte {gap * 1000:.1f} ms after the 100")
        check(0 <= gap <= TOLERANCE, f"body came {gap * 1000:.1f} ms after the 100")


def prompt_continue():
    """No fault: the server answers 100 at once and botocore sends the body without waiting."""
    with Serve(PROGRAM, [], respond_with="s3") as serve:
        s3 = client("s3", serve)
        put(s3, serve)
        serve.print_events()
        check(serve.find("continue_sent", request=1), "no 100 Continue sent")
        waited = between(serve, "request_headers_read", "body_first_byte", request=1)
        print(f"  body first byte {waited * 1000:.1f} ms after the request headers")
        check(waited <= TOLERANCE, f"botocore waited {waited * 1000:.1f} ms despite a prompt 100")


def reply_417():
    """A final 417 instead of 100: botocore does not send the body; the call fails with 417."""
    with Serve(PROGRAM, ["withhold-continue=reply:417"], respond_with="s3") as serve:
        s3 = client("s3", serve)
        started = time.monotonic()
        try:
            s3.put_object(Bucket="bucket", Key="key", Body=BODY)
        except s3.exceptions.ClientError as error:
            elapsed = time.monotonic() - started
            status = error.response["ResponseMetadata"]["HTTPStatusCode"]
            print(f"  ClientError after {elapsed * 1000:.0f} ms: {error}")
            check(status == 417, f"status {status}, expected 417")
        else:
            raise AssertionError("put_object succeeded despite 417 Expectation Failed")
        serve.wait_for_event("closed_by_server")
        serve.print_events()
        check(not serve.find("body_first_byte"), "botocore sent the body after a 417")
        answered = between(serve, "request_headers_read", "response_headers_sent", request=1)
        check(answered <= TOLERANCE, f"417 came {answered * 1000:.1f} ms after the headers")
        # The SDK did not sit out its 1 s wait: wait_for_read returned as soon as the 417 came.
        check(elapsed < BOTOCORE_CONTINUE_WAIT, f"the call took {elapsed:.2f} s")


run_cases([
    ("withhold-continue: botocore waits 1 s, then sends the body", continue_withheld),
    ("withhold-continue: the 1 s wait is paid on every request", continue_withheld_every_request),
    ("withhold-continue=500ms: body right after the late 100", continue_after_500ms),
    ("prompt 100: no wait", prompt_continue),
    ("withhold-continue=reply:417: body never sent, ClientError 417", reply_417),
])

"""boto3 against `tunedhttp serve`, the faults changed while the server runs.

botocore sends S3 PutObject with `Expect: 100-continue` and waits a fixed 1 s for the 100
(botocore/awsrequest.py). With the 100 withheld, that wait times out and botocore sends the
body anyway, a second late; with the fault cleared through the control API, the next PUT gets
its 100 at once. One server's life, one fixture.
"""

import time

import pytest

boto3 = pytest.importorskip("boto3")
import botocore.config  # noqa: E402

BOTOCORE_CONTINUE_WAIT = 1.0  # seconds, fixed in botocore
TOLERANCE = 0.5  # how late botocore's wait may end on a loaded machine
# The server logs the head when it has read it, a little after botocore wrote it: its view of
# the wait can be short by that much. "Never early" is judged on the client's own clock.
SERVER_VIEW_SLACK = 0.05


def s3_client(server):
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE",
                                    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                    region_name="us-east-1")
    return session.client("s3", endpoint_url=server.url.rstrip("/"), config=botocore.config.Config(
        s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=5,
        retries={"total_max_attempts": 1, "mode": "standard"}))


def body_wait(server, request):
    """Seconds from the request's head read to its first body byte, as the server saw them."""
    head = server.wait_for_event("request_headers_read", request=request)
    body = server.wait_for_event("body_first_byte", request=request)
    return (body["at_ms"] - head["at_ms"]) / 1000.0


@pytest.mark.tunedhttp(respond_with="s3")
def test_withheld_continue_then_cleared(tunedhttp_server):
    server = tunedhttp_server
    s3 = s3_client(server)
    server.set_faults(["withhold-continue"])
    assert [fault["name"] for fault in server.faults()] == ["withhold_continue"]

    started = time.monotonic()
    response = s3.put_object(Bucket="bucket", Key="first", Body=b"x" * 1024)
    elapsed = time.monotonic() - started
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not server.find_events("continue_sent", request=1), "the 100 was sent despite the fault"
    assert elapsed >= BOTOCORE_CONTINUE_WAIT, elapsed
    waited = body_wait(server, 1)
    assert BOTOCORE_CONTINUE_WAIT - SERVER_VIEW_SLACK <= waited <= BOTOCORE_CONTINUE_WAIT + TOLERANCE, waited

    server.clear_faults()
    assert server.faults() == []
    response = s3.put_object(Bucket="bucket", Key="second", Body=b"x" * 1024)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert server.wait_for_event("continue_sent", request=2)
    assert body_wait(server, 2) < BOTOCORE_CONTINUE_WAIT / 2, "the body waited for nothing"
    kinds = [event["kind"] for event in server.events()]
    assert kinds.count("faults_changed") == 2, kinds


def test_bad_spec_is_refused_and_changes_nothing(tunedhttp_server):
    from tunedhttp_serve import AdminError

    server = tunedhttp_server
    server.set_faults(["hold-headers=2s"])
    with pytest.raises(AdminError) as refused:
        server.set_faults(["hold-headers=2s", "no-such-fault"])
    assert refused.value.status == 400
    assert "no-such-fault" in refused.value.message
    assert [fault["spec"] for fault in server.faults()] == ["hold-headers=2s"]

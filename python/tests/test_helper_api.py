"""The helper itself: start-up errors, TLS, counted targets and the event long poll."""

import os
import ssl
import urllib.error
import urllib.request

import pytest

from tunedhttp_serve import serve


def get(url, context=None):
    with urllib.request.urlopen(url, timeout=5, context=context) as response:
        return response.status, response.read()


def test_a_bad_fault_at_start_names_it():
    with pytest.raises(RuntimeError) as failed:
        with serve(faults=["no-such-fault"]):
            pass
    assert "no-such-fault" in str(failed.value)


def test_tls_gives_the_ca_to_trust():
    with serve(tls=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert os.path.exists(server.ca)
        assert get(server.url, ssl.create_default_context(cafile=server.ca)) == (200, b"ok\n")
    assert not os.path.exists(server.ca), "serve removes its CA file when it stops"


def test_the_first_two_fail_then_requests_succeed(tunedhttp_server):
    server = tunedhttp_server
    server.set_faults(["withhold-continue=reply:417,request:1-2"])
    # Only requests with a body and Expect: 100-continue are refused: send two such, then one.
    for _ in range(2):
        request = urllib.request.Request(server.url, data=b"x", method="PUT",
                                         headers={"Expect": "100-continue"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 417
    request = urllib.request.Request(server.url, data=b"x", method="PUT",
                                     headers={"Expect": "100-continue"})
    assert urllib.request.urlopen(request, timeout=5).status == 200
    assert server.stats()["faults_fired"] == {"withhold_continue": 2}


def test_wait_for_event_long_polls(tunedhttp_server):
    server = tunedhttp_server
    last = server.events()[-1]["seq"] if server.events() else 0
    assert server.events(since=last, wait=0.1) == []
    get(server.url)
    event = server.wait_for_event("response_done", request=1)
    assert event["seq"] > last
    server.reset()
    assert server.events() == [] and server.faults() == []

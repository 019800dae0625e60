"""botocore through `tunedhttp serve --proxy`, one proxy fault at a time.

botocore takes its proxy from HTTPS_PROXY / HTTP_PROXY (urllib's getproxies, loopback included)
and reaches an https:// endpoint through CONNECT, an http:// one in absolute form. The origin is
a second `tunedhttp serve --respond-with s3`; each case checks what botocore got and what the
proxy's and the origin's event logs say.
"""

import os
import sys
import time
from contextlib import contextmanager

import botocore.exceptions

from serve_process import (Serve, between, check, check_fire_time, check_server_view, client,
                           run_cases)

PROGRAM = sys.argv[1]


@contextmanager
def proxied(proxy, scheme):
    """botocore's environment names `proxy` for `scheme` (and nothing else) while in use."""
    saved = {name: os.environ.pop(name, None)
             for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                          "no_proxy")}
    os.environ[f"{scheme.upper()}_PROXY"] = proxy.url.rstrip("/")
    try:
        yield
    finally:
        os.environ.pop(f"{scheme.upper()}_PROXY", None)
        for name, value in saved.items():
            if value is not None:
                os.environ[name] = value


def origin_authority(origin):
    return origin.url.split("://", 1)[1].rstrip("/")


def put(s3, key="key"):
    started = time.monotonic()
    response = s3.put_object(Bucket="bucket", Key=key, Body=b"x" * 64)
    return response["ResponseMetadata"]["HTTPStatusCode"], time.monotonic() - started


def tunnel():
    """No fault: CONNECT to the origin, TLS through it, 200."""
    with Serve(PROGRAM, tls=True, respond_with="s3") as origin, \
            Serve(PROGRAM, proxy=True) as proxy, proxied(proxy, "https"):
        status, _ = put(client("s3", origin))
        check(status == 200, f"status {status}")
        connects = proxy.find("proxy_connect")
        check(len(connects) == 1 and connects[0]["detail"] == origin_authority(origin),
              f"the proxy's CONNECTs: {connects}")


def stall_connect():
    """CONNECT never answered: botocore gives up at its connect_timeout (urllib3 times the
    tunnel's set-up with it; the error says "Read timeout"); the origin sees nothing."""
    with Serve(PROGRAM, tls=True, respond_with="s3") as origin, \
            Serve(PROGRAM, ["stall-connect"], proxy=True) as proxy, proxied(proxy, "https"):
        s3 = client("s3", origin, connect_timeout=1.0, read_timeout=5.0)
        started = time.monotonic()
        try:
            put(s3)
        # urllib3 reports the tunnel's timeout as a read timeout or, wrapped, as a proxy error
        # (both seen); the time it took tells a timeout from a refusal.
        except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError,
                botocore.exceptions.ProxyConnectionError) as error:
            print(f"botocore: {type(error).__name__}: {error}")
        else:
            check(False, "put_object succeeded through a proxy that never answers CONNECT")
        check_fire_time("botocore's connect_timeout on CONNECT", time.monotonic() - started, 1.0)
        check(proxy.wait_for_event("proxy_connect"), "the proxy read no CONNECT")
        check(not origin.find("accepted"), "the origin was reached")


def delay_connect():
    """CONNECT answered after 500 ms: botocore waits, then succeeds. botocore's call takes the
    delay and then the TLS handshake and the PUT (about 0.1 s here, more on a loaded machine), so
    the call is checked for never early, and the delay itself on the proxy's clock."""
    with Serve(PROGRAM, tls=True, respond_with="s3") as origin, \
            Serve(PROGRAM, ["delay-connect=500ms"], proxy=True) as proxy, proxied(proxy, "https"):
        status, elapsed = put(client("s3", origin))
        check(status == 200, f"status {status}")
        print(f"  botocore's call: {elapsed * 1000:.1f} ms")
        check(elapsed >= 0.5, f"botocore's call ended before the CONNECT delay: {elapsed:.3f} s")
        check(elapsed < 0.5 + 2.0, f"botocore's call took {elapsed:.3f} s after a 0.5 s delay")
        check_server_view("the CONNECT delay (proxy_connect → its 200)",
                          between(proxy, "proxy_connect", "response_headers_sent", connection=1),
                          0.5)


def reject_connect():
    """CONNECT answered 407: ProxyConnectionError at once; the origin sees nothing."""
    with Serve(PROGRAM, tls=True, respond_with="s3") as origin, \
            Serve(PROGRAM, ["reject-connect=407"], proxy=True) as proxy, proxied(proxy, "https"):
        try:
            put(client("s3", origin))
        except botocore.exceptions.ProxyConnectionError as error:
            print(f"botocore: {error}")
        else:
            check(False, "put_object succeeded through a proxy that refuses CONNECT")
        sent = proxy.wait_for_event("response_headers_sent")
        check(sent["detail"] == "407 reject_connect", f"the proxy answered {sent['detail']}")
        check(not origin.find("accepted"), "the origin was reached")


def close_tunnel_idle():
    """The proxy drops a tunnel idle for 300 ms: the next call, made once it is gone, gets a new
    one (urllib3 finds the pooled connection dropped) instead of failing."""
    with Serve(PROGRAM, tls=True, respond_with="s3") as origin, \
            Serve(PROGRAM, ["close-tunnel-idle=300ms"], proxy=True) as proxy, \
            proxied(proxy, "https"):
        s3 = client("s3", origin)
        check(put(s3, "first")[0] == 200, "the first call failed")
        proxy.wait_for(lambda events: any(e.get("detail") == "close_tunnel_idle" for e in events),
                       what="the tunnel closed by close_tunnel_idle")
        check(put(s3, "second")[0] == 200, "the second call failed")
        check(len(proxy.find("proxy_connect")) == 2,
              f"expected a second CONNECT: {proxy.find('proxy_connect')}")


def withhold_continue():
    """The guide's case: the origin sends 100, the proxy swallows it, botocore sends its body
    after its fixed 1 s and gets 200 (HTTP_PROXY, an http:// endpoint: absolute form)."""
    with Serve(PROGRAM, respond_with="s3") as origin, \
            Serve(PROGRAM, ["withhold-continue"], proxy=True) as proxy, proxied(proxy, "http"):
        status, elapsed = put(client("s3", origin))
        check(status == 200, f"status {status}")
        check(origin.wait_for_event("continue_sent"), "the origin sent no 100")
        check(proxy.find("proxy_forward"), "the request was not forwarded")
        check_fire_time("botocore's wait for the swallowed 100", elapsed, 1.0)


run_cases([("tunnel", tunnel), ("stall_connect", stall_connect), ("delay_connect", delay_connect),
           ("reject_connect", reject_connect), ("close_tunnel_idle", close_tunnel_idle),
           ("withhold_continue", withhold_continue)])

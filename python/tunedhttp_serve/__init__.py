"""Run `tunedhttp serve` (the fault-injecting mock HTTP/1.1 server) from Python tests.

Standard library only. A context manager starts the server on an ephemeral port with its
control API (`--admin 127.0.0.1:0`), gives its URL (and CA file with TLS), changes its faults
while it runs and reads its event log::

    from tunedhttp_serve import serve

    with serve(faults=["withhold-continue"], respond_with="s3") as server:
        ...aim a client at server.url...
        server.clear_faults()
        server.wait_for_event("response_done", request=2)

For pytest, the `tunedhttp_server` fixture (tunedhttp_serve.pytest_plugin) does the same per
test; see docs/reproductions.md.
"""

from ._server import AdminError, Server, find_program, serve

__all__ = ["AdminError", "Server", "find_program", "serve"]

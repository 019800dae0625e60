"""pytest fixture `tunedhttp_server`: a `tunedhttp serve` with its control API per test.

Installed with the package, pytest loads it by itself (entry point `pytest11`). With the
package only on PYTHONPATH, add `pytest_plugins = ["tunedhttp_serve.pytest_plugin"]` to a
conftest.py. The server starts with no faults and plain HTTP; a test sets faults through
`tunedhttp_server.set_faults([...])`. Mark a test `@pytest.mark.tunedhttp(respond_with="s3",
tls=True, faults=[...])` to start it otherwise.
"""

import pytest

from ._server import serve


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "tunedhttp(respond_with=None, tls=False, faults=()): how the "
        "tunedhttp_server fixture starts `tunedhttp serve`")


@pytest.fixture
def tunedhttp_server(request):
    """A running tunedhttp_serve.Server: .url, .ca, .set_faults(), .events(), ..."""
    marker = request.node.get_closest_marker("tunedhttp")
    options = dict(marker.kwargs) if marker else {}
    with serve(**options) as server:
        yield server

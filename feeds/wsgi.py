"""The production WSGI server: waitress, with keep-alive kept on 304 responses.

waitress closes the connection after any response without a Content-Length, and it
drops Content-Length from 304s, so every 304 costs the poller a new TCP connection.
A 304 has no body by definition (RFC 9112 §6.3: it ends at the blank line after the
header section), so there is nothing to delimit and the connection can stay open:
the 304 is the answer feed readers get most, and it should be the cheapest.
"""

from __future__ import annotations

from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask


class _KeepAliveTask(WSGITask):
    def set_close_on_finish(self) -> None:
        if (
            self.status.startswith("304")
            and self.version == "1.1"
            and getattr(self.request, "headers", {}).get("CONNECTION", "").lower() != "close"
        ):
            return
        super().set_close_on_finish()


class _Channel(HTTPChannel):
    task_class = _KeepAliveTask


def make_server(app: Any, host: str, port: int, threads: int = 8) -> BaseWSGIServer:
    """A waitress server for `app` on one address, not yet running (call .run())."""
    server = create_server(app, host=host, port=port, threads=threads, ident="feeds")
    # One host and port give one listening socket, never a MultiSocketServer.
    assert isinstance(server, BaseWSGIServer)
    server.channel_class = _Channel  # read at each accept
    return server

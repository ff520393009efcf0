"""The production WSGI server: waitress, with keep-alive kept on 304 responses, and
request lines that carry UTF-8 as it is.

waitress closes the connection after any response without a Content-Length, and it
drops Content-Length from 304s, so every 304 costs the poller a new TCP connection.
A 304 has no body by definition (RFC 9112 §6.3: it ends at the blank line after the
header section), so there is nothing to delimit and the connection can stay open:
the 304 is the answer feed readers get most, and it should be the cheapest.

waitress answers "400 Bad URI" to a target with bytes outside ASCII, which curl, and
the readers built on it (newsboat), send as they were given: a search feed's address
pasted as `/search.atom?q=降准`. Such bytes are percent-encoded first, as a browser
encodes them, so both arrive as the same request.
"""

from __future__ import annotations

import re
import socket
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
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


_NOT_ASCII = re.compile(rb"[\x80-\xff]")


class _Parser(HTTPRequestParser):
    def parse_header(self, header_plus: bytes) -> None:
        end = header_plus.find(b"\r\n")
        if end > 0 and not header_plus[:end].isascii():  # only the request line
            line = _NOT_ASCII.sub(lambda byte: b"%%%02X" % byte[0][0], header_plus[:end])
            header_plus = line + header_plus[end:]
        super().parse_header(header_plus)


class _Channel(HTTPChannel):
    task_class = _KeepAliveTask
    parser_class = _Parser


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to the address and listening (connections wait in its backlog until
    the server runs); OSError when the address is taken or not this host's."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return socket.create_server(address, family=family, backlog=1024)


def make_server(
    app: Any, host: str, port: int, threads: int = 8, *, sock: socket.socket | None = None
) -> BaseWSGIServer:
    """A waitress server for `app` on one address, or on the socket `listen` gave, not yet
    running (call .run())."""
    if sock is None:
        sock = listen(host, port)
    try:
        server = create_server(app, sockets=[sock], threads=threads, ident="feeds")
    except BaseException:
        sock.close()
        raise
    # One socket gives one server, never a MultiSocketServer.
    assert isinstance(server, BaseWSGIServer)
    server.channel_class = _Channel  # read at each accept
    return server

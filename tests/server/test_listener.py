"""The server's listening socket: connections it accepts send small frames at once.

Oracle: the kernel's own TCP_NODELAY option on a real accepted connection (getsockopt).
Without it, a digit's maps (an acknowledgement and its binary attachments, several WebSocket
frames) waited ~40 ms for the page's delayed ACK; bench/pictures.py shows the round trip.
"""

from __future__ import annotations

import socket

from server.cli.serve import listen


def test_accepted_connections_have_nagle_off():
    listener = listen("127.0.0.1", 0)
    try:
        with socket.create_connection(listener.getsockname()[:2]) as client:
            accepted, _ = listener.accept()
            try:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            finally:
                accepted.close()
            # the client side is the browser's business, and left as the system makes it
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        listener.close()

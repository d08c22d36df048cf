"""A transship app served on 127.0.0.1 in a background thread, for the benchmarks."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def serve(app: Any) -> tuple[Any, int]:
    """Start `app` on a free loopback port; returns (the uvicorn server, its port).
    Stop it with `server.should_exit = True`."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port

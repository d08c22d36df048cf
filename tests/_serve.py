"""The web app served by uvicorn on a free 127.0.0.1 port in a thread, for tests that need a
real server (browser tests, load shedding, lifespan shutdown)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from transship.settings import Settings
from transship.web.app import create_app


@contextmanager
def serve(settings: Settings, *, check_stopped: bool = True) -> Iterator[tuple[str, Any]]:
    """(base URL, app); stopped, lifespan shutdown included, on exit."""
    app = create_app(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(30)
        if check_stopped:
            assert not thread.is_alive(), "uvicorn did not stop"

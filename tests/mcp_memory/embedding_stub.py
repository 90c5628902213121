"""A stub of an OpenAI-compatible embeddings endpoint on 127.0.0.1 (real sockets), for tests.

It answers ``POST /v1/embeddings`` in OpenAI's format with deterministic vectors derived from each text
(``stub_vector``), and can be told to answer the next requests with an error status, a delay, or vectors
of the wrong size. It stands in for the remote service (OpenAI, Ollama, vLLM) only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DIMS = 8


def stub_vector(text: str, dims: int = DIMS) -> list[float]:
    """A deterministic, not normalised vector for ``text`` (the stub's "model")."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(b) - 127.5 for b in digest[:dims]]


@dataclass
class Stub:
    """Scripted behaviour and a record of what was asked."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str], float, int]] = field(default_factory=list)
    """Next answers: (status, headers, delay_seconds, dims); when empty: 200 with DIMS dimensions."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def then(
        self, status: int, *, headers: dict[str, str] | None = None, delay: float = 0.0, dims: int = DIMS
    ):
        self.script.append((status, headers or {}, delay, dims))
        return self


@pytest.fixture
def stub() -> Iterator[Stub]:
    state: Stub

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append(body)
                state.headers.append(dict(self.headers))
                status, headers, delay, dims = state.script.pop(0) if state.script else (200, {}, 0.0, DIMS)
            if delay:
                time.sleep(delay)
            if self.path != "/v1/embeddings":
                status = 404
            if status == 200:
                items = [
                    {"object": "embedding", "index": i, "embedding": stub_vector(t, dims)}
                    for i, t in enumerate(body["input"])
                ]
                payload = {"object": "list", "model": body["model"], "data": items[::-1]}  # any order
            else:
                payload = {"error": {"message": f"stub says {status}", "type": "stub"}}
            raw = json.dumps(payload).encode()
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Stub(url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

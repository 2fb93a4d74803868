"""A local stand-in for an OpenAI-compatible chat-completions server: a real HTTP server on a
loopback port, in a thread, that records each request and answers as it is told to."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeCompletions:
    """What the server answers: `content` with `usage`, or `status` with a body, after `delay`."""

    content: str = "A list comprehension builds a list in one expression [1]."
    usage: dict[str, Any] | None = field(
        default_factory=lambda: {"prompt_tokens": 321, "completion_tokens": 12}
    )
    status: int = 200
    raw_body: bytes | None = None
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def reply(self) -> tuple[int, bytes]:
        if self.raw_body is not None:
            return self.status, self.raw_body
        if self.status != 200:
            return self.status, json.dumps({"error": {"message": "overloaded"}}).encode()
        body: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": "fake-model-1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content}}],
        }
        if self.usage is not None:
            body["usage"] = self.usage
        return 200, json.dumps(body).encode()


@contextmanager
def fake_openai_server() -> Iterator[FakeCompletions]:
    fake = FakeCompletions()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "json": payload,
                }
            )
            if fake.delay:
                time.sleep(fake.delay)
            status, body = fake.reply()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (a timeout test)
                pass

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()

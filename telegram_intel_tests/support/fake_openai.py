"""A real HTTP server on 127.0.0.1 that speaks OpenAI's chat-completions API, driven by a script.

Each POST to /v1/chat/completions takes the next step from ``server.script`` (or the default
answer when the script is empty). A step is a callable ``step(body) -> Reply``.
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # sleep before answering (the client should time out first)
    body: bytes | None = None  # sent as is instead of the JSON of ``payload``


def completion(content: str, *, prompt_tokens: int = 11, completion_tokens: int = 7, model: str = "test-model") -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def ok(data: Any = None, *, raw: str | None = None, **usage: Any) -> Callable[[dict], Reply]:
    content = raw if raw is not None else json.dumps(data, ensure_ascii=False)
    return lambda body: Reply(200, completion(content, **usage))


def error(status: int, message: str = "error", headers: dict[str, str] | None = None) -> Callable[[dict], Reply]:
    payload = {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}}
    return lambda body: Reply(status, payload, headers or {})


def cut_off(data: Any, keep: float = 0.6) -> Callable[[dict], Reply]:
    """A 200 whose JSON body ends early (a proxy or server that died mid-answer); Content-Length matches it."""
    whole = json.dumps(completion(json.dumps(data, ensure_ascii=False))).encode()
    return lambda body: Reply(200, body=whole[: int(len(whole) * keep)])


def hang(seconds: float, then: Any = None) -> Callable[[dict], Reply]:
    return lambda body: Reply(200, completion(json.dumps(then or {})), hang_s=seconds)


class FakeOpenAIServer:
    def __init__(self, default: Callable[[dict], Reply] | None = None) -> None:
        self.script: collections.deque[Callable[[dict], Reply]] = collections.deque()
        self.default = default or ok({"answer": "default"})
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def push(self, *steps: Callable[[dict], Reply]) -> None:
        self.script.extend(steps)

    def _next(self, body: dict) -> Reply:
        with self._lock:
            step = self.script.popleft() if self.script else self.default
        return step(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    reply = Reply(404, {"error": {"message": "not found"}})
                else:
                    reply = server._next(body)
                if reply.hang_s and server._stopping.wait(reply.hang_s):
                    return
                data = reply.body if reply.body is not None else json.dumps(reply.payload).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        return Handler

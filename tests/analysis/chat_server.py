"""A real local HTTP server speaking the OpenAI chat-completions wire format, for tests.

It records every request (path, headers, JSON body) and answers each from a queue of scripted
:class:`Reply` s, or from a callable given the recorded request. An empty queue answers 500,
so a test that makes more requests than it scripted fails loudly rather than hanging.

    with chat_server() as server:
        server.script(Reply(json=completion('{"summary": ...}')))
        LlmAnalyzer(base_url=server.base_url, ...)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "test-model"


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the server saw it (header names lower-cased)."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.json["messages"]
        return messages


@dataclass(frozen=True, slots=True)
class Reply:
    """A scripted answer: ``json`` is sent as the body unless ``text`` is given; ``delay_s``
    waits before answering (to provoke client timeouts)."""

    status: int = 200
    json: Any = None
    text: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Responder = Callable[[Recorded], Reply]


def completion(content: str | None, *, refusal: str | None = None,
               finish_reason: str = "stop", model: str = MODEL) -> dict[str, Any]:
    """A chat-completions response body shaped like OpenAI's."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def error(status: int, message: str, **headers: str) -> Reply:
    """An error reply with OpenAI's ``{"error": {...}}`` body."""
    return Reply(status=status, json={"error": {"message": message, "type": "test_error",
                                                "code": None}}, headers=headers)


class ChatServer:
    """The server's state: what it was asked and what it will answer."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._replies: deque[Reply | Responder] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.base_url = ""  # set once the socket is bound

    def script(self, *replies: Reply | Responder) -> None:
        """Queue answers, one per request; a callable answers one request too."""
        with self._lock:
            self._replies.extend(replies)

    def answer_with(self, responder: Responder, times: int = 1000) -> None:
        """Answer the next ``times`` requests with ``responder``."""
        self.script(*[responder] * times)

    def _answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            nxt = self._replies.popleft() if self._replies else None
        if nxt is None:
            return error(500, "chat_server: no scripted reply left")
        return nxt if isinstance(nxt, Reply) else nxt(recorded)


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms stall

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            recorded = Recorded("POST", self.path,
                                {k.lower(): v for k, v in self.headers.items()}, body)
            reply = server._answer(recorded)
            # An Event wait, so closing the server wakes a delayed reply at once.
            if reply.delay_s and server.stopping.wait(reply.delay_s):
                return
            payload = (reply.text if reply.text is not None
                       else json.dumps(reply.json)).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json"
                                 if reply.text is None else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (a timeout test); nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    """A started server on 127.0.0.1 (a free port); ``base_url`` ends in ``/v1``."""
    state = ChatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_port}/v1"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

"""A fake OpenAI-compatible chat API: a real HTTP server on loopback answering
`POST /chat/completions` with `{"choices": [{"message": {"role": "assistant", "content": ...}}]}`.

    with FakeChatLLM(reply="Gold rush!") as llm:
        settings = make_settings(tmp, llm_api_base=llm.base_url, llm_api_key="k")
        llm.fail_next(500)        # the next request gets HTTP 500
        llm.stall_next()          # the next request gets no answer until the fake stops
        llm.requests              # every request body (parsed JSON) and its Authorization header
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.json_http import JsonHandler, serve_in_thread, stop_server
from tests.fakes.ports import free_port


class FakeChatLLM:
    """The fake server; start it with `with` or `.start()`."""

    def __init__(self, reply: str = "Target hit. Well played!") -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self._plan: list[str] = []  # "fail" or "stall", consumed one per request
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeChatLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeChatLLM:
        """Serve in a background thread."""
        self._server = serve_in_thread(self.port, _handler_for(self))
        return self

    def stop(self) -> None:
        """Release stalled requests and stop serving."""
        self._release.set()
        stop_server(self._server)

    def fail_next(self, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP 500."""
        with self._lock:
            self._plan.extend(["fail"] * times)

    def stall_next(self) -> None:
        """Hold the next request without an answer until the fake stops (the client times out)."""
        with self._lock:
            self._plan.append("stall")

    def answer(self, body: dict[str, Any], authorization: str | None) -> tuple[int, dict[str, Any]] | None:
        """(HTTP status, JSON body), or None to stall."""
        with self._lock:
            self.requests.append({"body": body, "authorization": authorization})
            step = self._plan.pop(0) if self._plan else "ok"
        if step == "stall":
            return None
        if step == "fail":
            return 500, {"error": {"message": "The server had an error", "type": "server_error"}}
        return 200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": body.get("model", "fake"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}
            ],
        }


def _handler_for(fake: FakeChatLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            answer = fake.answer(body, self.headers.get("Authorization"))
            if answer is None:
                fake._release.wait()
                return
            self._send(*answer)


    return Handler

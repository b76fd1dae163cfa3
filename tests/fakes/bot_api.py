"""A fake Telegram Bot API: a real HTTP server on loopback that speaks the Bot API's protocol.

python-telegram-bot (or any HTTP client) talks to it exactly as it talks to api.telegram.org:
`POST /bot<token>/<method>` with form fields, JSON or a multipart upload, answered with
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "...",
"parameters": {"retry_after": S}}`. It records every call, so a test asserts what Telegram would
have received, and it can be told to fail the way Telegram fails.

Use it as a context manager, or through the `bot_api` fixture of `tests/conftest.py`::

    with FakeBotApi() as api:
        settings = make_settings(tmp, telegram_bot_token="123:abc", telegram_api_base=api.api_base)
        ...                                  # the code under test calls the Bot API
        [photo] = api.wait_for("sendPhoto")  # blocks until one sendPhoto was answered ok
        assert photo.params["chat_id"] == 42 and photo.files["photo"].startswith(b"\\x89PNG")

The API:

- `FakeBotApi()`: start with `with` (or `.start()` / `.stop()`).
  `.api_base` is `http://127.0.0.1:PORT` (what `TELEGRAM_API_BASE` takes), `.base_url` is
  `api_base + "/bot"` (python-telegram-bot's `base_url`), `.base_file_url` is `api_base + "/file/bot"`.
- `.calls`: a snapshot list of `BotApiCall(method, token, params, files, status, at)`, in arrival order.
  `params` holds the request's fields with JSON values decoded (`chat_id` -> int, `reply_markup`
  -> dict), except free-text fields (`text`, `caption`, `url`, ...) which stay strings.
  `files` maps each uploaded part's field name to its bytes; an `attach://name` reference is also
  resolved under the referring field. `status` is the HTTP status we answered with, `at` the
  `time.monotonic()` of the answer.
  `.calls_of(method, ok_only=True)` filters them. `.webhook(token)` is the webhook registered
  for a token (`url`, `secret_token`, ...) or None.
- `.wait_for(method, count=1, timeout=5, ok_only=True)`: block until `count` calls of `method`
  were answered (successfully, unless `ok_only=False`) and return them; raises `TimeoutError`
  listing what did arrive. Waits on a condition variable, never polls.
  `await .wait_for_async(...)` does the same from a coroutine without blocking the event loop.
  `.wait_until_polling(timeout=5)` returns once a getUpdates long poll is waiting.
- `.fail_next(method, status, description, retry_after=None, times=1)`: the next `times` calls
  of `method` get that error (a 429 with `retry_after` is Telegram's flood control).
- `.block_chat(chat_id)` / `.unblock_chat(chat_id)`: every send to that chat answers 403
  "Forbidden: bot was blocked by the user". `.forget_chat(chat_id)`: 400 "Bad Request: chat not
  found".
- `.deactivate_chat(chat_id)`: sends answer 403 "Forbidden: user is deactivated" (a deleted account).
- `.flood_randomly(probability, retry_after=1, seed=None)`: each send is answered 429 with
  `retry_after` with that probability (Telegram's flood control, at random moments).
- `.stall_next(method, seconds, times=1)`: the next `times` calls of `method` are carried out (the
  message is sent) but answered only after `seconds` — a client with a shorter read time-out never
  learns that it arrived.
- `.set_member(chat_id, status)`: what `getChatMember` says about anyone in that chat
  (`administrator`, `member`, `left`...; `member` when not set; 400 "chat not found" for a forgotten chat).
- `.hold(method)`: calls of `method` wait unanswered until the returned `threading.Event` is set
  (to catch the code under test mid-request); `.wait_until_held(method)` returns once one arrived.
- `.add_listener(fn)`: `fn(call)` runs in the server's thread after each answered call (benchmarks
  use it to time arrivals); returns a function that removes the listener.
- `.queue_update(update)`: put an update (a dict shaped like Telegram's; `update_id` is filled in
  when missing) where `getUpdates` long polls will find it. Returns the update.
- `message_update(text, ...)` and `callback_update(data, ...)` (module functions) build realistic
  update dicts for a private chat, for POSTing to a webhook or for `queue_update`.

Methods answered: getMe, logOut, close, setWebhook, deleteWebhook, getWebhookInfo, getUpdates,
sendMessage, sendPhoto, sendDocument, sendMediaGroup, editMessageText, editMessageCaption,
editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendChatAction, setMyCommands,
deleteMyCommands, getMyCommands, getChat, getChatMember. Any other method is a 404 "Not Found", as Telegram does.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import io
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.json_http import JsonHandler
from tests.fakes.ports import free_port

# Fields whose value is free text: never JSON-decoded, so a caption "123" stays a string.
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "url",
        "secret_token",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "action",
        "description",
        "title",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
    }
)
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendChatAction",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "deleteMessage",
        "getChat",
        "getChatMember",
    }
)
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
DEACTIVATED = "Forbidden: user is deactivated"


@dataclass(frozen=True)
class BotApiCall:
    """One request the fake received and how it answered."""

    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, bytes]
    status: int
    at: float = field(default_factory=time.monotonic)  # when it was answered (time.monotonic)

    @property
    def ok(self) -> bool:
        """True when the call was answered with 200."""
        return self.status == 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    times: int


@dataclass
class _State:
    calls: list[BotApiCall] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    deactivated: set[str] = field(default_factory=set)
    members: dict[str, str] = field(default_factory=dict)
    stalls: dict[str, list[float]] = field(default_factory=dict)
    flood_probability: float = 0.0
    flood_retry_after: int = 1
    updates: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[Callable[[BotApiCall], None]] = field(default_factory=list)
    holds: dict[str, threading.Event] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    polling: int = 0
    closing: bool = False


class BotApiError(Exception):
    """An error answer: HTTP status, Telegram's description and optional retry_after."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


class FakeBotApi:
    """A Bot API server on a free loopback port; see the module docstring for the API."""

    def __init__(self) -> None:
        self.port = free_port()
        self.api_base = f"http://127.0.0.1:{self.port}"
        self.base_url = self.api_base + "/bot"
        self.base_file_url = self.api_base + "/file/bot"
        self._cond = threading.Condition()
        self._state = _State()
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._random = random.Random()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Start serving in a background thread; returns self."""
        self._server = _Server(("127.0.0.1", self.port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release long polls still waiting."""
        with self._cond:
            self._state.closing = True
            self._cond.notify_all()
            for gate in self._state.holds.values():
                gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests read ------------------------------------------------------------------

    @property
    def calls(self) -> list[BotApiCall]:
        """Every call so far, in arrival order (a snapshot)."""
        with self._cond:
            return list(self._state.calls)

    def calls_of(self, method: str, ok_only: bool = True) -> list[BotApiCall]:
        """The calls of `method` so far (only those answered ok, unless `ok_only=False`)."""
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def webhook(self, token: str) -> dict[str, Any] | None:
        """The webhook registered for `token` (url, secret_token, ...), or None."""
        with self._cond:
            return self._state.webhooks.get(token)

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5, ok_only: bool = True
    ) -> list[BotApiCall]:
        """The first `count` calls of `method`, once they arrived; TimeoutError after `timeout` s."""

        def matching() -> list[BotApiCall]:
            return [c for c in self._state.calls if c.method == method and (c.ok or not ok_only)]

        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                seen = [f"{c.method}:{c.status}" for c in self._state.calls]
                raise TimeoutError(f"expected {count} {method} call(s) within {timeout}s; received {seen}")
            return matching()[:count]

    def wait_until_polling(self, timeout: float = 5) -> None:
        """Return once a getUpdates long poll is waiting; TimeoutError after `timeout` s."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._state.polling > 0, timeout=timeout):
                raise TimeoutError(f"no getUpdates long poll arrived within {timeout}s")

    async def wait_for_async(
        self, method: str, count: int = 1, timeout: float = 5, ok_only: bool = True
    ) -> list[BotApiCall]:
        """`wait_for` from a coroutine: waits in a worker thread so the event loop keeps running."""
        return await asyncio.to_thread(self.wait_for, method, count, timeout, ok_only)

    # --- what tests arrange ---------------------------------------------------------------

    def hold(self, method: str) -> threading.Event:
        """Keep calls of `method` waiting, unanswered, until the returned event is set."""
        gate = threading.Event()
        with self._cond:
            self._state.holds[method] = gate
        return gate

    def wait_until_held(self, method: str, count: int = 1, timeout: float = 5) -> None:
        """Nothing; returns once `count` calls of `method` have waited on `hold` (TimeoutError after
        `timeout` s)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._state.held.get(method, 0) >= count, timeout=timeout):
                raise TimeoutError(f"no {method} call arrived to be held within {timeout}s")

    def add_listener(self, listener: Callable[[BotApiCall], None]) -> Callable[[], None]:
        """Call `listener(call)` (in the server's thread) after each answered call; returns a remover."""
        with self._cond:
            self._state.listeners.append(listener)

        def remove() -> None:
            with self._cond:
                self._state.listeners.remove(listener)

        return remove

    def fail_next(
        self, method: str, status: int, description: str, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` with this error."""
        with self._cond:
            self._state.failures.setdefault(method, []).append(
                _Failure(status, description, retry_after, times)
            )

    def block_chat(self, chat_id: int | str) -> None:
        """Answer every send to `chat_id` with 403 'bot was blocked by the user'."""
        with self._cond:
            self._state.blocked.add(str(chat_id))

    def unblock_chat(self, chat_id: int | str) -> None:
        """Let sends to `chat_id` through again (the user unblocked the bot)."""
        with self._cond:
            self._state.blocked.discard(str(chat_id))

    def deactivate_chat(self, chat_id: int | str) -> None:
        """Answer every send to `chat_id` with 403 'user is deactivated'."""
        with self._cond:
            self._state.deactivated.add(str(chat_id))

    def flood_randomly(self, probability: float, retry_after: int = 1, seed: int | None = None) -> None:
        """Answer each send with a 429 (`retry_after`) with this probability (0 turns it off)."""
        with self._cond:
            self._state.flood_probability = probability
            self._state.flood_retry_after = retry_after
            self._random = random.Random(seed)

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Carry out the next `times` calls of `method` but answer each only after `seconds`."""
        with self._cond:
            self._state.stalls.setdefault(method, []).extend([seconds] * times)

    def set_member(self, chat_id: int | str, status: str) -> None:
        """What getChatMember answers for members of `chat_id` (administrator, member, left...)."""
        with self._cond:
            self._state.members[str(chat_id)] = status

    def forget_chat(self, chat_id: int | str) -> None:
        """Answer every send to `chat_id` with 400 'chat not found'."""
        with self._cond:
            self._state.unknown.add(str(chat_id))

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue `update` for getUpdates (an `update_id` is assigned when missing); returns it."""
        with self._cond:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = next(self._update_ids)
            self._state.updates.append(update)
            self._cond.notify_all()
            return update

    # --- serving (called from the server's threads) -----------------------------------------

    def _answer(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        with self._cond:
            gate = self._state.holds.get(method)
            if gate is not None:
                self._state.held[method] = self._state.held.get(method, 0) + 1
                self._cond.notify_all()
        if gate is not None:
            gate.wait()
        try:
            failure = self._injected_failure(method, params)
            if failure:
                raise failure
            result = self._result(token, method, params, files)
            status, body = 200, {"ok": True, "result": result}
        except BotApiError as err:
            body = {"ok": False, "error_code": err.status, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            status = err.status
        call = BotApiCall(method, token, params, files, status)
        with self._cond:
            self._state.calls.append(call)
            self._cond.notify_all()
            listeners = list(self._state.listeners)
        for listener in listeners:
            listener(call)
        with self._cond:
            stalls = self._state.stalls.get(method) if status == 200 else None
            stall = stalls.pop(0) if stalls else 0.0
        if stall:
            time.sleep(stall)  # done and recorded, but the answer comes too late for the client
        return status, body

    def _injected_failure(self, method: str, params: dict[str, Any]) -> BotApiError | None:
        with self._cond:
            queued = self._state.failures.get(method)
            if queued:
                failure = queued[0]
                failure.times -= 1
                if failure.times <= 0:
                    queued.pop(0)
                return BotApiError(failure.status, failure.description, failure.retry_after)
            chat = str(params.get("chat_id", ""))
            if method in SEND_METHODS and chat in self._state.blocked:
                return BotApiError(403, BLOCKED)
            if method in SEND_METHODS and chat in self._state.unknown:
                return BotApiError(400, CHAT_NOT_FOUND)
            if method in SEND_METHODS and chat in self._state.deactivated:
                return BotApiError(403, DEACTIVATED)
            if (
                method.startswith("send")
                and self._state.flood_probability
                and self._random.random() < self._state.flood_probability
            ):
                retry = self._state.flood_retry_after
                return BotApiError(429, f"Too Many Requests: retry after {retry}", retry)
        return None

    def _result(self, token: str, method: str, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        simple: dict[str, Callable[[], Any]] = {
            "getMe": lambda: _bot_user(token),
            "logOut": lambda: True,
            "close": lambda: True,
            "answerCallbackQuery": lambda: True,
            "sendChatAction": lambda: True,
            "deleteMessage": lambda: True,
            "setMyCommands": lambda: True,
            "deleteMyCommands": lambda: True,
            "getMyCommands": lambda: [],
            "getChat": lambda: _chat(params["chat_id"]) | {"accent_color_id": 0, "max_reaction_count": 11},
            "getChatMember": lambda: self._chat_member(token, params),
        }
        if method in simple:
            return simple[method]()
        if method == "setWebhook":
            return self._set_webhook(token, params)
        if method == "deleteWebhook":
            with self._cond:
                self._state.webhooks.pop(token, None)
            return True
        if method == "getWebhookInfo":
            hook = self.webhook(token) or {}
            return {"url": hook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}
        if method == "getUpdates":
            return self._get_updates(token, params)
        if method in {"sendMessage", "editMessageText"}:
            if "text" not in params or not str(params["text"]).strip():
                raise BotApiError(400, "Bad Request: message text is empty")
            return self._message(token, params, text=params["text"])
        if method in {"sendPhoto", "sendDocument"}:
            media_field = "photo" if method == "sendPhoto" else "document"
            if media_field not in params and media_field not in files:
                raise BotApiError(400, f"Bad Request: there is no {media_field} in the request")
            return self._message(token, params, **{media_field: files.get(media_field, b"")})
        if method == "sendMediaGroup":
            return [
                self._message(
                    token, params, photo=files.get(item.get("media", ""), b""), caption=item.get("caption")
                )
                for item in params.get("media", [])
            ]
        if method in {"editMessageCaption", "editMessageReplyMarkup"}:
            return self._message(token, params)
        raise BotApiError(404, "Not Found")

    def _chat_member(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            status = self._state.members.get(str(params.get("chat_id")), "member")
        user_id = int(params.get("user_id") or 0)
        user = _bot_user(token) if user_id == _bot_user(token)["id"] else {"id": user_id, "is_bot": False, "first_name": "User"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member |= {
                "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
                "can_manage_video_chats": False, "can_restrict_members": False, "can_promote_members": False,
                "can_change_info": False, "can_invite_users": True, "can_post_stories": False,
                "can_edit_stories": False, "can_delete_stories": False, "can_post_messages": True,
            }
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _set_webhook(self, token: str, params: dict[str, Any]) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://") and not url.startswith("http://"):
            raise BotApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        with self._cond:
            if url:
                self._state.webhooks[token] = dict(params)
            else:
                self._state.webhooks.pop(token, None)
        return True

    def _get_updates(self, token: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        with self._cond:
            if self.webhook(token):
                raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active")
            # Telegram forgets updates below the offset: they were confirmed.
            self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
            self._state.polling += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: bool(self._state.updates) or self._state.closing, timeout=timeout)
            finally:
                self._state.polling -= 1
            return self._state.updates[:limit]

    def _message(self, token: str, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": int(params["message_id"]) if "message_id" in params else next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(params.get("chat_id", 0)),
            "from": _bot_user(token),
        }
        if "text" in content:
            message["text"] = content["text"]
        for name in ("photo", "document"):
            if name in content:
                message[name] = _photo_sizes(content[name]) if name == "photo" else _document(content[name])
        caption = content.get("caption", params.get("caption"))
        if caption:
            message["caption"] = caption
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        reply_to = (params.get("reply_parameters") or {}).get("message_id") or params.get(
            "reply_to_message_id"
        )
        if reply_to:
            message["reply_to_message"] = {
                "message_id": int(reply_to),
                "date": message["date"],
                "chat": message["chat"],
            }
        return message


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        # Keep-alive, as Telegram does: clients reuse pooled connections.
        protocol_version = "HTTP/1.1"

        def handle(self) -> None:
            try:
                super().handle()
            except (ConnectionResetError, BrokenPipeError):
                pass  # the client went away (a killed process): nothing to answer

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self._serve(b"")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self._serve(self.rfile.read(length) if length else b"")

        def _serve(self, body: bytes) -> None:
            url = urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            if len(parts) != 2 or not parts[0].startswith("bot"):
                self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            token, method = parts[0][3:], parts[1]
            try:
                params, files = _parse_request(self.headers.get("Content-Type", ""), body, url.query)
            except ValueError as err:
                self._send(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {err}"})
                return
            status, answer = api._answer(token, method, params, files)
            try:
                self._send(status, answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a read time-out): as with Telegram, it is done


    return Handler


def _parse_request(content_type: str, body: bytes, query: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The request's fields (JSON values decoded) and uploaded files, whatever the encoding."""
    raw: dict[str, Any] = dict(parse_qsl(query))
    files: dict[str, bytes] = {}
    if content_type.startswith("application/json") and body:
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as err:
            raise ValueError(f"can't parse JSON: {err}") from err
        if not isinstance(payload, dict):
            raise ValueError("the JSON body must be an object")
        return raw | payload, files
    if content_type.startswith("application/x-www-form-urlencoded"):
        raw |= dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = payload
            else:
                raw[name] = payload.decode("utf-8")
    params = {key: _decode(key, value) for key, value in raw.items()}
    # Resolve `attach://name` references so a test finds the bytes under the referring field.
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            files[key] = files[value[9:]]
    for item in params.get("media", []) if isinstance(params.get("media"), list) else []:
        if isinstance(item, dict) and str(item.get("media", "")).startswith("attach://"):
            item["media"] = item["media"][9:]
    return params, files


def _decode(key: str, value: Any) -> Any:
    if key in TEXT_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _bot_user(token: str) -> dict[str, Any]:
    bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": f"Fake bot {bot_id}",
        "username": f"fake_{bot_id}_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _chat(chat_id: Any) -> dict[str, Any]:
    text = str(chat_id)
    if text.startswith("@"):
        return {
            "id": -1000000000000 - (abs(hash(text)) % 10**9),
            "type": "channel",
            "title": text[1:],
            "username": text[1:],
        }
    number = int(text) if text.lstrip("-").isdigit() else 0
    if number > 0:
        return {"id": number, "type": "private", "first_name": f"User {number}"}
    if text.startswith("-100"):
        return {"id": number, "type": "channel", "title": f"Channel {number}"}
    return {"id": number, "type": "group", "title": f"Group {number}"}


def _photo_sizes(data: bytes) -> list[dict[str, Any]]:
    width, height = _image_size(data)
    unique = f"p{len(data)}_{abs(hash(data)) % 10**8}"
    return [
        {
            "file_id": f"AgAC{unique}",
            "file_unique_id": unique,
            "width": width,
            "height": height,
            "file_size": len(data),
        }
    ]


def _document(data: bytes) -> dict[str, Any]:
    unique = f"d{len(data)}_{abs(hash(data)) % 10**8}"
    return {"file_id": f"BQAC{unique}", "file_unique_id": unique, "file_size": len(data)}


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image (or a file_id string): Telegram would say 0x0 here too
        return 0, 0


# --- update builders ------------------------------------------------------------------------

_builder_ids = itertools.count(10_000)


def user_dict(
    user_id: int = 4242, username: str | None = "alice", first_name: str = "Alice"
) -> dict[str, Any]:
    """A Telegram User object for a person."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
    if username:
        user["username"] = username
    return user


def message_update(
    text: str,
    user_id: int = 4242,
    username: str | None = "alice",
    first_name: str = "Alice",
    update_id: int | None = None,
) -> dict[str, Any]:
    """An update carrying a private text message from a user (commands get their entity)."""
    user = user_dict(user_id, username, first_name)
    message: dict[str, Any] = {
        "message_id": next(_builder_ids),
        "date": int(time.time()),
        "chat": {
            "id": user_id,
            "type": "private",
            "first_name": first_name,
            **({"username": username} if username else {}),
        },
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id if update_id is not None else next(_builder_ids), "message": message}


def callback_update(
    data: str,
    user_id: int = 4242,
    username: str | None = "alice",
    first_name: str = "Alice",
    message_id: int = 1,
    update_id: int | None = None,
) -> dict[str, Any]:
    """An update carrying a press of an inline-keyboard button with `data` under a bot message."""
    user = user_dict(user_id, username, first_name)
    return {
        "update_id": update_id if update_id is not None else next(_builder_ids),
        "callback_query": {
            "id": str(next(_builder_ids)),
            "from": user,
            "chat_instance": str(user_id * 7),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": first_name},
                "text": "Pick a template",
            },
        },
    }

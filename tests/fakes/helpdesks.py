"""HTTP fakes of the helpdesk APIs billingdesk writes tickets and private notes to.

Each fake is a small real HTTP server on 127.0.0.1 (a free port), built from the contracts in
shared/reference/helpdesks.md (§2.3 Help Scout, §3.2 Intercom, §4.2 Zendesk, §5.2 Front, §6.2
Freshdesk, §7.1 Chatwoot, §7.2 FreeScout, §7.3 Zammad): the auth header each API expects (401
otherwise), the JSON bodies and required fields (422/400 when missing), the status codes (201
with ``Resource-ID`` for Help Scout, 202 for Front's import…), and rate limiting on demand
(``fail_next(…, 429)`` answers 429 with ``Retry-After``). Every request is recorded, so tests
assert what reached the helpdesk.

Reading a ticket's messages (dispute evidence): each fake lists what it holds the way its API
does — Help Scout's threads and Front's messages newest first, Freshdesk's conversations and
Chatwoot's messages oldest first, Intercom's parts in one answer — paged as the API pages
(``Link`` rel=next, ``page``/``totalPages``, ``_pagination.next``, ``before=<id>``) with a
page size tests lower to make two pages; ``*_add`` helpers seed what a customer or an agent wrote.

Files: a multipart form is read into a dict of its fields in the bracket notation the APIs
use (``sender[handle]`` → nested, ``tags[]``/``to[0]`` → lists) with its files under
``"_files"`` (``upload_record`` dicts); a raw upload body (Zendesk's ``uploads.json``) stays
bytes. Each fake keeps the files it accepted with the note they belong to, and refuses what its API
refuses (an unknown upload token, a bad base64 ``data``, too many bytes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Answer = tuple[int, Any, dict[str, str]]


def upload_record(field: str, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
    """A received file, JSON-friendly (tests dump what the fake holds): the bytes as latin-1."""
    return {
        "field": field,
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        "content": data.decode("latin-1"),
    }


def _nest(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Form fields in bracket notation (``a[b]``, ``a[0]``, ``a[]``) as nested dicts/lists."""
    root: dict[Any, Any] = {}
    for name, value in fields:
        head, *rest = name.split("[")
        keys: list[Any] = [head, *(k.rstrip("]") for k in rest)]
        node = root
        for index, key in enumerate(keys):
            if key == "":
                key = len(node)
            elif isinstance(key, str) and key.isdigit():
                key = int(key)
            if index == len(keys) - 1:
                node[key] = value
            else:
                node = node.setdefault(key, {})

    def listify(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if node and all(isinstance(k, int) for k in node):
            return [listify(node[k]) for k in sorted(node)]
        return {k: listify(v) for k, v in node.items()}

    result: dict[str, Any] = listify(root)
    return result


def multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body: its fields (nested) and its files under ``_files``."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: list[tuple[str, str]] = []
    files: list[dict[str, Any]] = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = str(part.get_param("name", header="content-disposition") or "")
        if part.get_content_maintype() == "message":  # parsed into a message: its bytes
            data = part.get_payload(0).as_bytes()
        else:
            data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files.append(upload_record(name, filename, part.get_content_type(), data))
        else:
            fields.append((name, data.decode()))
    body = _nest(fields)
    body["_files"] = files
    return body


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str] = field(default_factory=dict)


class HelpdeskFake:
    """Base: a threaded HTTP server dispatching to ``routes`` (method, regex) -> handler."""

    name = "helpdesk"
    # What the API answers a request without valid credentials (its error body shape).
    unauthorized: Any = {"error": "Couldn't authenticate you"}

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.failures: list[tuple[str, int]] = []
        self.next_id = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = []
        self.query: dict[str, str] = {}  # the query string of the request being answered
        self.content_type = ""

    # --- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> HelpdeskFake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload, headers = fake.dispatch(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, path_prefix: str, status: int, times: int = 1) -> None:
        self.failures.extend([(path_prefix, status)] * times)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def calls(self, method: str, pattern: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    # --- dispatch --------------------------------------------------------------------------
    def authorized(self, headers: dict[str, str]) -> bool:
        raise NotImplementedError

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Answer:
        split = urlsplit(raw_path)
        path = split.path
        ctype = headers.get("content-type", "")
        body: Any
        if "application/json" in ctype:
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return 400, {"error": "invalid JSON"}, {}
        elif "x-www-form-urlencoded" in ctype:
            body = dict(parse_qsl(raw.decode()))
        elif "multipart/form-data" in ctype:
            body = multipart(ctype, raw)
        else:
            try:
                body = raw.decode() if raw else None
            except UnicodeDecodeError:
                body = raw  # an upload's bytes
            if ctype and "text/" not in ctype and raw:
                body = raw
        with self._lock:
            self.query = dict(parse_qsl(split.query))
            self.content_type = ctype
            self.requests.append(Seen(method, path, headers, body, self.query))
            for i, (prefix, status) in enumerate(self.failures):
                if path.startswith(prefix):
                    del self.failures[i]
                    extra = {"Retry-After": "0"} if status == 429 else {}
                    return status, {"error": "injected failure", "status": status}, extra
            if not self.public(path) and not self.authorized(headers):
                return 401, self.unauthorized, {}
            for m, pattern, handler in self.routes:
                match = pattern.fullmatch(path)
                if m == method and match:
                    return handler(body, *match.groups())
        return 404, {"error": "RecordNotFound"}, {}

    def public(self, path: str) -> bool:
        return False

    def route(self, method: str, pattern: str, handler: Callable[..., Answer]) -> None:
        self.routes.append((method, re.compile(pattern), handler))


def _basic(headers: dict[str, str]) -> tuple[str, str]:
    value = headers.get("authorization", "")
    if not value.startswith("Basic "):
        return "", ""
    user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    return user, password


# --- Zendesk (§4.2) ------------------------------------------------------------------------


class ZendeskFake(HelpdeskFake):
    name = "zendesk"

    def __init__(self, *, email: str, token: str) -> None:
        super().__init__()
        self.email, self.token = email, token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.route("POST", r"/api/v2/tickets\.json", self.ticket_create)
        self.route("GET", r"/api/v2/tickets\.json", self.ticket_list)
        self.route("PUT", r"/api/v2/tickets/(\d+)\.json", self.ticket_update)
        self.route("POST", r"/api/v2/uploads\.json", self.upload)
        self.route("GET", r"/api/v2/tickets/(\d+)/comments\.json", self.comments_list)
        self.users: dict[str, dict[str, Any]] = {}  # by email: the side-loaded authors
        self.comments_page_size = 100
        self.route(
            "GET", r"/api/v2/users/me\.json", lambda _b: (200, {"user": {"email": self.email}}, {})
        )

    def authorized(self, headers: dict[str, str]) -> bool:
        return _basic(headers) == (f"{self.email}/token", self.token)

    def ticket_create(self, body: Any) -> Answer:
        ticket = (body or {}).get("ticket") if isinstance(body, dict) else None
        if not isinstance(ticket, dict) or not ticket.get("comment", {}).get("body"):
            return 422, {"error": "RecordInvalid", "description": "Record validation errors"}, {}
        tid = self.new_id()
        self.tickets[tid] = {"id": tid, **ticket, "comments": [ticket["comment"]]}
        return (
            201,
            {"ticket": {"id": tid, "subject": ticket.get("subject")}, "audit": {"id": 1}},
            {},
        )

    def ticket_list(self, _body: Any) -> Answer:
        """``GET /api/v2/tickets.json?external_id=…``: the tickets with that external id."""
        wanted = self.query.get("external_id")
        found = [
            {"id": t["id"], "external_id": t.get("external_id"), "subject": t.get("subject")}
            for t in self.tickets.values()
            if wanted is None or t.get("external_id") == wanted
        ]
        return 200, {"tickets": found, "count": len(found), "next_page": None}, {}

    def upload(self, body: Any) -> Answer:
        """``POST /api/v2/uploads.json?filename=…``: the raw file as the body; a token back."""
        filename = self.query.get("filename")
        if not filename or not isinstance(body, bytes | str) or not body:
            return 422, {"error": "RecordInvalid", "description": "filename and file needed"}, {}
        data = body if isinstance(body, bytes) else body.encode()
        if len(data) > 50 * 2**20:
            return 413, {"error": "Payload Too Large"}, {}
        token = hashlib.sha256(data + filename.encode()).hexdigest()[:24]
        self.uploads[token] = upload_record("file", filename, self.content_type, data)
        attachment = {"file_name": filename, "content_type": self.content_type, "size": len(data)}
        return 201, {"upload": {"token": token, "attachment": attachment}}, {}

    def ticket_update(self, body: Any, tid: str) -> Answer:
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        comment = (body or {}).get("ticket", {}).get("comment")
        if comment:
            tokens = comment.get("uploads") or []
            if any(t not in self.uploads for t in tokens):
                return 422, {"error": "RecordInvalid", "description": "unknown upload"}, {}
            comment = {**comment, "attachments": [self.uploads[t] for t in tokens]}
            ticket["comments"].append(comment)
        return 200, {"ticket": {"id": int(tid)}, "audit": {"id": self.new_id()}}, {}

    def comment_add(self, tid: int, *, author: str, body: str, role: str = "end-user") -> None:
        """Seed a comment written by ``author`` (an end-user is the customer)."""
        user = self.users.setdefault(
            author, {"id": self.new_id(), "email": author, "name": author, "role": role}
        )
        ticket = self.tickets.setdefault(tid, {"id": tid, "comments": []})
        ticket["comments"].append(
            {
                "body": body,
                "public": True,
                "author_id": user["id"],
                "created_at": "2026-11-02T10:00:00Z",
            }
        )

    def comments_list(self, _body: Any, tid: str) -> Answer:
        """GET /api/v2/tickets/{id}/comments.json: offset pages (``page``) with ``next_page``,
        and ``include=users`` side-loading the authors."""
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        query = self.requests[-1].query
        page = int(query.get("page") or 1)
        size = self.comments_page_size
        rows = [
            {"id": i + 1, "public": True, "author_id": None, "created_at": "", **c}
            for i, c in enumerate(ticket["comments"])
        ]
        chunk = rows[(page - 1) * size : page * size]
        more = len(rows) > page * size
        answer: dict[str, Any] = {
            "comments": chunk,
            "next_page": f"{self.url}/api/v2/tickets/{tid}/comments.json?page={page + 1}"
            "&include=users"
            if more
            else None,
            "count": len(rows),
        }
        if query.get("include") == "users":
            ids = {c.get("author_id") for c in chunk}
            answer["users"] = [u for u in self.users.values() if u["id"] in ids]
        return 200, answer, {}


# --- Help Scout (§2.3) ---------------------------------------------------------------------


class HelpScoutFake(HelpdeskFake):
    name = "helpscout"

    def __init__(self, *, app_id: str, app_secret: str) -> None:
        super().__init__()
        self.app_id, self.app_secret = app_id, app_secret
        self.access_token = "hs-access-token"
        self.conversations: dict[int, dict[str, Any]] = {}
        self.route("POST", r"/v2/oauth2/token", self.token)
        self.route("POST", r"/v2/conversations", self.conversation_create)
        self.route("GET", r"/v2/conversations", self.conversation_list)
        self.route("POST", r"/v2/conversations/(\d+)/notes", self.note_create)
        self.route("GET", r"/v2/conversations/(\d+)/threads", self.threads_list)
        self.threads_page_size = 25  # UNCONFIRMED: Help Scout's threads page size
        self.route("GET", r"/v2/users/me", lambda _b: (200, {"email": "owner@example.com"}, {}))

    def public(self, path: str) -> bool:
        return path == "/v2/oauth2/token"

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.access_token}"

    def token(self, body: Any) -> Answer:
        if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        if (body.get("client_id"), body.get("client_secret")) != (self.app_id, self.app_secret):
            return 401, {"error": "invalid_client"}, {}
        return (
            200,
            {"token_type": "bearer", "access_token": self.access_token, "expires_in": 172800},
            {},
        )

    def conversation_create(self, body: Any) -> Answer:
        required = ("subject", "type", "mailboxId", "status", "customer", "threads")
        if not isinstance(body, dict) or any(not body.get(k) for k in required):
            return 400, {"message": "Bad request", "_embedded": {"errors": []}}, {}
        cid = self.new_id()
        self.conversations[cid] = {"tags": [], **body, "notes": []}
        for thread in body["threads"]:  # listed by ``threads_list`` like seeded ones
            kind = thread.get("type", "customer")
            email = (thread.get("customer") or body["customer"]).get("email", "")
            self.thread_add(cid, kind=kind, text=thread.get("text", ""), email=email,
                            at=body.get("createdAt") or "2026-11-02T10:00:00Z")  # fmt: skip
        return (
            201,
            None,
            {"Resource-ID": str(cid), "Location": f"{self.url}/v2/conversations/{cid}"},
        )

    def conversation_list(self, _body: Any) -> Answer:
        """``GET /v2/conversations?mailbox=…&tag=…&status=all``: HAL, newest first."""
        tag, mailbox = self.query.get("tag"), self.query.get("mailbox")
        found = [
            {"id": cid, "subject": c.get("subject"), "tags": [{"tag": t} for t in c["tags"]]}
            for cid, c in sorted(self.conversations.items(), reverse=True)
            if (tag is None or tag in c.get("tags", []))
            and (mailbox is None or str(c.get("mailboxId")) == mailbox)
        ]
        page = {"size": 25, "totalElements": len(found), "totalPages": 1, "number": 1}
        return 200, {"_embedded": {"conversations": found}, "page": page}, {}

    def note_create(self, body: Any, cid: str) -> Answer:
        conv = self.conversations.get(int(cid))
        if conv is None:
            return 404, {"message": "Not found"}, {}
        if not isinstance(body, dict) or not body.get("text"):
            return 400, {"message": "text is required"}, {}
        files = []
        for item in body.get("attachments") or []:
            try:
                data = base64.b64decode(item["data"], validate=True)
            except (KeyError, TypeError, binascii.Error):
                return 400, {"message": "attachments need fileName, mimeType, data"}, {}
            if not item.get("fileName") or not item.get("mimeType"):
                return 400, {"message": "attachments need fileName, mimeType, data"}, {}
            files.append(upload_record("attachments", item["fileName"], item["mimeType"], data))
        nid = self.new_id()
        conv["notes"].append({**body, "_files": files})
        conv.setdefault("listed", []).append(
            {"id": nid, "type": "note", "state": "published", "body": body["text"],
             "createdBy": {"type": "user", "email": "owner@example.com"},
             "createdAt": "2026-11-02T12:00:00Z"}
        )  # fmt: skip
        return 201, None, {"Resource-ID": str(nid)}

    def thread_add(
        self, cid: int, *, kind: str, text: str, email: str, at: str, state: str = "published"
    ) -> None:
        """Seed a thread: ``customer`` (by the customer), ``message`` (an agent's reply),
        ``note`` (private), ``lineitem`` (an event)."""
        by = {"type": "customer" if kind == "customer" else "user", "email": email}
        conv = self.conversations.setdefault(cid, {"tags": [], "notes": []})
        conv.setdefault("listed", []).append(
            {"id": self.new_id(), "type": kind, "state": state, "body": text,
             "createdBy": by, "createdAt": at}
        )  # fmt: skip

    def threads_list(self, _body: Any, cid: str) -> Answer:
        """``GET /v2/conversations/{id}/threads?page=N``: HAL, newest first."""
        conv = self.conversations.get(int(cid))
        if conv is None:
            return 404, {"message": "Not found"}, {}
        rows = list(reversed(conv.get("listed", [])))
        size = self.threads_page_size
        number = int(self.query.get("page") or 1)
        pages = max(1, -(-len(rows) // size))
        chunk = rows[(number - 1) * size : number * size]
        page = {"size": size, "totalElements": len(rows), "totalPages": pages, "number": number}
        return 200, {"_embedded": {"threads": chunk}, "page": page}, {}


# --- Intercom (§3.2) -----------------------------------------------------------------------


class IntercomFake(HelpdeskFake):
    name = "intercom"

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self.token = token
        self.contacts: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.route("POST", r"/contacts/search", self.contact_search)
        self.route("POST", r"/contacts", self.contact_create)
        self.route("POST", r"/conversations", self.conversation_create)
        self.route("POST", r"/conversations/(\d+)/reply", self.reply)
        self.route("GET", r"/conversations/(\d+)", self.conversation_get)
        self.route(
            "GET", r"/me", lambda _b: (200, {"type": "admin", "email": "bot@example.com"}, {})
        )

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}" and bool(
            headers.get("intercom-version")
        )

    def contact_search(self, body: Any) -> Answer:
        value = (body or {}).get("query", {}).get("value")
        data = [c for c in self.contacts.values() if c["email"] == value]
        return 200, {"type": "list", "data": data, "total_count": len(data)}, {}

    def contact_create(self, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("email"):
            return 400, {"type": "error.list", "errors": [{"code": "parameter_invalid"}]}, {}
        cid = f"c{self.new_id()}"
        self.contacts[cid] = {
            "type": "contact",
            "id": cid,
            "role": body.get("role"),
            "email": body["email"],
        }
        return 200, self.contacts[cid], {}

    def conversation_create(self, body: Any) -> Answer:
        sender = (body or {}).get("from") or {}
        if sender.get("id") not in self.contacts or not body.get("body"):
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}, {}
        conv = str(self.new_id())
        contact = self.contacts[sender["id"]]
        author = {"type": "user", "id": contact["id"], "email": contact["email"]}
        self.conversations[conv] = {
            "id": conv, "body": body["body"], "parts": [], "author": author,
            "created_at": 1793613600,
        }  # fmt: skip
        return 200, {"type": "user_message", "id": str(self.new_id()), "conversation_id": conv}, {}

    def reply(self, body: Any, conv: str) -> Answer:
        c = self.conversations.get(conv)
        if c is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}, {}
        if body.get("message_type") not in ("comment", "note", "quick_reply") or not body.get(
            "admin_id"
        ):
            return 400, {"type": "error.list", "errors": [{"code": "parameter_invalid"}]}, {}
        part = {
            "id": str(self.new_id()), "part_type": body["message_type"], "body": body["body"],
            "author": {"type": "admin", "id": body["admin_id"]}, "created_at": 1793620800,
        }  # fmt: skip
        c["parts"].append(part)
        return (
            200,
            {
                "type": "conversation",
                "id": conv,
                "conversation_parts": {"conversation_parts": c["parts"]},
            },
            {},
        )

    def conversation_add(self, conv: str, *, email: str, body: str, at: int) -> None:
        """Seed a conversation opened by the contact ``email`` with ``body`` (HTML)."""
        author = {"type": "user", "id": f"c-{email}", "email": email}
        self.conversations[conv] = {
            "id": conv, "body": body, "parts": [], "author": author, "created_at": at
        }  # fmt: skip

    def part_add(
        self, conv: str, *, part_type: str, author_type: str, email: str, body: str | None, at: int
    ) -> None:
        """Seed a part: a ``comment`` by a ``user`` or an ``admin``, a ``note``, an event."""
        author = {"type": author_type, "id": f"a-{email}", "email": email}
        self.conversations[conv]["parts"].append(
            {"id": str(self.new_id()), "part_type": part_type, "body": body,
             "author": author, "created_at": at}
        )  # fmt: skip

    def conversation_get(self, _body: Any, conv: str) -> Answer:
        """``GET /conversations/{id}``: the opening ``source`` and up to 500 parts."""
        c = self.conversations.get(conv)
        if c is None:
            return 404, {"type": "error.list", "errors": [{"code": "not_found"}]}, {}
        parts = [{"type": "conversation_part", **p} for p in c["parts"]][-500:]
        return (
            200,
            {
                "type": "conversation", "id": conv, "created_at": c.get("created_at"),
                "source": {"type": "conversation", "delivered_as": "customer_initiated",
                           "body": c["body"], "author": c.get("author") or {}},
                "conversation_parts": {
                    "type": "conversation_part.list", "conversation_parts": parts,
                    "total_count": len(c["parts"]),
                },
            },
            {},
        )  # fmt: skip


# --- Front (§5.2) --------------------------------------------------------------------------


class FrontFake(HelpdeskFake):
    name = "front"

    def __init__(self, *, token: str, inbox: str) -> None:
        super().__init__()
        self.token, self.inbox = token, inbox
        self.messages: dict[str, dict[str, Any]] = {}
        self.external_ids: dict[str, str] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.pending_lookups = 0  # GET /messages answers 404 this many times (async import)
        self.route("POST", r"/inboxes/([^/]+)/imported_messages", self.import_message)
        self.route("GET", r"/messages/([^/]+)", self.message_get)
        self.route("POST", r"/conversations/([^/]+)/comments", self.comment)
        self.route("GET", r"/conversations/([^/]+)/messages", self.messages_list)
        self.conversation_messages: dict[str, list[dict[str, Any]]] = {}
        self.messages_page_size = 100  # Front's maximum ``limit``
        self.route("GET", r"/me", lambda _b: (200, {"name": "Acme"}, {}))

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def import_message(self, body: Any, inbox: str) -> Answer:
        if inbox != self.inbox:
            return 404, {"_error": {"status": 404, "title": "Not found"}}, {}
        required = ("sender", "to", "body", "external_id", "created_at", "metadata")
        if not isinstance(body, dict) or any(k not in body for k in required):
            return (
                400,
                {"_error": {"status": 400, "title": "Bad request", "message": "missing field"}},
                {},
            )
        if "is_inbound" not in body["metadata"]:
            return 400, {"_error": {"status": 400, "title": "Bad request"}}, {}
        if body["external_id"] in self.external_ids:
            uid = self.external_ids[body["external_id"]]
        else:
            uid = f"msg_{self.new_id()}"
            conv = f"cnv_{self.new_id()}"
            self.messages[uid] = {"id": uid, "conversation": conv, "body": body}
            self.external_ids[body["external_id"]] = uid
            self.comments[conv] = []
            sender = body.get("sender") or {}
            self.conversation_messages[conv] = [
                {"_links": {"self": f"{self.url}/messages/{uid}"}, "id": uid,
                 "type": body.get("type", "email"), "is_inbound": True, "is_draft": False,
                 "created_at": body["created_at"], "author": None,
                 "recipients": [{"handle": sender.get("handle"), "role": "from"}],
                 "body": body["body"], "text": body["body"]}
            ]  # fmt: skip
        return 202, {"status": "accepted", "message_uid": uid}, {}

    def message_get(self, _body: Any, uid: str) -> Answer:
        if self.pending_lookups:
            self.pending_lookups -= 1
            return 404, {"_error": {"status": 404, "title": "Not found"}}, {}
        msg = self.messages.get(uid)
        if msg is None:
            return 404, {"_error": {"status": 404, "title": "Not found"}}, {}
        conv_url = f"{self.url}/conversations/{msg['conversation']}"
        return (
            200,
            {
                "id": uid,
                "_links": {
                    "self": f"{self.url}/messages/{uid}",
                    "related": {"conversation": conv_url},
                },
            },
            {},
        )

    def message_add(
        self, conv: str, *, handle: str, html: str, at: float, inbound: bool, draft: bool = False
    ) -> None:
        """Seed a message: inbound (the customer's, from ``handle``) or a teammate's reply."""
        teammate = None if inbound else {"id": "tea_1", "email": handle}
        self.conversation_messages.setdefault(conv, []).append(
            {"id": f"msg_{self.new_id()}", "type": "email", "is_inbound": inbound,
             "is_draft": draft, "created_at": at, "author": teammate,
             "recipients": [{"handle": handle, "role": "from"}], "body": html}
        )  # fmt: skip
        self.comments.setdefault(conv, [])

    def messages_list(self, _body: Any, conv: str) -> Answer:
        """``GET /conversations/{id}/messages?limit=…&page_token=…``: newest first, the next
        page's full URL in ``_pagination.next``."""
        if conv not in self.conversation_messages:
            return 404, {"_error": {"status": 404, "title": "Not found"}}, {}
        rows = sorted(self.conversation_messages[conv], key=lambda m: -float(m["created_at"]))
        size = min(int(self.query.get("limit") or 50), self.messages_page_size)
        start = int(self.query.get("page_token") or 0)
        chunk = rows[start : start + size]
        more = len(rows) > start + size
        link = f"{self.url}/conversations/{conv}/messages?limit={size}&page_token={start + size}"
        return 200, {"_pagination": {"next": link if more else None}, "_results": chunk}, {}

    def comment(self, body: Any, conv: str) -> Answer:
        if conv not in self.comments:
            return 404, {"_error": {"status": 404, "title": "Not found"}}, {}
        if not isinstance(body, dict) or not body.get("body"):
            return 400, {"_error": {"status": 400, "title": "Bad request"}}, {}
        files = body.get("_files") or []
        if any(not re.fullmatch(r"attachments\[\d+\]", f["field"]) for f in files):
            return 400, {"_error": {"status": 400, "title": "Bad request"}}, {}
        if sum(f["size"] for f in files) > 25 * 2**20:
            return 413, {"_error": {"status": 413, "title": "Payload too large"}}, {}
        cid = f"com_{self.new_id()}"
        self.comments[conv].append({"id": cid, **body})
        return 201, {"id": cid, "body": body["body"]}, {}


# --- Freshdesk (§6.2) ----------------------------------------------------------------------


class FreshdeskFake(HelpdeskFake):
    name = "freshdesk"

    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.tickets: dict[int, dict[str, Any]] = {}
        self.route("POST", r"/api/v2/tickets", self.ticket_create)
        self.route("POST", r"/api/v2/tickets/(\d+)/notes", self.note_create)
        self.route("GET", r"/api/v2/search/tickets", self.search)
        self.route("GET", r"/api/v2/tickets/(\d+)", self.ticket_get)
        self.route("GET", r"/api/v2/tickets/(\d+)/conversations", self.conversations_list)
        self.conversations_page_size = 100  # Freshdesk's maximum ``per_page``
        self.route(
            "GET",
            r"/api/v2/agents/me",
            lambda _b: (200, {"contact": {"email": "agent@example.com"}}, {}),
        )

    def authorized(self, headers: dict[str, str]) -> bool:
        return _basic(headers) == (self.api_key, "X")

    def ticket_create(self, body: Any) -> Answer:
        if not isinstance(body, dict):
            return 400, {"description": "Validation failed", "errors": []}, {}
        errors = []
        if not any(
            body.get(k) for k in ("requester_id", "email", "facebook_id", "phone", "twitter_id")
        ):
            errors.append({"field": "requester_id", "code": "missing_field"})
        for key in ("subject", "description"):
            if not body.get(key):
                errors.append({"field": key, "code": "missing_field"})
        if errors:
            return 400, {"description": "Validation failed", "errors": errors}, {}
        tid = self.new_id()
        self.tickets[tid] = {**body, "id": tid, "notes": [], "created_at": "2026-11-02T10:00:00Z"}
        return 201, {"id": tid, "subject": body["subject"], "status": body.get("status", 2)}, {}

    def search(self, _body: Any) -> Answer:
        """``GET /api/v2/search/tickets?query="tag:'…'"`` (the query in double quotes)."""
        found = re.fullmatch(r"\"tag:'([^']+)'\"", self.query.get("query", ""))
        if found is None:
            errors = [{"field": "query", "code": "invalid_value"}]
            return 400, {"description": "Validation failed", "errors": errors}, {}
        results = [
            {"id": t["id"], "subject": t["subject"], "tags": t.get("tags", [])}
            for t in self.tickets.values()
            if found.group(1) in (t.get("tags") or [])
        ]
        return 200, {"results": results, "total": len(results)}, {}

    def note_create(self, body: Any, tid: str) -> Answer:
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return 404, {"code": "access_denied", "message": "not found"}, {}
        if not isinstance(body, dict) or not body.get("body"):
            return 400, {"description": "Validation failed", "errors": [{"field": "body"}]}, {}
        files = body.get("_files") or []
        if any(f["field"] != "attachments[]" for f in files):
            return (
                400,
                {"description": "Validation failed", "errors": [{"field": "attachments"}]},
                {},
            )
        if sum(f["size"] for f in files) > 20 * 2**20:
            errors = [{"field": "attachments", "code": "invalid_size"}]
            return 400, {"description": "Validation failed", "errors": errors}, {}
        nid = self.new_id()
        ticket["notes"].append({"id": nid, **body})
        ticket.setdefault("conversations", []).append(
            {"id": nid, "body": body["body"], "body_text": "", "incoming": False,
             "private": body.get("private", True) not in (False, "false"), "source": 2,
             "user_id": 1, "from_email": None, "created_at": "2026-11-02T12:00:00Z"}
        )  # fmt: skip
        return 201, {"id": nid, "body": body["body"], "private": body.get("private", True)}, {}

    def ticket_add(self, tid: int, *, email: str, html: str) -> None:
        """Seed a ticket opened by ``email`` with ``html`` as its description."""
        self.tickets[tid] = {
            "id": tid, "email": email, "subject": "Seeded", "description": html,
            "notes": [], "created_at": "2026-11-02T10:00:00Z",
        }  # fmt: skip

    def conversation_add(
        self, tid: int, *, html: str, at: str, incoming: bool, private: bool = False, email: str
    ) -> None:
        """Seed a conversation: a reply (incoming from the customer, else an agent's) or a
        private note."""
        self.tickets[tid].setdefault("conversations", []).append(
            {"id": self.new_id(), "body": html, "body_text": "", "incoming": incoming,
             "private": private, "source": 2 if private else 0, "user_id": 7,
             "from_email": email, "created_at": at}
        )  # fmt: skip

    def ticket_get(self, _body: Any, tid: str) -> Answer:
        """``GET /api/v2/tickets/{id}[?include=requester]``."""
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return 404, {"code": "access_denied", "message": "not found"}, {}
        answer = {
            "id": ticket["id"], "subject": ticket.get("subject"), "requester_id": 7,
            "description": ticket.get("description"), "created_at": ticket.get("created_at"),
            "description_text": "",
        }  # fmt: skip
        if self.query.get("include") == "requester":
            answer["requester"] = {
                "id": 7,
                "email": ticket.get("email"),
                "name": ticket.get("name"),
            }
        return 200, answer, {}

    def conversations_list(self, _body: Any, tid: str) -> Answer:
        """``GET /api/v2/tickets/{id}/conversations?per_page=…&page=…``: oldest first, a
        ``Link: <…>; rel="next"`` header while more remain."""
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return 404, {"code": "access_denied", "message": "not found"}, {}
        rows = ticket.get("conversations", [])
        size = min(int(self.query.get("per_page") or 30), self.conversations_page_size)
        page = int(self.query.get("page") or 1)
        chunk = rows[(page - 1) * size : page * size]
        headers = {}
        if len(rows) > page * size:
            url = f"{self.url}/api/v2/tickets/{tid}/conversations?per_page={size}&page={page + 1}"
            headers["Link"] = f'<{url}>; rel="next"'
        return 200, chunk, headers


# --- Chatwoot (§7.1) -----------------------------------------------------------------------


class ChatwootFake(HelpdeskFake):
    name = "chatwoot"

    def __init__(self, *, token: str, account: int) -> None:
        super().__init__()
        self.token, self.account = token, account
        self.contacts: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, dict[str, Any]] = {}
        base = rf"/api/v1/accounts/{account}"
        self.route("POST", base + r"/contacts", self.contact_create)
        self.route("GET", base + r"/contacts/search", self.contact_search)
        self.route("POST", base + r"/contacts/(\d+)/contact_inboxes", self.contact_inbox)
        self.route("GET", base + r"/contacts/(\d+)/conversations", self.contact_conversations)
        self.route("POST", base + r"/conversations", self.conversation_create)
        self.route("POST", base + r"/conversations/(\d+)/messages", self.message_create)
        self.route("GET", base + r"/conversations/(\d+)/messages", self.messages_list)
        self.messages_page_size = 20  # Chatwoot's page of messages
        self.route("GET", base + r"/inboxes", lambda _b: (200, {"payload": [{"id": 1}]}, {}))
        self._search_q = ""

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("api_access_token") == self.token

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Answer:
        self._search_q = dict(parse_qsl(urlsplit(raw_path).query)).get("q", "")
        return super().dispatch(method, raw_path, headers, raw)

    def contact_create(self, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("inbox_id"):
            return 422, {"message": "Inbox can't be blank"}, {}
        if any(c["email"] == body.get("email") for c in self.contacts.values()):
            return 422, {"message": "Email has already been taken"}, {}
        cid = self.new_id()
        source = f"src-{cid}"
        self.contacts[cid] = {"id": cid, "email": body.get("email"), "name": body.get("name")}
        return (
            200,
            {
                "payload": {
                    "contact": self.contacts[cid],
                    "contact_inbox": {"inbox": {"id": body["inbox_id"]}, "source_id": source},
                }
            },
            {},
        )

    def contact_search(self, _body: Any) -> Answer:
        found = [c for c in self.contacts.values() if c["email"] == self._search_q]
        return 200, {"meta": {"count": len(found)}, "payload": found}, {}

    def contact_inbox(self, body: Any, cid: str) -> Answer:
        if int(cid) not in self.contacts:
            return 404, {"error": "Resource could not be found"}, {}
        return (
            200,
            {
                "source_id": f"src-{cid}-{body.get('inbox_id')}",
                "inbox": {"id": body.get("inbox_id")},
            },
            {},
        )

    def contact_conversations(self, _body: Any, cid: str) -> Answer:
        """``GET /contacts/{id}/conversations``: the contact's conversations (``payload``)."""
        if int(cid) not in self.contacts:
            return 404, {"error": "Resource could not be found"}, {}
        found = [
            {
                "id": conv["id"],
                "inbox_id": conv.get("inbox_id"),
                "status": conv.get("status"),
                "custom_attributes": conv.get("custom_attributes") or {},
            }
            for conv in self.conversations.values()
            if str(conv.get("contact_id")) == cid
        ]
        return 200, {"payload": found}, {}

    def conversation_create(self, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("source_id"):
            return 422, {"message": "source_id is required"}, {}
        attributes = body.get("custom_attributes", {})
        if not isinstance(attributes, dict):
            return 422, {"message": "custom_attributes must be an object"}, {}
        conv = self.new_id()
        self.conversations[conv] = {"id": conv, **body, "messages": []}
        opening = body.get("message") or {}
        if opening.get("content"):
            # UNCONFIRMED: Chatwoot's message builder makes the opening message ``outgoing``
            # (type 1), sent by the API token's user, unless ``message_type`` says otherwise.
            kind = 0 if opening.get("message_type") == "incoming" else 1
            self.message_add(conv, content=opening["content"], message_type=kind,
                             email="bot@acme.example", at=1793613600)  # fmt: skip
        return 200, {"id": conv, "account_id": self.account, "inbox_id": body.get("inbox_id")}, {}

    def message_create(self, body: Any, conv: str) -> Answer:
        c = self.conversations.get(int(conv))
        if c is None:
            return 404, {"error": "Resource could not be found"}, {}
        if not isinstance(body, dict) or not body.get("content"):
            return 422, {"message": "content is required"}, {}
        if any(f["field"] != "attachments[]" for f in body.get("_files") or []):
            return 422, {"message": "attachments must be attachments[]"}, {}
        mid = self.new_id()
        c["messages"].append({"id": mid, **body})
        kind = {"incoming": 0, "outgoing": 1}.get(str(body.get("message_type", "outgoing")), 1)
        c.setdefault("listed", []).append(
            {"id": mid, "content": body["content"], "message_type": kind,
             "private": body.get("private") in (True, "true"), "created_at": 1793620800,
             "sender": {"type": "user", "name": "Bot", "email": "bot@acme.example"}}
        )  # fmt: skip
        return (
            200,
            {"id": mid, "content": body["content"], "private": body.get("private", False)},
            {},
        )

    def message_add(
        self, conv: int, *, content: str, message_type: int, email: str, at: int,
        private: bool = False,
    ) -> None:  # fmt: skip
        """Seed a message: 0 incoming (the contact's), 1 outgoing (an agent's), 2 activity."""
        sender = {"type": "contact" if message_type == 0 else "user", "email": email}
        conversation = self.conversations.setdefault(conv, {"id": conv, "messages": []})
        conversation.setdefault("listed", []).append(
            {"id": self.new_id(), "content": content, "message_type": message_type,
             "private": private, "created_at": at, "sender": sender}
        )  # fmt: skip

    def messages_list(self, _body: Any, conv: str) -> Answer:
        """``GET /conversations/{id}/messages[?before=<id>]``: the latest page of messages
        (older than ``before``), oldest first within it."""
        c = self.conversations.get(int(conv))
        if c is None:
            return 404, {"error": "Resource could not be found"}, {}
        rows = sorted(c.get("listed", []), key=lambda m: m["id"])
        before = self.query.get("before")
        if before:
            rows = [m for m in rows if m["id"] < int(before)]
        chunk = rows[-self.messages_page_size :] if rows else []
        return 200, {"meta": {"contact": {}, "assignee": None}, "payload": chunk}, {}


# --- Zammad (§7.3; disputes-sso-helpdesks.md §3.3) -----------------------------------------


class ZammadFake(HelpdeskFake):
    """``Authorization: Token token=…``; errors as ``{"error", "error_human"}`` (422 for a
    refused body, 401 without a valid token); ``customer_id: "guess:<email>"`` finds or makes
    the customer; articles are ``note``/``email``/``phone``/``web`` with ``internal``."""

    name = "zammad"
    unauthorized = {"error": "Invalid token!", "error_human": "Invalid token!"}
    ARTICLE_TYPES = ("note", "email", "phone", "web")

    def __init__(self, *, token: str, groups: tuple[str, ...] = ("Users",)) -> None:
        super().__init__()
        self.token, self.groups = token, groups
        self.customers: dict[str, int] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.route("POST", r"/api/v1/tickets", self.ticket_create)
        self.route("POST", r"/api/v1/ticket_articles", self.article_create)
        self.route("GET", r"/api/v1/ticket_articles/by_ticket/(\d+)", self.articles_list)
        self.route(
            "GET",
            r"/api/v1/users/me",
            lambda _b: (
                200,
                {"id": 3, "login": "agent@acme.example", "email": "agent@acme.example"},
                {},
            ),
        )

    def authorized(self, headers: dict[str, str]) -> bool:
        return headers.get("authorization", "") == f"Token token={self.token}"

    @staticmethod
    def _refused(message: str) -> Answer:
        return 422, {"error": message, "error_human": message}, {}

    def _article_errors(self, article: Any) -> str:
        if not isinstance(article, dict) or not article.get("body"):
            return "Need at least article: { body: '...' }"
        if article.get("type", "note") not in self.ARTICLE_TYPES:
            return f"Invalid article type {article.get('type')!r}"
        if not isinstance(article.get("internal", False), bool):
            return "internal must be true or false"
        return ""

    def ticket_create(self, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("title"):
            return self._refused("Title can't be blank")
        if body.get("group") not in self.groups:
            return self._refused("No lookup value found for 'group': " + repr(body.get("group")))
        customer = str(body.get("customer_id") or "")
        if not customer.startswith("guess:") or "@" not in customer:
            return self._refused("No lookup value found for 'customer': " + repr(customer))
        error = self._article_errors(body.get("article"))
        if error:
            return self._refused(error)
        email = customer.removeprefix("guess:")
        customer_id = self.customers.setdefault(email, self.new_id())
        tid = self.new_id()
        article = self._stamped({"id": self.new_id(), "ticket_id": tid, **body["article"]})
        self.tickets[tid] = {
            "id": tid,
            "number": str(31000 + tid),
            "title": body["title"],
            "group": body["group"],
            "customer_id": customer_id,
            "articles": [article],
        }
        ticket = {k: v for k, v in self.tickets[tid].items() if k != "articles"}
        return 201, {**ticket, "article_ids": [article["id"]]}, {}

    def article_create(self, body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("ticket_id"):
            return self._refused("Need ticket_id")
        ticket = (
            self.tickets.get(int(body["ticket_id"])) if str(body["ticket_id"]).isdigit() else None
        )
        if ticket is None:
            return 404, {"error": "Couldn't find Ticket", "error_human": "Couldn't find Ticket"}, {}
        error = self._article_errors(body)
        if error:
            return self._refused(error)
        article = self._stamped({"id": self.new_id(), **body})
        ticket["articles"].append(article)
        return 201, article, {}

    def _stamped(self, article: dict[str, Any]) -> dict[str, Any]:
        """As Zammad stores an article made through the API: by the token's user (an agent,
        unless ``sender`` says otherwise), with its time."""
        at = f"2026-12-01T10:{len(self.tickets) % 60:02d}:{article['id'] % 60:02d}.000Z"
        return {"sender": "Agent", "from": "agent@acme.example", "created_at": at, **article,
                "internal": bool(article.get("internal", False))}  # fmt: skip

    def articles_list(self, _body: Any, tid: str) -> Answer:
        ticket = self.tickets.get(int(tid))
        if ticket is None:
            return 404, {"error": "Couldn't find Ticket", "error_human": "Couldn't find Ticket"}, {}
        return 200, list(ticket["articles"]), {}


# --- FreeScout API & Webhooks module (§7.2; disputes-sso-helpdesks.md §3.4) ---------------


class FreeScoutFake(HelpdeskFake):
    """``X-FreeScout-API-Key`` (or ``?api_key=``); creates answer 201 with no body and the new
    id in ``Resource-ID``; Help Scout-style errors (400 ``{"message", "_embedded": {"errors":
    [{"path", "message"}]}}``); ``GET /api/mailboxes`` as HAL with ``page``."""

    name = "freescout"
    unauthorized = {"message": "Unauthorized"}

    def __init__(
        self, *, api_key: str, mailboxes: tuple[int, ...] = (1,), users: tuple[int, ...] = (1,)
    ) -> None:
        super().__init__()
        self.api_key, self.mailboxes, self.users = api_key, mailboxes, users
        self.conversations: dict[int, dict[str, Any]] = {}
        self.thread_meta: dict[int, dict[str, Any]] = {}  # what FreeScout adds to a thread
        self.route("POST", r"/api/conversations", self.conversation_create)
        self.route("POST", r"/api/conversations/(\d+)/threads", self.thread_create)
        self.route("GET", r"/api/conversations/(\d+)", self.conversation_get)
        self.route("GET", r"/api/mailboxes", self.mailbox_list)

    def authorized(self, headers: dict[str, str]) -> bool:
        return self.api_key in (headers.get("x-freescout-api-key"), self.query.get("api_key"))

    @staticmethod
    def _invalid(path: str, message: str) -> Answer:
        errors = {"errors": [{"path": path, "message": message}]}
        return 400, {"message": "Bad request", "_embedded": errors}, {}

    def conversation_create(self, body: Any) -> Answer:
        if not isinstance(body, dict):
            return self._invalid("", "a JSON object is required")
        if body.get("type") not in ("email", "phone", "chat"):
            return self._invalid("type", "must be email, phone or chat")
        if body.get("mailboxId") not in self.mailboxes:
            return self._invalid("mailboxId", "mailbox not found")
        if not body.get("subject"):
            return self._invalid("subject", "may not be empty")
        customer = body.get("customer")
        if not isinstance(customer, dict) or "@" not in str(customer.get("email") or ""):
            return self._invalid("customer.email", "a customer email is required")
        threads = body.get("threads")
        if not isinstance(threads, list) or not threads:
            return self._invalid("threads", "at least one thread is required")
        for thread in threads:
            if not isinstance(thread, dict) or not thread.get("text"):
                return self._invalid("threads.text", "may not be empty")
            if thread.get("type") not in ("customer", "message", "note"):
                return self._invalid("threads.type", "unknown thread type")
        cid = self.new_id()
        self.conversations[cid] = {**body, "id": cid, "threads": []}
        for thread in threads:
            self._thread_add(self.conversations[cid], thread)
        return (
            201,
            None,
            {"Resource-ID": str(cid), "Location": f"{self.url}/api/conversations/{cid}"},
        )

    def thread_create(self, body: Any, cid: str) -> Answer:
        conv = self.conversations.get(int(cid))
        if conv is None:
            return 404, {"message": "Conversation not found"}, {}
        if not isinstance(body, dict) or not body.get("text"):
            return self._invalid("text", "may not be empty")
        if body.get("type") not in ("customer", "message", "note"):
            return self._invalid("type", "unknown thread type")
        if body.get("type") in ("message", "note") and body.get("user") not in self.users:
            return self._invalid("user", "user not found")
        tid = self._thread_add(conv, body)
        return 201, None, {"Resource-ID": str(tid)}

    def _thread_add(self, conv: dict[str, Any], body: dict[str, Any]) -> int:
        """Stored as FreeScout keeps a thread: its text as ``body``, who made it, when."""
        tid = self.new_id()
        by = (
            {"type": "customer", "email": conv["customer"]["email"]}
            if body.get("type") == "customer"
            else {"type": "user", "id": body.get("user"), "email": "agent@acme.example"}
        )
        at = f"2026-12-01T10:00:{len(conv['threads']):02d}Z"
        conv["threads"].append({**body, "id": tid})
        self.thread_meta[tid] = {"body": body.get("text", ""), "createdBy": by,
                                 "createdAt": at, "state": "published"}  # fmt: skip
        return tid

    def conversation_get(self, _body: Any, cid: str) -> Answer:
        """``GET /api/conversations/{id}[?embed=threads]``: threads newest first."""
        conv = self.conversations.get(int(cid))
        if conv is None:
            return 404, {"message": "Conversation not found"}, {}
        shown = {k: v for k, v in conv.items() if k != "threads"}
        if self.query.get("embed") == "threads":
            threads = [{**t, **self.thread_meta.get(t["id"], {})} for t in conv["threads"]]
            shown["_embedded"] = {"threads": list(reversed(threads))}
        return 200, shown, {}

    def mailbox_list(self, _body: Any) -> Answer:
        boxes = [{"id": m, "name": f"Mailbox {m}"} for m in self.mailboxes]
        page = {"size": 50, "totalElements": len(boxes), "totalPages": 1, "number": 1}
        return 200, {"_embedded": {"mailboxes": boxes}, "page": page}, {}

"""A small OpenID Connect provider, faithful to what a relying party meets (OIDC Core 1.0,
RFC 6749, RFC 7636), run as a real HTTP server in a thread:

* ``/.well-known/openid-configuration`` and ``/jwks`` (an RSA key, ``kid`` k1);
* ``/authorize``: the code flow only; the client and its redirect URI must be registered,
  ``scope`` must hold ``openid``, a PKCE ``code_challenge`` (S256) is required; the person
  "signed in at the IdP" is ``provider.current`` (None: ``login_required``; a disabled user:
  ``access_denied``), and the answer is a redirect with ``code`` and ``state``;
* ``/token``: client authentication (HTTP Basic or form), the code once only
  (``invalid_grant`` on reuse), the same redirect URI, the PKCE verifier checked against the
  challenge; returns an RS256-signed ID token with ``iss``, ``sub``, ``aud``, ``exp``,
  ``iat``, ``nonce`` and the user's claims;
* ``/userinfo``: the claims for a Bearer access token.

Tests can twist the ID token (``id_token_overrides``, ``sign_with`` another key, ``alg``
none) to play an attacker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeOIDCProvider:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # sub -> claims
    disabled: set[str] = field(default_factory=set)
    current: str | None = None
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    sign_with: rsa.RSAPrivateKey | None = None
    unsigned: bool = False
    token_lifetime: int = 3600
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> sub
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeOIDCProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                provider.handle(self, "GET")

            def do_POST(self) -> None:
                provider.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/{name}"

    # -- HTTP ------------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body: dict[str, str] = {}
        if method == "POST":
            length = int(request.headers.get("Content-Length") or 0)
            raw = request.rfile.read(length).decode()
            body = {k: v[0] for k, v in parse_qs(raw).items()}
        routes = {
            ("GET", "/.well-known/openid-configuration"): self.discovery,
            ("GET", "/jwks"): self.jwks,
            ("GET", "/authorize"): self.authorize,
            ("POST", "/token"): self.token,
            ("GET", "/userinfo"): self.userinfo,
        }
        route = routes.get((method, url.path))
        if route is None:
            self._send(request, 404, {"error": "not_found"})
            return
        status, payload, headers = route(query=query, body=body, headers=request.headers)
        self._send(request, status, payload, headers)

    @staticmethod
    def _send(
        request: BaseHTTPRequestHandler, status: int, payload: Any, headers: Any = None
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        if payload is not None:
            request.send_header("Content-Type", "application/json")
            request.send_header("Cache-Control", "no-store")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def discovery(self, **_: Any) -> tuple[int, Any, Any]:
        return (
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.endpoint("authorize"),
                "token_endpoint": self.endpoint("token"),
                "userinfo_endpoint": self.endpoint("userinfo"),
                "jwks_uri": self.endpoint("jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            },
            None,
        )

    def jwks(self, **_: Any) -> tuple[int, Any, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return 200, {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}, None

    def authorize(self, *, query: dict[str, str], **_: Any) -> tuple[int, Any, Any]:
        self.authorize_requests.append(query)
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or redirect not in self.redirect_uris:
            return 400, {"error": "invalid_request", "error_description": "unknown client"}, None

        def back(**params: str) -> tuple[int, Any, Any]:
            params = {**params, "state": query.get("state", "")}
            return 302, None, {"Location": f"{redirect}?{urlencode(params)}"}

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if "openid" not in query.get("scope", "").split():
            return back(error="invalid_scope")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE required")
        if self.current is None:
            return back(error="login_required")
        if self.current in self.disabled:
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "sub": self.current,
            "redirect_uri": redirect,
            "nonce": query.get("nonce"),
            "challenge": query["code_challenge"],
            "used": False,
        }
        return back(code=code)

    def _client_ok(self, body: dict[str, str], headers: Any) -> bool:
        auth = headers.get("Authorization", "")
        if auth.startswith("Basic "):
            ident, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            ident, secret = body.get("client_id", ""), body.get("client_secret", "")
        return secrets.compare_digest(ident, self.client_id) and secrets.compare_digest(
            secret, self.client_secret
        )

    def token(self, *, body: dict[str, str], headers: Any, **_: Any) -> tuple[int, Any, Any]:
        self.token_requests.append(body)
        if not self._client_ok(body, headers):
            return 401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"}
        if body.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}, None
        grant = self.codes.get(body.get("code", ""))
        if grant is None or grant["used"] or grant["redirect_uri"] != body.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}, None
        grant["used"] = True
        verifier = body.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if digest.rstrip(b"=").decode() != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE failed"}, None
        sub = grant["sub"]
        access = secrets.token_urlsafe(24)
        self.tokens[access] = sub
        now = int(time.time())
        claims = {
            **self.users.get(sub, {}),
            "iss": self.issuer,
            "sub": sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + self.token_lifetime,
            "nonce": grant["nonce"],
            **self.id_token_overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        if self.unsigned:
            id_token = jwt.encode(claims, key=None, algorithm="none")
        else:
            id_token = jwt.encode(claims, self.sign_with or self.key, algorithm="RS256",
                                  headers={"kid": "k1"})  # fmt: skip
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                  "id_token": id_token}  # fmt: skip
        return 200, answer, None

    def userinfo(self, *, headers: Any, **_: Any) -> tuple[int, Any, Any]:
        auth = headers.get("Authorization", "")
        sub = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if sub is None:
            return 401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"}
        return 200, {**self.users.get(sub, {}), "sub": sub}, None

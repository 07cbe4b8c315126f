"""What stands between the open internet and the rating form: a rate limit per
client address and per link, a CSRF token bound to the link, strict headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque

# Nothing loads from anywhere but Alliance itself; no inline script or style; the
# page cannot be framed, and forms post only back to Alliance.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)

CSRF_COOKIE = "alliance_form"


class RateLimiter:
    """At most `limit` hits per key in any `window` seconds (a sliding window),
    remembering at most `keys` keys (the least recently seen are dropped)."""

    def __init__(self, limit: int, window: float, keys: int = 10_000) -> None:
        self.limit, self.window, self.keys = limit, window, keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        at = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= at - self.window:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(at)
            self._hits[key] = hits
            while len(self._hits) > self.keys:
                self._hits.popitem(last=False)
            return allowed


class CsrfGuard:
    """Double submit, bound to the link: the form's hidden token is an HMAC of the
    browser's SameSite=Strict cookie and the link's hash, so a token is good only
    for this browser and this link."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(16)

    def token(self, cookie: str, link_hash: str) -> str:
        return hmac.new(self._secret, f"{cookie}|{link_hash}".encode(), hashlib.sha256).hexdigest()

    def check(self, cookie: str | None, link_hash: str, token: str | None) -> bool:
        if not cookie or not token or len(cookie) > 64:
            return False
        return hmac.compare_digest(self.token(cookie, link_hash), token)


def csrf_secret(encryption_key: str | None) -> bytes:
    """Derived from the note key, so every process of a deployment agrees; without
    one, random for this process."""
    if encryption_key:
        return hmac.new(encryption_key.encode(), b"alliance rating-form csrf v1", hashlib.sha256).digest()
    return secrets.token_bytes(32)


def cookie_header(value: str, secure: bool) -> tuple[str, str]:
    flags = "; Secure" if secure else ""
    return ("Set-Cookie", f"{CSRF_COOKIE}={value}; Path=/r/; HttpOnly; SameSite=Strict; Max-Age=86400{flags}")


def read_cookie(header: str, name: str = CSRF_COOKIE) -> str | None:
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value
    return None

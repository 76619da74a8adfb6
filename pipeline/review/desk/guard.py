"""What keeps the desk's personal data to its reviewers: which Host names it answers, the token a
verdict form carries, and the throttle on wrong passwords.

- **Hosts.** A desk on loopback is still reachable from any web page the reviewer opens, through a
  DNS name its owner points at 127.0.0.1 (DNS rebinding): the browser then sends that name as
  Host, and the page's scripts read the desk's answers as their own. Only the names the desk was
  started for are answered (Starlette's ``TrustedHostMiddleware``).
- **Form tokens.** Every page sets a random token in a strict same-site cookie and writes it into
  its forms, signed for the reviewer with a key made when the desk starts; a verdict is taken only
  when the form's token is the cookie's and its signature holds. A page elsewhere can neither
  read the cookie nor forge the signature, and a desk restarted since asks for a reload.
- **Sign-in.** Off loopback reviewers sign in with their name and the desk's password (HTTP
  Basic): an address that gives a wrong password ``max_failed_logins`` times within
  ``login_window_s`` is refused until its oldest failure is that old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from pipeline.config import DeskConfig

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WILDCARD = ("0.0.0.0", "::", "")
TOKEN_COOKIE = "callqa_desk_token"


def allowed_hosts(host: str, desk: DeskConfig) -> list[str]:
    """The Host names the desk answers when listening on ``host``."""
    names = {*LOOPBACK, *desk.allowed_hosts}
    if host not in WILDCARD:
        names.add(host)
    if desk.url:
        names.add(urlsplit(desk.url).hostname or "")
    if host in WILDCARD and not desk.allowed_hosts and not desk.url:
        names |= _this_machine()
    names.discard("")
    # Starlette compares the Host header's name, which keeps an IPv6 address's brackets.
    return sorted(names | {f"[{n}]" for n in names if ":" in n})


def _this_machine() -> set[str]:
    """This machine's names and the addresses they resolve to (a desk on every interface)."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:
            continue
    return names


class FormTokens:
    """Per-browser tokens for the verdict forms, signed for the reviewer (see the module)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)  # per desk process: a restart asks for a reload

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(18)

    def sign(self, nonce: str, reviewer: str) -> str:
        mac = hmac.new(self._key, f"{nonce}\n{reviewer}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{nonce}.{mac}"

    def valid(self, token: str, cookie_nonce: str, reviewer: str) -> bool:
        nonce, _, _ = token.partition(".")
        if not nonce or not cookie_nonce or not hmac.compare_digest(nonce, cookie_nonce):
            return False
        return hmac.compare_digest(token, self.sign(nonce, reviewer))


class LoginThrottle:
    """Wrong passwords per client address within a sliding window; thread-safe (pages run in a
    thread pool)."""

    def __init__(self, max_failures: int, window_s: float, clock=time.monotonic) -> None:
        self.max_failures, self.window_s, self._clock = max_failures, window_s, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        times = self._failures[address]
        now = self._clock()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 when it may now."""
        with self._lock:
            times = self._recent(address)
            if len(times) < self.max_failures:
                return 0.0
            return max(0.0, self.window_s - (self._clock() - times[0]))

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self._clock())

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

"""Sliding-window rate limiting: one log of request times per (API key, category).

Two stores with one behaviour: in the process (one server process) and Redis (several
processes or machines sharing one budget). A request is counted only when allowed.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from yolohost.kit import clock


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds at which the oldest counted request leaves the window

    def retry_after(self, now: float) -> int:
        """Whole seconds a refused client should wait (never 0, so a client never spins)."""
        return max(1, math.ceil(self.reset_at - now))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": clock.iso_from_epoch(self.reset_at),
        }


class RateLimitStore(Protocol):
    def hit(self, bucket: str, limit: int, window: float) -> Decision: ...

    def close(self) -> None: ...


class MemoryStore:
    """Counters in this process: exact sliding-window logs, guarded by one lock."""

    def __init__(self, now=clock.epoch):
        self._logs: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._now = now

    def hit(self, bucket: str, limit: int, window: float) -> Decision:
        now = self._now()
        with self._lock:
            log = self._logs.setdefault(bucket, deque())
            while log and log[0] <= now - window:
                log.popleft()
            allowed = len(log) < limit
            if allowed:
                log.append(now)
            oldest = log[0] if log else now
        return Decision(allowed, limit, max(0, limit - len(log)), oldest + window)

    def close(self) -> None:
        self._logs.clear()


# One atomic step on the server: drop old entries, count, add if under the limit.
# The server's clock is the clock, so processes on different machines agree.
_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local first = now
if oldest[2] then first = tonumber(oldest[2]) end
return {allowed, count, first}
"""


class RedisStore:
    """Counters in Redis, shared by every process that points at the same server."""

    def __init__(self, url: str, prefix: str = "yolohost:rl:"):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_SLIDING_WINDOW_LUA)
        self._prefix = prefix

    def hit(self, bucket: str, limit: int, window: float) -> Decision:
        window_ms = int(window * 1000)
        allowed, count, first_ms = self._script(
            keys=[self._prefix + bucket], args=[window_ms, limit, secrets.token_hex(4)]
        )
        return Decision(bool(allowed), limit, max(0, limit - int(count)), (int(first_ms) + window_ms) / 1000)

    def close(self) -> None:
        self._redis.close()


def make_store(redis_url: str | None) -> RateLimitStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()

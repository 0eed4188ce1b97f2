"""Sliding-window rate limiting: the store (in-process and Redis alike) and the HTTP contract."""

import uuid

import pytest
from fastapi import APIRouter

from tests.conftest import REDIS_URL, requires_redis
from yolohost.accounts.deps import api_key
from yolohost.kit.ratelimit import MemoryStore, RedisStore


class FakeClock:
    def __init__(self):
        self.t = 1_000_000.0

    def __call__(self):
        return self.t


def test_memory_window_slides_one_request_at_a_time():
    clock = FakeClock()
    store = MemoryStore(now=clock)
    hits = []
    for _ in range(3):
        hits.append(store.hit("k", 3, 60))
        clock.t += 10
    assert [d.allowed for d in hits] == [True, True, True]
    assert [d.remaining for d in hits] == [2, 1, 0]
    refused = store.hit("k", 3, 60)  # t0 + 30
    assert not refused.allowed and refused.remaining == 0
    assert refused.reset_at == 1_000_000.0 + 60  # when the first request leaves the window
    assert refused.retry_after(clock.t) == 30
    clock.t = 1_000_000.0 + 60.5  # only the first request has left the window
    assert store.hit("k", 3, 60).allowed
    assert not store.hit("k", 3, 60).allowed
    clock.t = 1_000_000.0 + 200  # everything has left
    assert store.hit("k", 3, 60).remaining == 2


def test_refused_requests_do_not_consume_budget():
    clock = FakeClock()
    store = MemoryStore(now=clock)
    store.hit("k", 1, 60)
    for _ in range(5):
        clock.t += 1
        assert not store.hit("k", 1, 60).allowed
    clock.t = 1_000_000.0 + 60.01
    assert store.hit("k", 1, 60).allowed


def test_buckets_are_independent():
    store = MemoryStore()
    assert store.hit("a", 1, 60).allowed
    assert store.hit("b", 1, 60).allowed
    assert not store.hit("a", 1, 60).allowed


@requires_redis
def test_redis_store_behaves_like_the_memory_store():
    store = RedisStore(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        decisions = [store.hit("k", 3, 0.5) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert decisions[3].reset_at == pytest.approx(decisions[0].reset_at, abs=0.01)
        assert store.hit("other", 3, 0.5).remaining == 2
        import time

        time.sleep(0.6)  # the window is half a second: wait it out once
        assert store.hit("k", 3, 0.5).remaining == 2
    finally:
        store.close()


# --- over HTTP --------------------------------------------------------------------------


@pytest.fixture
def limited(settings):
    settings.rate_limit_default = 3
    settings.rate_limit_predict = 2
    return settings


@pytest.fixture
def predict_route(app):
    router = APIRouter()

    @router.post("/api/test-predict")
    def fake_predict(principal=api_key(category="predict")):
        return {"user": principal.username}

    app.include_router(router)


def test_headers_429_body_and_retry_after(limited, client, alice):
    seen = []
    for _ in range(3):
        r = client.get("/api/account/summary", headers=alice.bearer)
        assert r.status_code == 200
        seen.append(r.headers)
    assert [h["X-RateLimit-Limit"] for h in seen] == ["3", "3", "3"]
    assert [h["X-RateLimit-Remaining"] for h in seen] == ["2", "1", "0"]
    assert seen[0]["X-RateLimit-Reset"].endswith("Z")

    r = client.get("/api/account/summary", headers=alice.bearer)
    assert r.status_code == 429
    body = r.json()
    assert set(body) == {"error", "retryAfter", "resetAt"}
    assert isinstance(body["retryAfter"], int) and 1 <= body["retryAfter"] <= 60
    assert r.headers["Retry-After"] == str(body["retryAfter"])
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert r.headers["X-RateLimit-Reset"] == body["resetAt"] == seen[0]["X-RateLimit-Reset"]
    assert "default" in body["error"]


def test_categories_and_keys_count_separately(limited, predict_route, client, alice, make_account):
    for _ in range(3):
        assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200
    assert client.get("/api/account/summary", headers=alice.bearer).status_code == 429
    # predict has its own budget of 2
    r = [client.post("/api/test-predict", headers=alice.bearer) for _ in range(3)]
    assert [x.status_code for x in r] == [200, 200, 429]
    assert r[0].headers["X-RateLimit-Limit"] == "2"
    # another key of another user is untouched
    bob = make_account("bobby")
    assert client.get("/api/account/summary", headers=bob.bearer).headers["X-RateLimit-Remaining"] == "2"


def test_errors_after_the_limit_check_still_carry_the_headers(limited, client, alice):
    r = client.delete("/api/api-keys?keyId=key_nope", headers=alice.bearer)
    assert r.status_code == 404 and r.headers["X-RateLimit-Remaining"] == "2"


def test_a_category_set_to_zero_is_unlimited(settings, client, alice):
    settings.rate_limit_default = 0
    for _ in range(5):
        r = client.get("/api/account/summary", headers=alice.bearer)
        assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers


def test_limits_can_be_switched_off(settings, client, alice):
    settings.rate_limits_enabled = False
    settings.rate_limit_default = 1
    for _ in range(3):
        assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200

"""Authentication: both headers, uniform 401s, scopes (403 naming the scope), last-used times."""

import pytest

from tests.contract import validate
from yolohost.accounts import repository
from yolohost.db.engine import transaction


def test_bearer_and_x_api_key_both_authenticate(client, alice):
    for headers in (alice.bearer, {"x-api-key": alice.key}, {"authorization": f"bearer {alice.key}"}):
        r = client.get("/api/account/summary", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["username"] == "alice"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-key"},
        {"x-api-key": "ul_123"},
        {"x-api-key": "ul_" + "0" * 40},  # well formed, unknown
        {"Authorization": "Bearer ul_" + "f" * 40},
    ],
)
def test_every_kind_of_bad_credential_gets_the_same_401(client, alice, headers):
    r = client.get("/api/account/summary", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"error": "Invalid or missing API key"}
    validate("ErrorResponse", r.json())
    assert r.headers["x-request-id"]


def test_unknown_key_sharing_a_real_prefix_answers_like_any_unknown_key(client, alice):
    # Same display prefix as alice's key, different rest: nothing tells it apart from a random key.
    lookalike = alice.key[:9] + ("0" if alice.key[9] != "0" else "1") + alice.key[10:]
    a = client.get("/api/api-keys", headers={"x-api-key": lookalike})
    b = client.get("/api/api-keys", headers={"x-api-key": "ul_" + "e" * 40})
    assert (a.status_code, a.json()) == (b.status_code, b.json()) == (401, {"error": "Invalid or missing API key"})
    assert set(a.headers) == set(b.headers)


def test_revoked_key_is_refused(client, alice, make_account):
    second = client.post("/api/api-keys", json={"name": "tmp"}, headers=alice.bearer).json()
    assert client.get("/api/account/summary", headers={"x-api-key": second["key"]}).status_code == 200
    r = client.delete(f"/api/api-keys?keyId={second['keyId']}", headers=alice.bearer)
    assert r.json() == {"success": True, "keyId": second["keyId"]}
    r = client.get("/api/account/summary", headers={"x-api-key": second["key"]})
    assert (r.status_code, r.json()) == (401, {"error": "Invalid or missing API key"})


def test_scoped_key_is_limited_to_its_scopes(client, make_account):
    scoped = make_account("trainer", scopes=["training", "models"])
    # the summary (what `yolo login` calls) needs no scope
    assert client.get("/api/account/summary", headers=scoped.bearer).status_code == 200
    r = client.get("/api/api-keys", headers=scoped.bearer)
    assert r.status_code == 403
    assert "'account' scope" in r.json()["error"]
    validate("ErrorResponse", r.json())


def test_a_key_cannot_create_a_key_wider_than_itself(client, make_account):
    admin_ish = make_account("keymaster", scopes=["account", "models"])
    r = client.post("/api/api-keys", json={"name": "wide"}, headers=admin_ish.bearer)
    assert r.status_code == 403 and "predict" in r.json()["error"]
    r = client.post("/api/api-keys", json={"name": "wide", "scopes": ["training"]}, headers=admin_ish.bearer)
    assert r.status_code == 403 and "training" in r.json()["error"]
    r = client.post("/api/api-keys", json={"name": "narrow", "scopes": ["models"]}, headers=admin_ish.bearer)
    assert r.status_code == 201 and r.json()["scopes"] == ["models"]


def test_last_used_is_recorded_off_the_request_path(settings):
    from fastapi.testclient import TestClient

    from yolohost.accounts import service
    from yolohost.app import create_app

    settings.key_last_used_flush_seconds = 3600  # no timed flush during the test: only the explicit one below
    app = create_app(settings)
    with TestClient(app) as client:
        with transaction(app.state.sessions) as session:
            user = service.create_user(session, "alice")
            key, plaintext = service.create_key(session, user, "test")
        with transaction(app.state.sessions) as session:
            assert repository.key_by_id(session, key.id).last_used_at is None
        assert client.get("/api/account/summary", headers={"x-api-key": plaintext}).status_code == 200
        # not written by the request itself ...
        with transaction(app.state.sessions) as session:
            assert repository.key_by_id(session, key.id).last_used_at is None
        # ... but by the batch flush
        assert app.state.last_used.flush(app.state.sessions) == 1
        with transaction(app.state.sessions) as session:
            assert repository.key_by_id(session, key.id).last_used_at is not None
        assert app.state.last_used.flush(app.state.sessions) == 0

        # a key deleted before its batch is written does not hold up the others
        with transaction(app.state.sessions) as session:
            other, other_plain = service.create_key(session, service.get_user(session, "alice"), "other")
        for presented in (plaintext, other_plain):
            assert client.get("/api/account/summary", headers={"x-api-key": presented}).status_code == 200
        with transaction(app.state.sessions) as session:
            session.delete(repository.key_by_id(session, other.id))
        assert app.state.last_used.flush(app.state.sessions) == 2
        with transaction(app.state.sessions) as session:
            assert repository.key_by_id(session, key.id).last_used_at is not None
        assert app.state.last_used.flush(app.state.sessions) == 0

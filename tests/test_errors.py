"""Errors everywhere have the contract's body; a crash is a 500 without a stack trace, logged with its id."""

import logging

from fastapi import APIRouter

from tests.contract import validate


def test_unknown_route_and_method(client, alice):
    r = client.get("/api/does-not-exist", headers=alice.bearer)
    assert r.status_code == 404 and "GET /api/does-not-exist" in r.json()["error"]
    validate("ErrorResponse", r.json())
    r = client.put("/api/account/summary", headers=alice.bearer)
    assert r.status_code == 405
    validate("ErrorResponse", r.json())


def test_unhandled_error_is_a_clean_500_with_request_id(app, client, caplog):
    router = APIRouter()

    @router.get("/api/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    app.include_router(router)
    with caplog.at_level(logging.ERROR, "yolohost.http"):
        r = client.get("/api/boom")
    assert r.status_code == 500
    request_id = r.headers["x-request-id"]
    assert r.json() == {"error": f"Internal server error (request id {request_id})"}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert request_id in caplog.text and "secret internal detail" in caplog.text


def test_health_needs_no_key(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"

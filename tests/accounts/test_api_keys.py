"""The account routes against the contract: summary, list, create (key shown once), revoke."""

import re

from tests.contract import validate


def test_account_summary_matches_the_contract(client, alice):
    r = client.get("/api/account/summary", headers=alice.bearer)
    assert r.status_code == 200
    body = r.json()
    validate("AccountSummaryResponse", body)
    assert body["username"] == "alice" and body["accountType"] == "personal"
    assert body["counts"] == {"projects": 0, "datasets": 0, "models": 0}


def test_create_list_revoke_cycle(client, alice):
    r = client.post("/api/api-keys", json={"name": "training-server", "scopes": ["training", "models"]}, headers=alice.bearer)
    assert r.status_code == 201
    created = r.json()
    assert re.fullmatch(r"ul_[0-9a-f]{40}", created["key"])
    assert created["keyPrefix"] == created["key"][:9]
    assert created["scopes"] == ["models", "training"]

    listed = client.get("/api/api-keys", headers=alice.bearer).json()
    validate("ListApiKeysResponse", listed)
    by_id = {k["keyId"]: k for k in listed["keys"]}
    assert set(by_id) == {alice.key_id, created["keyId"]}
    assert by_id[created["keyId"]]["name"] == "training-server"
    assert created["key"] not in r.text.replace(created["key"], "", 1)  # shown once in the create body only
    assert created["key"] not in client.get("/api/api-keys", headers=alice.bearer).text

    r = client.delete("/api/api-keys", params={"keyId": created["keyId"]}, headers=alice.bearer)
    assert r.status_code == 200
    listed = client.get("/api/api-keys", headers=alice.bearer).json()
    assert [k["keyId"] for k in listed["keys"]] == [alice.key_id]
    # revoking twice: it no longer exists as an active key
    r = client.delete("/api/api-keys", params={"keyId": created["keyId"]}, headers=alice.bearer)
    assert r.status_code == 404 and created["keyId"] in r.json()["error"]


def test_keys_of_another_user_are_invisible(client, alice, make_account):
    bob = make_account("bobby")
    assert [k["keyId"] for k in client.get("/api/api-keys", headers=bob.bearer).json()["keys"]] == [bob.key_id]
    r = client.delete("/api/api-keys", params={"keyId": alice.key_id}, headers=bob.bearer)
    assert r.status_code == 404
    assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200


def test_bad_create_bodies_name_the_field(client, alice):
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "k", "scopes": ["bogus"]}, "scopes"),
        ({"name": "k", "scopes": []}, "scopes"),
        ({"name": "k", "scopes": "models"}, "scopes"),
        ({"name": "k", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = client.post("/api/api-keys", json=body, headers=alice.bearer)
        assert r.status_code == 400, (body, r.text)
        validate("ErrorResponse", r.json())
        assert r.json()["error"].startswith(field), (body, r.json())
    r = client.post("/api/api-keys", content=b"{not json", headers={**alice.bearer, "content-type": "application/json"})
    assert r.status_code == 400 and "error" in r.json()
    # nothing was created by any of them
    assert len(client.get("/api/api-keys", headers=alice.bearer).json()["keys"]) == 1


def test_revoke_without_key_id_is_400(client, alice):
    r = client.delete("/api/api-keys", headers=alice.bearer)
    assert r.status_code == 400 and r.json() == {"error": "keyId: Field required"}

"""Storage integrations and Roboflow import: bodies are checked per the contract, then refused clearly
(this server reaches no cloud provider and no Roboflow); nothing waits on the network."""

from __future__ import annotations

import pytest

GCS = {"provider": "gcs", "credentials": {"client_email": "svc@my-project.iam.gserviceaccount.com",
                                          "private_key": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
                                          "project_id": "my-project"}}
S3 = {"provider": "s3", "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t-value",
                                        "region": "us-east-1"}}
AZURE = {"provider": "azure", "credentials": {"connection_string": "DefaultEndpointsProtocol=https;AccountName=x"}}
ITEM = {"workspace": "my-workspace", "projectId": "vehicles", "projectName": "Vehicles",
        "projectType": "object-detection", "latestVersion": 2, "latestVersionName": "v2"}
INTEGRATION_ID = "507f1f77bcf86cd799439011"


def error(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_no_buckets_are_listed(client, alice):
    r = client.get("/api/integrations/buckets", headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"integrations": []}
    assert client.get("/api/integrations/buckets").status_code == 401


@pytest.mark.parametrize("body", [GCS, S3, AZURE], ids=["gcs", "s3", "azure"])
def test_known_providers_are_validated_then_refused_as_unsupported(client, alice, body):
    r = client.post("/api/integrations/buckets", json={**body, "targets": ["my-bucket"]}, headers=alice.bearer)
    message = error(r, 400)
    assert "not supported by this server" in message and "S3-compatible" in message
    for secret in body["credentials"].values():  # credentials are never echoed
        assert secret not in message
    message = error(client.post("/api/integrations/buckets/discover", json=body, headers=alice.bearer), 400)
    assert "not supported by this server" in message
    assert client.get("/api/integrations/buckets", headers=alice.bearer).json() == {"integrations": []}


def test_bucket_bodies_name_what_is_wrong(client, alice):
    def create(body) -> str:
        return error(client.post("/api/integrations/buckets", json=body, headers=alice.bearer), 400)

    assert create({"provider": "dropbox", "credentials": {}, "targets": ["b"]}) == \
        "provider must be one of gcs, s3, azure; got 'dropbox'"
    assert "provider is required" in create({"credentials": S3["credentials"], "targets": ["b"]})
    assert "credentials is required" in create({"provider": "s3", "targets": ["b"]})
    no_secret = {"access_key_id": "AKIA1", "region": "us-east-1"}
    assert create({"provider": "s3", "credentials": no_secret, "targets": ["b"]}) == \
        "credentials.secret_access_key is required for provider 's3'"
    def s3(**credentials) -> dict:
        return {**S3, "credentials": {**S3["credentials"], **credentials}, "targets": ["b"]}

    assert "credentials.region" in create(s3(region="Mars"))
    assert "temporary" in create(s3(access_key_id="ASIAXYZ"))
    assert "credentials.client_email" in create({**GCS, "credentials": {**GCS["credentials"], "client_email": "nobody"},
                                                 "targets": ["b"]})
    assert "credentials.connection_string must not be blank" in create({"provider": "azure", "credentials":
                                                                        {"connection_string": "  "}, "targets": ["b"]})
    assert "targets is required" in create(S3)
    assert "targets must be a list" in create({**S3, "targets": []})
    assert "targets[1] must be at most 222" in create({**S3, "targets": ["ok", "x" * 223]})
    assert "expected a JSON object" in create(["not", "an", "object"])
    discover = client.post("/api/integrations/buckets/discover", json={"provider": "ftp", "credentials": {}},
                           headers=alice.bearer)
    assert error(discover, 400) == "provider must be one of gcs, s3, azure; got 'ftp'"


def test_integration_ids_are_checked_and_never_found(client, alice):
    assert "24-character" in error(client.delete("/api/integrations/buckets/nope", headers=alice.bearer), 400)
    assert "not found" in error(client.delete(f"/api/integrations/buckets/{INTEGRATION_ID}", headers=alice.bearer), 404)
    r = client.get(f"/api/integrations/buckets/{INTEGRATION_ID}/objects", params={"target": "b"}, headers=alice.bearer)
    assert "not found" in error(r, 404)
    r = client.get(f"/api/integrations/buckets/{INTEGRATION_ID}/objects", headers=alice.bearer)
    assert "target" in error(r, 400)
    r = client.get("/api/integrations/buckets/zz/objects", params={"target": "b"}, headers=alice.bearer)
    assert "24-character" in error(r, 400)
    r = client.patch(f"/api/integrations/buckets/{INTEGRATION_ID}", json={"processing": "yes"}, headers=alice.bearer)
    assert "processing" in error(r, 400)
    r = client.patch(f"/api/integrations/buckets/{INTEGRATION_ID}", json={"processing": False}, headers=alice.bearer)
    assert "not found" in error(r, 404)


def test_integrations_need_the_datasets_scope(client, make_account):
    limited = make_account("limited", scopes=["models"])
    assert client.get("/api/integrations/buckets", headers=limited.bearer).status_code == 403
    r = client.post("/api/integrations/roboflow/preview", json={"apiKey": "rf_x"}, headers=limited.bearer)
    assert r.status_code == 403


def test_roboflow_preview_and_import_say_they_need_the_network(client, alice):
    r = client.post("/api/integrations/roboflow/preview", json={"apiKey": "rf_secret"}, headers=alice.bearer)
    message = error(r, 502)
    assert "api.roboflow.com" in message and "rf_secret" not in message
    body = {"apiKey": "rf_secret", "items": [ITEM]}
    r = client.post("/api/integrations/roboflow/import", json=body, headers=alice.bearer)
    message = error(r, 503)
    assert "api.roboflow.com" in message and "ingest" in message
    assert client.get("/api/datasets/alice", headers=alice.bearer).json()["total"] == 0  # nothing was created


def test_roboflow_bodies_name_what_is_wrong(client, alice):
    def preview(body) -> str:
        return error(client.post("/api/integrations/roboflow/preview", json=body, headers=alice.bearer), 400)

    def imports(body) -> str:
        return error(client.post("/api/integrations/roboflow/import", json=body, headers=alice.bearer), 400)

    assert preview({}) == "apiKey is required"
    assert preview({"apiKey": " "}) == "apiKey must not be blank"
    assert preview({"apiKey": "k" * 129}) == "apiKey must be at most 128 characters"
    assert imports({"items": [ITEM]}) == "apiKey is required"
    assert "items is required" in imports({"apiKey": "rf"})
    assert "items must be a list of 1-500" in imports({"apiKey": "rf", "items": []})
    assert imports({"apiKey": "rf", "items": [ITEM, {**ITEM, "latestVersion": 0}]}) == \
        "items[1].latestVersion must be a positive integer"
    assert imports({"apiKey": "rf", "items": [{**ITEM, "latestVersion": True}]}) == \
        "items[0].latestVersion must be a positive integer"
    missing = {k: v for k, v in ITEM.items() if k != "projectName"}
    assert imports({"apiKey": "rf", "items": [missing]}) == "items[0].projectName is required"
    assert imports({"apiKey": "rf", "items": ["vehicles"]}) == "items[0]: expected a JSON object"

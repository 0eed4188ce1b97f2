"""Registering models: multipart create, JSON create then upload, files with signed URLs, access rules."""

import hashlib
from urllib.parse import urlsplit


from tests.conftest import add_model
from tests.contract import validate


def test_multipart_create_reads_the_checkpoint(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["segment"], project="shapes", name="Seg One")
    assert created["owner"] == "alice" and created["project"] == "shapes" and created["model"] == "seg-one"
    assert created["id"].startswith("mdl_") and created["name"] == "Seg One"

    detail = client.get("/api/models/alice/shapes/seg-one", headers=alice.bearer).json()
    validate("ModelDetailResponse", detail)
    model = detail["model"]
    assert model["task"] == "segment" and model["hasWeights"] is True and detail["isOwner"] is True
    from ultralytics import YOLO

    names = YOLO(str(checkpoints["segment"])).names
    assert model["classNames"] == [names[i] for i in sorted(names)]
    assert model["file"]["size"] == checkpoints["segment"].stat().st_size
    assert client.get(f"/api/models/{created['id']}", headers=alice.bearer).json() == detail
    counts = client.get("/api/account/summary", headers=alice.bearer).json()["counts"]
    assert counts == {"projects": 1, "datasets": 0, "models": 1}


def test_not_a_checkpoint_is_refused_and_nothing_is_stored(client, alice, app, tmp_path):
    bad = tmp_path / "fake.pt"
    bad.write_bytes(b"not a checkpoint at all")
    r = client.post("/api/models", files={"file": ("fake.pt", bad.read_bytes())}, data={"projectId": "demo"}, headers=alice.bearer)
    assert r.status_code == 400 and "not a loadable Ultralytics YOLO checkpoint" in r.json()["error"]
    validate("ErrorResponse", r.json())
    assert client.get("/api/models/alice/demo/fake", headers=alice.bearer).status_code == 404
    stored = app.state.settings.files_dir / "models"
    assert not stored.exists() or not any(stored.iterdir())


def test_json_create_then_signed_upload_then_predict(client, alice, checkpoints):
    body = {"project": "flow", "model": "pose-a", "name": "Pose A", "task": "pose"}
    r = client.post("/api/models", json=body, headers=alice.bearer)
    assert r.status_code == 201, r.text
    model_id = r.json()["id"]
    assert client.get(f"/api/models/{model_id}", headers=alice.bearer).json()["model"]["hasWeights"] is False
    assert client.get(f"/api/models/{model_id}/files", headers=alice.bearer).json() == {"files": []}

    data = checkpoints["pose"].read_bytes()
    signed = client.post(
        "/api/upload/signed-url",
        json={"assetType": "models", "assetId": model_id, "filename": "best.pt",
              "contentType": "application/octet-stream", "totalBytes": len(data)},
        headers=alice.bearer,
    )
    assert signed.status_code == 200, signed.text
    validate("UploadSignedUrlResponse", signed.json())
    url = urlsplit(signed.json()["uploadUrl"])
    put = client.put(f"{url.path}?{url.query}", content=data)  # no key: the URL is the credential
    assert put.status_code == 200, put.text
    done = client.post("/api/upload/complete", json={"sessionId": signed.json()["sessionId"],
                                                     "checksum": hashlib.sha256(data).hexdigest()}, headers=alice.bearer)
    assert done.status_code == 200, done.text
    validate("UploadCompleteResponse", done.json())
    model = client.get(f"/api/models/{model_id}", headers=alice.bearer).json()["model"]
    assert model["hasWeights"] and model["task"] == "pose" and model["file"]["size"] == len(data)


def test_upload_larger_than_announced_is_refused(client, alice, checkpoints):
    model_id = client.post("/api/models", json={"project": "flow", "model": "m"}, headers=alice.bearer).json()["id"]
    signed = client.post(
        "/api/upload/signed-url",
        json={"assetType": "models", "assetId": model_id, "filename": "best.pt", "contentType": "x", "totalBytes": 10},
        headers=alice.bearer,
    ).json()
    url = urlsplit(signed["uploadUrl"])
    r = client.put(f"{url.path}?{url.query}", content=b"x" * 11)
    assert r.status_code == 413 and "totalBytes" in r.json()["error"]
    r = client.post("/api/upload/complete", json={"sessionId": signed["sessionId"]}, headers=alice.bearer)
    assert r.status_code == 400 and "PUT the file" in r.json()["error"]
    r = client.put(f"{url.path}?{url.query}", content=b"x" * 10, headers={"content-type": "image/png"})
    assert r.status_code == 400 and "does not match" in r.json()["error"]
    tampered = f"{url.path}?{url.query[:-1]}{'0' if url.query[-1] != '0' else '1'}"
    assert client.put(tampered, content=b"x" * 10).status_code == 403


def test_files_give_a_signed_url_that_works_without_a_key(client, alice, checkpoints, app):
    created = add_model(client, alice, checkpoints["detect"])
    body = client.get(f"/api/models/alice/demo/{created['model']}/files", headers=alice.bearer).json()
    validate("ModelFilesResponse", body)
    (entry,) = body["files"]
    url = urlsplit(entry["downloadUrl"])
    assert url.path.endswith("/best.pt") and entry["name"] == "best.pt"
    r = client.get(f"{url.path}?{url.query}")
    assert r.status_code == 200 and r.content == checkpoints["detect"].read_bytes()
    # a changed path or signature is refused
    assert client.get(f"{url.path.replace('best.pt', 'other.pt')}?{url.query}").status_code == 403
    # an expired link is refused
    app.state.settings.signed_url_ttl_seconds = -1
    expired = urlsplit(client.get(f"/api/models/{created['id']}/files", headers=alice.bearer).json()["files"][0]["downloadUrl"])
    r = client.get(f"{expired.path}?{expired.query}")
    assert r.status_code == 403 and "expired" in r.json()["error"]


def test_private_models_of_others_are_not_found(client, alice, make_account, checkpoints):
    created = add_model(client, alice, checkpoints["classify"])
    bob = make_account("bobby")
    for path in (f"/api/models/alice/demo/{created['model']}", f"/api/models/{created['id']}",
                 f"/api/models/{created['id']}/files"):
        r = client.get(path, headers=bob.bearer)
        assert r.status_code == 404 and "not found" in r.json()["error"], path
    # nor can bob create models in alice's workspace
    r = client.post("/api/models", json={"owner": "alice", "project": "demo", "model": "x"}, headers=bob.bearer)
    assert r.status_code == 404


def test_create_conflicts_and_bad_fields(client, alice):
    assert client.post("/api/models", json={"project": "p1", "model": "same"}, headers=alice.bearer).status_code == 201
    r = client.post("/api/models", json={"project": "p1", "model": "same"}, headers=alice.bearer)
    assert r.status_code == 409 and "already exists" in r.json()["error"]
    for body, field in [({"model": "x"}, "project"), ({"project": "p1", "model": "Bad Slug"}, "model"),
                        ({"project": "p1", "task": "nope"}, "task"), ({"project": "p1", "name": "x" * 101}, "name")]:
        r = client.post("/api/models", json=body, headers=alice.bearer)
        assert r.status_code == 400 and field in r.json()["error"], (body, r.json())


def test_scopes_apply_to_models(client, make_account, checkpoints):
    predict_only = make_account("predictor", scopes=["predict"])
    r = client.post("/api/models", json={"project": "p", "model": "m"}, headers=predict_only.bearer)
    assert r.status_code == 403 and "'models' scope" in r.json()["error"]

"""The typed ``ultralytics-platform`` SDK drives projects, models and the trash end to end (its request
shapes are the newer contract revision's); the contract client underneath checks every response."""

import pytest
from ultralytics_platform import Platform
from ultralytics_platform._exceptions import APIError

from tests.conftest import add_model


@pytest.fixture
def sdk(client, alice):
    return Platform(api_key=alice.key, base_url="http://testserver", http_client=client, max_retries=0)


def test_sdk_round_trip(sdk, client, alice, checkpoints):
    created = sdk.projects.create(project="inspection", name="Inspection", tags=["qa"], license="MIT")
    assert created["project"] == "inspection"
    add_model(client, alice, checkpoints["detect"], project="inspection", name="Det")
    assert [p["project"] for p in sdk.projects.list(owner="alice", limit=5)["projects"]] == ["inspection"]
    assert sdk.projects.update(owner="alice", project="inspection", description="d") == {"success": True, "project": "inspection"}
    assert sdk.projects.update(owner="alice", project="inspection", starred=True) == {"starred": True, "starCount": 1}
    detail = sdk.projects.retrieve(owner="alice", project="inspection")
    assert detail["project"]["description"] == "d" and [m["model"] for m in detail["models"]] == ["det"]

    assert sdk.models.update(owner="alice", project="inspection", model="det", description="m") == {"success": True, "model": "det"}
    assert [m["model"] for m in sdk.models.list(owner="alice", project="inspection", limit=10)["models"]] == ["det"]
    copy = sdk.models.clone(owner="alice", project="inspection", model="det", project_body="inspection", model_body="det-2")
    assert copy["model"] == "det-2"
    clone = sdk.projects.clone(owner="alice", project="inspection", project_body="inspection-copy")
    assert clone["modelCount"] == 2

    assert sdk.models.delete(owner="alice", project="inspection", model="det-2") == {"success": True}
    assert sdk.projects.delete(owner="alice", project="inspection") == {"success": True, "cascadedModels": 1}
    trash = sdk.lifecycle.trash()
    assert [i["type"] for i in trash["items"]] == ["project", "model"]
    assert sdk.lifecycle.restore(id=created["id"], type="project") == {"success": True, "restoredModels": 1}
    deleted = sdk.lifecycle.delete_trash(body={"all": True})
    assert deleted == {"success": True, "deletedCount": 1, "cascadedModels": 0}
    with pytest.raises(APIError) as err:
        sdk.projects.create(project="inspection", name="Again")
    assert err.value.status_code == 400

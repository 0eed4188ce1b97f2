"""Explore: public projects and datasets of every workspace, searchable without a key; private and
trashed content never shows; filters, sorts and pages of 20."""

from urllib.parse import urlsplit

import pytest

from tests.contract import validate
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import classify_members, write_zip, yolo_members
from tests.projects.helpers import new_project


def _search(client, query="", headers=None) -> dict:
    r = client.get(f"/api/explore/search{query}", headers=headers or {})
    assert r.status_code == 200, r.text
    validate("ExploreSearchResponse", r.json())
    return r.json()


@pytest.fixture
def world(client, app, alice, make_account, tmp_path):
    """alice: public "zebra-cars" (a detect model) and "apples", private "secret", trashed public "gone";
    bob: public detect dataset "birds" (3 images) and classify dataset "cats" (6), private dataset "hidden"."""
    bob = make_account("bobby")
    new_project(client, alice, "zebra-cars", name="Zebra cars", description="Striped vehicles")
    r = client.post("/api/models", json={"project": "zebra-cars", "model": "det", "task": "detect"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    # publishing the project publishes its models
    assert client.patch("/api/projects/alice/zebra-cars", json={"visibility": "public"}, headers=alice.bearer).status_code == 200
    new_project(client, alice, "apples", name="Apples", visibility="public")
    new_project(client, alice, "secret", name="Secret zebra")
    new_project(client, alice, "gone", name="Gone zebra", visibility="public")
    client.delete("/api/projects/alice/gone", headers=alice.bearer)
    assert client.patch("/api/projects/alice/apples", json={"starred": True}, headers=bob.bearer).status_code == 200
    make_dataset(client, bob, slug="birds", visibility="public", description="zebra finches")
    ingest(client, app, bob, "birds", write_zip(tmp_path / "b.zip", yolo_members(2, 1, seed=0)))
    make_dataset(client, bob, slug="cats", visibility="public", task="classify")
    ingest(client, app, bob, "cats", write_zip(tmp_path / "c.zip", classify_members(1)))
    make_dataset(client, bob, slug="hidden")
    return alice, bob


def test_anonymous_search_sees_only_public_live_content(client, world):
    body = _search(client)
    assert sorted(p["project"] for p in body["projects"]) == ["apples", "zebra-cars"]
    assert sorted(d["dataset"] for d in body["datasets"]) == ["birds", "cats"]
    assert body["hasMore"] is False
    zebra = next(p for p in body["projects"] if p["project"] == "zebra-cars")
    assert zebra["owner"] == "alice" and zebra["modelCount"] == 1 and zebra["modelNames"] == ["det"]
    birds = next(d for d in body["datasets"] if d["dataset"] == "birds")
    assert birds["owner"] == "bobby" and birds["imageCount"] == 3 and birds["task"] == "detect"
    assert 1 <= len(birds["sampleImages"]) <= 4
    sample = birds["sampleImages"][0]
    url = urlsplit(sample["url"])
    assert client.get(f"{url.path}?{url.query}").status_code == 200  # signed: fetchable without a key
    # the same with a key
    assert _search(client, headers=world[0].bearer)["projects"] == body["projects"]


def test_query_type_task_author_filters(client, world):
    found = _search(client, "?q=ZEBRA")
    assert [p["project"] for p in found["projects"]] == ["zebra-cars"]  # not the private or trashed zebras
    assert [d["dataset"] for d in found["datasets"]] == ["birds"]  # by description
    assert _search(client, "?type=projects")["datasets"] == []
    assert _search(client, "?type=datasets")["projects"] == []
    by_task = _search(client, "?task=classify")
    assert [d["dataset"] for d in by_task["datasets"]] == ["cats"] and by_task["projects"] == []
    assert [p["project"] for p in _search(client, "?task=detect,classify")["projects"]] == ["zebra-cars"]
    assert _search(client, "?author=bobby")["projects"] == []
    starred = _search(client, "?starred=true", headers=world[1].bearer)
    assert [p["project"] for p in starred["projects"]] == ["apples"] and starred["datasets"] == []
    assert client.get("/api/explore/search?starred=true").status_code == 401
    for bad in ("?task=nope", "?sort=best", "?type=models", "?offset=-1", "?limit=101"):
        assert client.get(f"/api/explore/search{bad}").status_code == 400, bad
    assert client.get("/api/explore/search", headers={"Authorization": "Bearer ul_bad"}).status_code == 401


def test_sorts(client, world):
    def names(sort, kind="projects"):
        return [i[kind[:-1]] for i in _search(client, f"?sort={sort}&type={kind}")[kind]]

    assert names("newest") == ["apples", "zebra-cars"]
    assert names("oldest") == ["zebra-cars", "apples"]
    assert names("name-asc") == ["apples", "zebra-cars"]
    assert names("name-desc") == ["zebra-cars", "apples"]
    assert names("stars") == ["apples", "zebra-cars"]
    assert names("count-desc") == ["zebra-cars", "apples"]
    assert names("count-asc") == ["apples", "zebra-cars"]
    assert names("count-desc", "datasets") == ["cats", "birds"]  # 6 images against 3
    assert names("count-asc", "datasets") == ["birds", "cats"]


def test_pages_of_twenty(client, alice):
    for i in range(23):
        new_project(client, alice, f"p{i:02d}", visibility="public")
    first = _search(client, "?sort=name-asc")
    assert len(first["projects"]) == 20 and first["hasMore"] is True
    assert first["projects"][0]["project"] == "p00"
    second = _search(client, "?sort=name-asc&offset=20")
    assert [p["project"] for p in second["projects"]] == ["p20", "p21", "p22"] and second["hasMore"] is False
    assert len(_search(client, "?limit=5")["projects"]) == 5


def test_sidebar(client, world):
    r = client.get("/api/explore/sidebar")
    assert r.status_code == 200
    body = r.json()
    assert [p["project"] for p in body["featuredProjects"]] == ["apples", "zebra-cars"]
    assert [d["dataset"] for d in body["featuredDatasets"]] == ["cats", "birds"]  # the largest first
    assert {a["username"]: (a["projectCount"], a["datasetCount"]) for a in body["topAuthors"]} == {
        "alice": (2, 0), "bobby": (0, 2)}
    assert sorted((t["task"], t["datasetCount"]) for t in body["tasks"]) == [("classify", 1), ("detect", 1)]

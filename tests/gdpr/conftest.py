"""Two accounts with everything an account can have, entangled the ways accounts are: alice and bob each
own a personal workspace and a team the other belongs to, share dataset images byte for byte, follow each
other, bob cloned alice's public project and she starred his."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import Account, add_model
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members
from tests.fixtures.models import predicting_checkpoint
from tests.projects.helpers import new_project
from tests.teams.conftest import accept, invite
from yolohost.accounts import repository
from yolohost.db.engine import transaction
from yolohost.db.tables.projects import ProjectStar
from yolohost.jobs.worker import run_one

SHARED_SEED, ALICE_SEED = 0, 100  # the archives of "shapes" (both have it) and of alice's own "mine"


@pytest.fixture(scope="session")
def weights(request, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    root = Path(cache.mkdir("yolohost-models")) if cache else tmp_path_factory.mktemp("models")
    return predicting_checkpoint("detect", root)


def run_jobs(app) -> list[str]:
    ran = []
    while (job_id := run_one(app.state.settings, app.state.sessions, app.state.storage)) is not None:
        ran.append(job_id)
    return ran


def blob_hashes(members: dict[str, bytes]) -> set[str]:
    return {hashlib.sha256(data).hexdigest() for name, data in members.items() if name.endswith(".png")}


@dataclass
class Person:
    account: Account
    team: str
    project: dict  # personal, with a model that has weights
    model: dict
    dataset: dict  # "shapes", the images both share
    team_id: str = ""
    ids: set[str] = field(default_factory=set)  # every id of this person's rows the test knows


@dataclass
class World:
    alice: Person
    bob: Person
    mine: dict  # alice's dataset of images no one else has
    mine_members: dict[str, bytes]
    shared_members: dict[str, bytes]
    alice_in_bobs_team: dict  # a project alice created in bob's team: the team's, so it stays
    bob_in_alices_team: dict  # a project bob created in alice's team: goes with that team
    bob_clone: dict  # bob's clone of alice's public project


def _team(client, owner: Account, name: str, member: Account) -> None:
    assert client.post("/api/teams/create", json={"username": name}, headers=owner.bearer).status_code == 201
    accept(client, member, invite(client, owner, f"{member.username}@example.com", "editor", name)["token"])


def _ids(client, account: Account, owner: str, dataset: str) -> set[str]:
    images = client.get(f"/api/datasets/{owner}/{dataset}/images?limit=100", headers=account.bearer).json()["images"]
    return {i["id"] for i in images}


@pytest.fixture
def world(client, app, make_account, weights, tmp_path) -> World:
    alice, bob = make_account("alice"), make_account("bobby")
    shared = yolo_members(2, 1, seed=SHARED_SEED)
    own = yolo_members(2, 1, seed=ALICE_SEED)
    people = {}
    for account, team in ((alice, "alice-lab"), (bob, "bob-crew")):
        project = new_project(client, account, "vision", visibility="public")
        model = add_model(client, account, weights, project="vision", name="det")
        dataset = make_dataset(client, account, slug="shapes")
        ingest(client, app, account, "shapes", write_zip(tmp_path / f"{account.username}.zip", shared))
        people[account.username] = Person(account, team, project, model, dataset)
    _team(client, alice, "alice-lab", bob)
    _team(client, bob, "bob-crew", alice)

    mine = make_dataset(client, alice, slug="mine")
    ingest(client, app, alice, "mine", write_zip(tmp_path / "mine.zip", own))
    version = client.post("/api/datasets/alice/mine/export", json={"description": "v1"}, headers=alice.bearer)
    assert version.status_code == 200 and version.json()["version"] == 1
    alice_in_bobs_team = new_project(client, alice, "shared-work", owner="bob-crew")
    bob_in_alices_team = new_project(client, bob, "guest-work", owner="alice-lab")
    r = client.post("/api/projects/alice/vision/clone", json={"project": "alices-vision"}, headers=bob.bearer)
    assert r.status_code == 201, r.text
    bob_clone = r.json()
    for follower, followed in ((alice, bob), (bob, alice)):
        r = client.patch("/api/users", json={"username": followed.username, "followed": True}, headers=follower.bearer)
        assert r.status_code == 200, r.text
    with transaction(app.state.sessions) as session:
        session.add(ProjectStar(project_id=people["bobby"].project["id"], user_id=alice.user_id))

    for person in people.values():
        me = person.account
        teams = client.get("/api/teams", headers=me.bearer).json()["teams"]
        person.ids |= {me.user_id, me.key_id, person.project["id"], person.model["id"], person.dataset["id"]}
        person.team_id = next(t["userId"] for t in teams if t["username"] == person.team)  # the team's workspace id
        person.ids.add(person.team_id)
        person.ids |= _ids(client, me, me.username, "shapes")
        with app.state.sessions() as session:
            person.ids.add(repository.personal_workspace(session, me.user_id).id)
    alice_world = people["alice"]
    alice_world.ids |= {mine["id"], bob_in_alices_team["id"]} | _ids(client, alice, "alice", "mine")
    return World(alice_world, people["bobby"], mine, own, shared, alice_in_bobs_team, bob_in_alices_team, bob_clone)

"""A real `yolohost serve` subprocess, called the way the seed documents do (requests, curl)."""

import json
import re
import shutil
import signal
import subprocess

import pytest
import requests

from tests.conftest import REDIS_URL, owner_key_from, requires_redis
from tests.contract import validate


def test_first_start_prints_the_owner_key_and_requests_work(serve, tmp_path):
    server = serve()
    key = owner_key_from(server.text())
    assert re.fullmatch(r"ul_[0-9a-f]{40}", key)

    r = requests.get(f"{server.url}/api/account/summary", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert r.status_code == 200
    validate("AccountSummaryResponse", r.json())
    assert r.json()["username"] == "admin"
    assert r.headers["X-RateLimit-Limit"] == "100"

    r = requests.get(f"{server.url}/api/api-keys", headers={"x-api-key": key}, timeout=10)
    validate("ListApiKeysResponse", r.json())

    r = requests.get(f"{server.url}/api/api-keys", headers={"Authorization": "Bearer ul_" + "0" * 40}, timeout=10)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid or missing API key"})


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_as_in_the_seed_reference(serve):
    server = serve()
    key = owner_key_from(server.text())
    created = subprocess.run(
        ["curl", "-s", "-X", "POST", "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json",
         "-d", '{"name": "training-server"}', f"{server.url}/api/api-keys"],
        capture_output=True, text=True, check=True,
    )
    new = json.loads(created.stdout)
    assert new["name"] == "training-server" and new["key"].startswith("ul_")
    revoked = subprocess.run(
        ["curl", "-s", "-X", "DELETE", "-H", f"Authorization: Bearer {key}", f"{server.url}/api/api-keys?keyId={new['keyId']}"],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(revoked.stdout) == {"success": True, "keyId": new["keyId"]}
    health = subprocess.run(["curl", "-s", f"{server.url}/health"], capture_output=True, text=True, check=True)
    assert json.loads(health.stdout)["status"] == "ok"


def test_committed_data_survives_a_killed_server(serve, tmp_path):
    server = serve()
    key = owner_key_from(server.text())
    new = requests.post(f"{server.url}/api/api-keys", json={"name": "kept"}, headers={"x-api-key": key}, timeout=10).json()
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    again = serve()
    assert "shown only this once" not in again.text()  # not a first start any more
    r = requests.get(f"{again.url}/api/account/summary", headers={"x-api-key": new["key"]}, timeout=10)
    assert r.status_code == 200


@requires_redis
def test_two_processes_share_one_redis_budget(serve, tmp_path):
    env = {"YOLOHOST_REDIS_URL": REDIS_URL, "YOLOHOST_RATE_LIMIT_DEFAULT": "6"}
    first = serve(env=env)
    key = owner_key_from(first.text())
    second = serve(env=env)
    headers = {"x-api-key": key}
    codes = []
    for i in range(8):
        url = (first if i % 2 == 0 else second).url
        r = requests.get(f"{url}/api/account/summary", headers=headers, timeout=10)
        codes.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1 and r.json()["retryAfter"] >= 1
    assert codes == [200] * 6 + [429, 429]


def test_workers_share_the_database(serve):
    server = serve(args=("--workers", "2"))
    key = owner_key_from(server.text())
    made = [
        requests.post(f"{server.url}/api/api-keys", json={"name": f"k{i}"}, headers={"x-api-key": key}, timeout=10).json()
        for i in range(6)
    ]
    for m in made:  # every key, whichever worker created it, works on every worker
        for _ in range(2):
            assert requests.get(f"{server.url}/api/account/summary", headers={"x-api-key": m["key"]}, timeout=10).ok
    listed = requests.get(f"{server.url}/api/api-keys", headers={"x-api-key": key}, timeout=10).json()["keys"]
    assert len(listed) == 7


def test_yolo_login_and_the_platform_sdk(serve, tmp_path):
    import os
    import sys

    from ultralytics_platform import Platform

    server = serve()
    key = owner_key_from(server.text())
    with Platform(api_key=key, base_url=server.url) as client:
        assert client.account.summary()["username"] == "admin"
        assert [k["name"] for k in client.account.api_keys()["keys"]] == ["default"]

    env = {**os.environ, "ULTRALYTICS_PLATFORM_URL": server.url, "YOLO_CONFIG_DIR": str(tmp_path / "cfg"),
           "YOLO_OFFLINE": "1"}
    yolo = [sys.executable, "-c", "from ultralytics.cfg import entrypoint; entrypoint()"]
    good = subprocess.run([*yolo, "login", key], env=env, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and "authentication successful" in (good.stdout + good.stderr)
    saved = json.loads((tmp_path / "cfg" / "Ultralytics" / "settings.json").read_text())
    assert saved["api_key"] == key
    bad = subprocess.run([*yolo, "login", "ul_" + "0" * 40], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "Invalid API key" in (bad.stdout + bad.stderr)

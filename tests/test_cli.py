"""The `yolohost` command: users, keys (the key is the last line), revoke, and a fast --help."""

import os
import re
import subprocess
import sys

import pytest


@pytest.fixture
def cli(tmp_path, database_url):
    env = {**os.environ, "YOLOHOST_DATA_DIR": str(tmp_path / "data")}
    if database_url:
        env["YOLOHOST_DATABASE_URL"] = database_url

    def run(*args, ok=True):
        result = subprocess.run([sys.executable, "-m", "yolohost", *args], env=env, capture_output=True, text=True)
        if ok:
            assert result.returncode == 0, result.stderr + result.stdout
        return result

    return run


def test_help_does_not_import_torch_or_the_server():
    code = (
        "import sys\n"
        "from yolohost.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'ultralytics', 'sqlalchemy', 'fastapi') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    assert "serve" in out and "keys" in out and "users" in out


def test_users_and_keys(cli):
    first = cli("users", "create", "erin", "--name", "Erin E.")
    assert "shown only this once" in first.stdout  # the first command on a fresh data dir creates the owner
    assert "created user erin" in first.stdout

    made = cli("keys", "create", "--user", "erin", "--name", "laptop", "--scope", "models", "--scope", "predict")
    key = made.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"ul_[0-9a-f]{40}", key)
    key_id = re.search(r"created key (key_\w+)", made.stdout).group(1)

    listed = cli("keys", "list", "--user", "erin").stdout
    assert key_id in listed and key[:9] in listed and key not in listed
    assert "scopes=models,predict" in listed

    assert "shown only this once" not in cli("keys", "list").stdout  # the owner is created only once
    assert f"revoked {key_id}" in cli("keys", "revoke", key_id).stdout
    assert key_id not in cli("keys", "list").stdout

    again = cli("keys", "revoke", key_id, ok=False)
    assert again.returncode != 0 and "not found" in again.stderr
    dup = cli("users", "create", "erin", ok=False)
    assert dup.returncode != 0 and "already taken" in dup.stderr
    nobody = cli("keys", "create", "--user", "nobody", ok=False)
    assert nobody.returncode != 0 and "not found" in nobody.stderr
    badscope = cli("keys", "create", "--user", "erin", "--scope", "root", ok=False)
    assert badscope.returncode != 0 and "unknown scope" in badscope.stderr
    assert "erin" in cli("users", "list").stdout


def test_models_add(cli, checkpoints, tmp_path):
    out = cli("models", "add", str(checkpoints["classify"]), "--project", "cli-proj", "--name", "Cls Model")
    assert out.stdout.strip().splitlines()[-1] == "ul://admin/cli-proj/cls-model"
    assert "(classify," in out.stdout
    bad = tmp_path / "bad.pt"
    bad.write_text("nope")
    failed = cli("models", "add", str(bad), "--project", "cli-proj", ok=False)
    assert failed.returncode != 0 and "not a loadable Ultralytics YOLO checkpoint" in failed.stderr
    again = cli("models", "add", str(checkpoints["classify"]), "--project", "cli-proj", "--name", "Cls Model", ok=False)
    assert again.returncode != 0 and "already exists" in again.stderr

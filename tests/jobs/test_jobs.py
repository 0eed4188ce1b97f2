"""The job system: run, fail, cancel, concurrent workers, and jobs whose worker died."""

import os
import signal
import subprocess
import sys
import time

import pytest

from yolohost.db.engine import transaction
from yolohost.jobs import service
from yolohost.jobs.worker import run_one


@pytest.fixture
def queue(app, client):
    """Enqueue a job and read it back, through the app's database."""

    def enqueue(kind="sleep", **payload) -> str:
        with transaction(app.state.sessions) as session:
            return service.enqueue(session, kind, payload).id

    def get(job_id):
        with transaction(app.state.sessions) as session:
            return service.describe(service.get(session, job_id)) | {"log": service.get(session, job_id).log}

    return enqueue, get


def run(app):
    return run_one(app.state.settings, app.state.sessions, app.state.storage)


def test_a_job_runs_to_completion_with_progress_and_result(app, queue):
    enqueue, get = queue
    job_id = enqueue(seconds=0.2)
    assert get(job_id)["status"] == "queued"
    assert run(app) == job_id
    job = get(job_id)
    assert job["status"] == "completed" and job["progress"] == 100 and job["result"] == {"slept": 0.2}
    assert "slept 0.2s" in job["log"] and job["finishedAt"] >= job["startedAt"]
    assert run(app) is None  # nothing left


def test_a_failing_job_records_the_error_and_traceback(app, queue):
    enqueue, get = queue
    job_id = enqueue(fail="the archive is broken")
    run(app)
    job = get(job_id)
    assert job["status"] == "failed" and job["error"] == "RuntimeError: the archive is broken"
    assert "Traceback" in job["log"] and job["result"] is None


def test_cancel_a_queued_and_a_running_job(app, queue, settings):
    enqueue, get = queue
    queued = enqueue(seconds=5)
    with transaction(app.state.sessions) as session:
        service.cancel(session, service.get(session, queued))
    assert get(queued)["status"] == "cancelled"
    assert run(app) is None  # a cancelled job is never claimed

    settings.job_heartbeat_seconds = 0.1
    running = enqueue(seconds=30)
    import threading

    worker = threading.Thread(target=run, args=(app,))
    worker.start()
    while get(running)["status"] != "running":
        time.sleep(0.05)
    with transaction(app.state.sessions) as session:
        service.cancel(session, service.get(session, running))
    worker.join(20)
    assert not worker.is_alive()
    job = get(running)
    assert job["status"] == "cancelled" and job["progress"] < 100
    with transaction(app.state.sessions) as session, pytest.raises(Exception, match="already cancelled"):
        service.cancel(session, service.get(session, running))


def _worker_env(settings) -> dict:
    env = {**os.environ, "YOLOHOST_DATA_DIR": str(settings.data_dir), "YOLOHOST_JOB_POLL_SECONDS": "0.05"}
    if settings.database_url:
        env["YOLOHOST_DATABASE_URL"] = settings.database_url
    return env


def test_two_worker_processes_run_each_job_once(app, queue, settings):
    enqueue, get = queue
    ids = [enqueue(seconds=0.1) for _ in range(8)]
    workers = [subprocess.Popen([sys.executable, "-m", "yolohost", "worker"], env=_worker_env(settings),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(get(i)["status"] != "completed" for i in ids):
            time.sleep(0.1)
    finally:
        for w in workers:
            w.terminate()
        logs = [w.communicate(timeout=30)[1] for w in workers]
    assert all(get(i)["status"] == "completed" for i in ids)
    started = [line for log in logs for line in log.splitlines() if "started" in line]
    assert sorted(line.split("job ")[1].split()[0] for line in started) == sorted(ids)  # each exactly once
    with transaction(app.state.sessions) as session:
        workers_used = {service.get(session, i).worker for i in ids}
    assert len(workers_used) == 2  # both took work


def test_a_job_whose_worker_was_killed_is_failed_not_left_running(app, queue, settings):
    enqueue, get = queue
    job_id = enqueue(seconds=60)
    worker = subprocess.Popen([sys.executable, "-m", "yolohost", "worker"], env=_worker_env(settings),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while get(job_id)["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert get(job_id)["status"] == "running"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    with transaction(app.state.sessions) as session:
        assert service.reap(session, stale_after=3600) == [job_id]  # found by its dead pid, not by waiting
    job = get(job_id)
    assert job["status"] == "failed" and "stopped while running" in job["error"]


def test_silent_jobs_are_reaped_after_the_stale_time(app, queue):
    enqueue, get = queue
    job_id = enqueue(seconds=1)
    with transaction(app.state.sessions) as session:
        job = service.get(session, job_id)
        from datetime import timedelta

        from yolohost.kit import clock

        job.status, job.worker, job.heartbeat_at = "running", "elsewhere:123", clock.now() - timedelta(seconds=120)
    with transaction(app.state.sessions) as session:
        assert service.reap(session, stale_after=300) == []
        assert service.reap(session, stale_after=60) == [job_id]
    assert "no heartbeat" in get(job_id)["error"]


def test_serve_fails_jobs_left_running_by_a_killed_server(serve, tmp_path):
    import requests

    from tests.conftest import owner_key_from

    data = tmp_path / "data"
    server = serve(data, env={"YOLOHOST_JOB_POLL_SECONDS": "0.05"})
    key = owner_key_from(server.text())
    from yolohost.bootstrap import open_database
    from yolohost.config import Settings
    from yolohost.db.engine import make_sessionmaker

    settings = Settings(data_dir=data)
    engine = open_database(settings)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        job_id = service.enqueue(session, "sleep", {"seconds": 120}).id
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with transaction(sessions) as session:
            if service.get(session, job_id).status == "running":
                break
        time.sleep(0.05)
    # kill the server and its worker at once, as a crash or power cut would
    for proc in _children(server.proc.pid):
        os.kill(proc, signal.SIGKILL)
    server.proc.kill()
    server.proc.wait()
    again = serve(data)
    assert f"job {job_id} was running when its worker stopped: marked failed" in again.text()
    with transaction(sessions) as session:
        job = service.get(session, job_id)
        assert job.status == "failed" and "stopped while running" in job.error
    engine.dispose()
    assert requests.get(f"{again.url}/api/account/summary", headers={"x-api-key": key}, timeout=10).ok


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_job_workers_end_with_their_server(serve, tmp_path):
    server = serve()
    workers = _children(server.proc.pid)
    assert len(workers) == 2  # one job worker and one for training, by default
    server.proc.send_signal(signal.SIGTERM)  # uvicorn re-raises it: no cleanup code of serve runs
    server.proc.wait(30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" for pid in workers):
        time.sleep(0.1)
    assert all(not os.path.exists(f"/proc/{pid}") or _state(pid) == "Z" for pid in workers)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"

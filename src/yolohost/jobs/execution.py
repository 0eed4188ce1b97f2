"""Run a job's heavy step (training, export) as a separate process, here or on a Ray cluster.

``run_command(ctx, argv, env)`` is the one way handlers do it. Locally the command runs in its own
process group: its output lines go to the job's log, and a cancel request kills the whole tree.
With ``YOLOHOST_JOB_BACKEND=ray`` the same command runs inside a Ray task on whichever node the
cluster picks (``YOLOHOST_RAY_ADDRESS``, or a local Ray started on first use); cancelling cancels
the task, and the command dies with its Ray worker. A remote command cannot see this machine's
files, so handlers pass it URLs instead of paths when ``is_remote(settings)``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable

from yolohost.config import Settings

TAIL_LINES = 40  # lines of output quoted when a command fails
KILL_GRACE_SECONDS = 5.0


def is_remote(settings: Settings) -> bool:
    """True when commands may run on another machine (the Ray backend)."""
    return settings.job_backend == "ray"


def signed_url(settings: Settings, path: str, ttl_seconds: int = 24 * 3600) -> str:
    """A link to ``path`` on this server that works without a key, for a command on another machine."""
    from yolohost.kit.signing import Signer, load_or_create_secret

    if not settings.public_url:
        raise RuntimeError("commands on remote workers need YOLOHOST_PUBLIC_URL: the URL at which they reach this server")
    signer = Signer(load_or_create_secret(settings.data_dir, settings.secret_key))
    return settings.public_url.rstrip("/") + signer.sign(path, ttl_seconds)


def python_command(module: str, *args: str) -> list[str]:
    """``python -m module args...`` with this interpreter (Ray nodes run the same environment)."""
    return [sys.executable, "-m", module, *args]


def run_command(ctx, argv: list[str], env: dict[str, str] | None = None,
                on_line: Callable[[str], None] | None = None, num_gpus: int = 0) -> None:
    """Run ``argv`` to the end; raise ``Cancelled`` when the job is cancelled, RuntimeError on a non-zero exit.
    ``num_gpus``: the GPUs it needs, which Ray reserves on the node it picks (locally the device is in argv)."""
    if is_remote(ctx.settings):
        _run_on_ray(ctx, argv, env, on_line, num_gpus)
    else:
        _run_local(ctx, argv, env, on_line)


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    merged = dict(os.environ)
    merged.update(env or {})
    merged.setdefault("PYTHONUNBUFFERED", "1")
    return merged


def _die_with_parent() -> None:
    """In the child: be killed when the process that started it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:  # the leader is gone; children may linger
                os.killpg(proc.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def _stream(proc: subprocess.Popen, tail: deque, ctx, on_line) -> None:
    for raw in proc.stdout:
        frames = [part for part in raw.rstrip("\n").split("\r") if part.strip()]
        if not frames:
            continue
        line = frames[-1]  # progress bars redraw with carriage returns; keep the last frame
        tail.append(line)
        ctx.log(line)
        if on_line is not None:
            on_line(line)


def _run_local(ctx, argv, env, on_line) -> None:
    from yolohost.jobs.worker import Cancelled

    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        errors="replace", env=_child_env(env), start_new_session=True, preexec_fn=_die_with_parent,
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    reader = threading.Thread(target=_stream, args=(proc, tail, ctx, on_line), daemon=True)
    reader.start()
    try:
        while proc.poll() is None:
            if ctx.cancel_event.wait(0.2):
                _kill_group(proc)
                raise Cancelled()
    except BaseException:
        if proc.poll() is None:
            _kill_group(proc)
        raise
    finally:
        reader.join(timeout=5)
    if proc.returncode != 0:
        raise RuntimeError(_failure(argv, proc.returncode, list(tail)))


def _failure(argv: list[str], code: int, tail: list[str], where: str = "") -> str:
    """The error of a failed command: its last line of output (the whole tail is in the job's log)."""
    last = next((line.strip() for line in reversed(tail) if line.strip()), "no output")
    return f"{_describe(argv)} exited with code {code}{where}: {last}"


def _describe(argv: list[str]) -> str:
    return " ".join(argv[1:3]) if len(argv) > 2 and argv[1] == "-m" else argv[0]


# --- Ray ---------------------------------------------------------------------------------------

_ray_lock = threading.Lock()


def _ray(settings: Settings):
    """The ``ray`` module, connected to the configured cluster (or a local one it starts)."""
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("YOLOHOST_JOB_BACKEND=ray needs the 'ray' package: pip install 'yolohost[ray]'") from exc
    with _ray_lock:
        if not ray.is_initialized():
            ray.init(address=settings.ray_address or None, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, ignore_reinit_error=True)
    return ray


def shutdown() -> None:
    """Disconnect from Ray if this process connected; a local Ray it started stops with it."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


def _remote_command(argv: list[str], env: dict[str, str]) -> dict:
    """Runs inside a Ray task: the command, on the node Ray chose; returns its exit code and output."""
    import ray

    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          text=True, errors="replace", env=_child_env(env), preexec_fn=_die_with_parent)
    return {"returncode": proc.returncode, "output": proc.stdout[-64 * 1024:],
            "node": ray.get_runtime_context().get_node_id(), "host": os.uname().nodename}


def _run_on_ray(ctx, argv, env, on_line, num_gpus: int) -> None:
    from yolohost.jobs.worker import Cancelled

    ray = _ray(ctx.settings)
    task = ray.remote(num_cpus=ctx.settings.ray_task_cpus, num_gpus=num_gpus, max_retries=0)(_remote_command)
    ref = task.remote(argv, env or {})
    ctx.log(f"submitted to Ray: {_describe(argv)}")
    while True:
        ready, _ = ray.wait([ref], timeout=0.5)
        if ready:
            break
        if ctx.cancel_event.is_set():
            ray.cancel(ref, force=True)
            raise Cancelled()
    result = ray.get(ref)
    ctx.log(f"ran on Ray node {result['node']} ({result['host']})")
    lines = result["output"].splitlines()
    for line in lines:
        ctx.log(line)
        if on_line is not None:
            on_line(line)
    if result["returncode"] != 0:
        raise RuntimeError(_failure(argv, result["returncode"], lines[-TAIL_LINES:], f" on Ray node {result['node']}"))

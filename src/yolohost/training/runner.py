"""A trainer process: ``python -m yolohost.training.runner --model M --data ul://... --project owner/project
--name model --args '{...}'``.

It is plain Ultralytics training with Platform reporting: ``ULTRALYTICS_PLATFORM_URL`` and
``ULTRALYTICS_API_KEY`` point it at this server, which it downloads the dataset from and reports
metrics, console output and checkpoints to. It works in a temporary directory of its own and leaves
nothing behind, so it runs the same on this machine or on a Ray node.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yolohost.training.runner")
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--args", default="{}")
    opts = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="yolohost-train-")
    # Ultralytics skips Platform reporting when it believes pytest is running; a trainer reports regardless.
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    os.environ["YOLO_CONFIG_DIR"] = os.path.join(workdir, "config")  # its settings, datasets and runs stay in here
    os.environ.setdefault("YOLO_OFFLINE", "1")  # no telemetry or update checks; only the configured platform
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.chdir(workdir)
    try:
        from ultralytics import YOLO
        from ultralytics.utils import SETTINGS

        SETTINGS.update({name: os.path.join(workdir, name.removesuffix("_dir"))
                         for name in ("datasets_dir", "weights_dir", "runs_dir")})
        args = json.loads(opts.args)
        source = _local(opts.model, workdir)
        if args.get("resume"):  # the checkpoint carries the run's arguments; it continues where it stopped
            YOLO(source).train(data=opts.data, save_dir=os.path.join(workdir, "resumed"), **args)
        else:
            YOLO(source).train(data=opts.data, project=opts.project, name=opts.name, exist_ok=True, **args)
        return 0
    except Exception as exc:
        traceback.print_exc()
        print(f"training failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)  # the job's error
        return 1
    finally:
        os.chdir("/")
        shutil.rmtree(workdir, ignore_errors=True)


def _local(model: str, workdir: str) -> str:
    """A checkpoint given by a (signed) http URL is downloaded first; names and ul:// URIs load as they are."""
    from pathlib import Path

    from yolohost.exports.runner import fetch_weights, is_url

    if not is_url(model):
        return model
    target = Path(workdir) / "resume.pt"
    fetch_weights(model, target)
    return str(target)


if __name__ == "__main__":
    sys.exit(main())

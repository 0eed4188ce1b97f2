"""Convert one checkpoint with ultralytics, in a process of its own:

    python -m yolohost.exports.runner --weights PATH_OR_URL --format onnx --args '{"imgsz": 640}' \\
        --output PATH_OR_PUT_URL [--name STEM]

The weights come from a local path or a (signed) URL; the result is one file (a directory format is
zipped) written to ``--output`` or PUT to it when it is a URL. Progress goes to stdout as
``progress <percent> <message>`` lines, the outcome as one ``result <json>`` line, a failure as
``error: <message>`` and exit code 1. Nothing is installed on demand and nothing else is fetched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# Before ultralytics is imported: a missing converter fails the export instead of being pip-installed,
# and nothing is fetched from the internet.
os.environ["YOLO_AUTOINSTALL"] = "false"
os.environ.setdefault("YOLO_OFFLINE", "1")

CHUNK = 1 << 20
TRANSFER_TIMEOUT = 600.0


def say(line: str) -> None:
    print(line, flush=True)


def progress(percent: int, message: str) -> None:
    say(f"progress {percent} {message}")


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def fetch_weights(source: str, target: Path) -> None:
    if not is_url(source):
        shutil.copyfile(source, target)
        return
    import httpx

    with httpx.stream("GET", source, timeout=TRANSFER_TIMEOUT, follow_redirects=True) as response:
        if response.status_code != 200:
            raise RuntimeError(f"downloading the weights answered HTTP {response.status_code}: {response.read()[:300]!r}")
        with open(target, "wb") as out:
            for chunk in response.iter_bytes(CHUNK):
                out.write(chunk)


def package(result: Path, work: Path) -> Path:
    """The single file to deliver: the exported file, or its directory zipped (the directory at the zip's root)."""
    if result.is_file():
        return result
    archive = work / f"{result.name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(result.rglob("*")):
            if path.is_file():
                zf.write(path, Path(result.name) / path.relative_to(result))
    return archive


def deliver(artifact: Path, output: str) -> None:
    if not is_url(output):
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.part")
        shutil.copyfile(artifact, partial)
        os.replace(partial, target)
        return
    import httpx

    size = artifact.stat().st_size
    with open(artifact, "rb") as fh:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        response = httpx.put(output, content=iter(lambda: fh.read(CHUNK), b""), headers=headers, timeout=TRANSFER_TIMEOUT)
    if response.status_code != 200:
        raise RuntimeError(f"uploading the export answered HTTP {response.status_code}: {response.text[:300]}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def run(weights: str, fmt: str, args: dict, output: str, name: str) -> dict:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        work = Path(tmp)
        local = work / f"{name}.pt"  # ultralytics writes its output beside the weights, so they are copied here
        progress(5, "fetching the weights")
        fetch_weights(weights, local)
        progress(15, "loading the checkpoint")
        from ultralytics import YOLO

        model = YOLO(str(local))
        seen = {}
        model.add_callback("on_export_end", lambda exporter: seen.update(imgsz=list(exporter.imgsz),
                                                                         dynamic=bool(exporter.args.dynamic)))
        progress(25, f"exporting to {fmt}")
        result = Path(model.export(format=fmt, **args))
        progress(85, "packaging")
        artifact = package(result, work)
        size, digest = artifact.stat().st_size, sha256(artifact)
        progress(90, "delivering the file")
        deliver(artifact, output)
    return {"file": artifact.name, "size": size, "sha256": digest, "imgsz": seen.get("imgsz"),
            "dynamic": seen.get("dynamic", False), "seconds": round(time.monotonic() - started, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yolohost.exports.runner", description=__doc__.split("\n")[0])
    parser.add_argument("--weights", required=True, help="checkpoint path or URL")
    parser.add_argument("--format", required=True, help="ultralytics export format, e.g. onnx")
    parser.add_argument("--args", default="{}", help="export options as a JSON object")
    parser.add_argument("--output", required=True, help="file path, or a URL to PUT the file to")
    parser.add_argument("--name", default="model", help="file name stem of the exported model")
    options = parser.parse_args(argv)
    try:
        args = json.loads(options.args)
        if not isinstance(args, dict):
            raise ValueError("--args must be a JSON object")
        outcome = run(options.weights, options.format, args, options.output, options.name)
    except Exception as exc:
        say(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}"[:2000])
        return 1
    say("result " + json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())

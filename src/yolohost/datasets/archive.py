"""Reading dataset sources safely: ZIP/TAR archives (YOLO layout or classify folders) and NDJSON.

Extraction refuses path traversal, links and devices, and stops at a limit on the expanded size
(a zip bomb costs nothing but a refusal). ``scan`` turns an extracted tree into image entries.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from yolohost.datasets import labels as labels_mod
from yolohost.kit.errors import Invalid, TooLarge

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
SPLITS = ("train", "val", "test")


@dataclass
class Entry:
    """One image found in a source: where its bytes are, its split and its labels."""

    path: Path | None  # a local file, or None when ``url`` is set
    name: str
    split: str
    labels: list[dict]
    url: str | None = None


@dataclass
class Source:
    task: str | None
    class_names: list[str]
    kpt_shape: list[int] | None
    entries: list[Entry] = field(default_factory=list)


def _safe_member(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name.startswith(("/", "\\")) or ":" in path.parts[0]:
        raise Invalid(f"archive entry {name!r} points outside the archive (path traversal); nothing was imported")
    return path


def extract(archive: Path, target: Path, *, max_bytes: int, max_members: int) -> None:
    """Extract a ZIP or TAR(.GZ) into ``target``, refusing unsafe entries and oversized contents."""
    total = 0

    def account(size: int) -> None:
        nonlocal total
        total += size
        if total > max_bytes:
            raise TooLarge(f"archive expands to more than {max_bytes // (1 << 20)} MB; nothing was imported")

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > max_members:
                raise TooLarge(f"archive has more than {max_members} entries")
            for info in infos:
                rel = _safe_member(info.filename)
                if info.is_dir():
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise Invalid(f"archive entry {info.filename!r} is a symbolic link; links are not accepted")
                dest = target.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:  # counts real bytes, not declared sizes
                    while chunk := src.read(1 << 20):
                        account(len(chunk))
                        out.write(chunk)
        return
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            count = 0
            for member in tf:
                count += 1
                if count > max_members:
                    raise TooLarge(f"archive has more than {max_members} entries")
                rel = _safe_member(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise Invalid(f"archive entry {member.name!r} is not a regular file (links and devices are not accepted)")
                dest = target.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(member)
                with open(dest, "wb") as out:
                    while chunk := src.read(1 << 20):
                        account(len(chunk))
                        out.write(chunk)
        return
    raise Invalid("the upload is not a ZIP or TAR archive (nor NDJSON)")


def _find_yaml(root: Path) -> Path | None:
    candidates = sorted(root.glob("*.yaml")) + sorted(root.glob("*.yml"))
    if not candidates:
        candidates = sorted(p for p in root.rglob("*.y*ml") if not any(part.startswith(".") for part in p.parts))
    return candidates[0] if candidates else None


def _names(raw) -> list[str]:
    if isinstance(raw, dict):
        return [str(raw[k]) for k in sorted(raw, key=int)]
    if isinstance(raw, list):
        return [str(n) for n in raw]
    raise Invalid("data.yaml: names must be a list or a mapping of class id to name")


def _guess_task(label_lines: list[str], kpt_shape) -> str:
    if kpt_shape:
        return "pose"
    widths = {len(line.split()) for line in label_lines if line.strip()}
    if widths == {9}:
        return "obb"
    if widths and max(widths) > 5:
        return "segment"
    return "detect"


def scan(root: Path, task: str | None, target_split: str | None = None) -> Source:
    """The images and labels of an extracted archive: a YOLO layout with a yaml, or classify folders."""
    top = [p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(top) == 1 and top[0].is_dir():  # archives that wrap everything in one folder
        root = top[0]
    yaml_path = _find_yaml(root)
    if yaml_path is None:
        return _scan_classify(root, target_split)
    try:
        spec = yaml.safe_load(yaml_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise Invalid(f"{yaml_path.name}: not valid YAML: {exc}") from None
    if not isinstance(spec, dict) or ("names" not in spec and "nc" not in spec):
        raise Invalid(f"{yaml_path.name}: needs names (the class names)")
    names = _names(spec["names"]) if "names" in spec else [str(i) for i in range(int(spec["nc"]))]
    kpt_shape = spec.get("kpt_shape")
    base = yaml_path.parent
    images = [p for p in sorted((base / "images").rglob("*")) if p.is_file() and not p.name.startswith(".")]
    if not images:
        raise Invalid("archive has a dataset yaml but no images under images/<split>/")
    label_files = {p: base / "labels" / p.relative_to(base / "images").with_suffix(".txt") for p in images}
    texts = {p: (lf.read_text() if lf.is_file() else "") for p, lf in label_files.items()}
    task = task or _guess_task([line for t in texts.values() for line in t.splitlines()][:1000], kpt_shape)
    kpt_dims = int(kpt_shape[1]) if kpt_shape else None
    source = Source(task, names, list(kpt_shape) if kpt_shape else None)
    for path in images:
        rel = path.relative_to(base / "images")
        split = target_split or (rel.parts[0] if rel.parts[0] in SPLITS else "train")
        where = f"labels/{rel.with_suffix('.txt')}"
        lines = [line for line in texts[path].splitlines() if line.strip()]
        parsed = [labels_mod.from_yolo_line(line, task, kpt_dims, f"{where} line {i + 1}") for i, line in enumerate(lines)]
        try:
            checked = labels_mod.check_all(parsed, task, len(names), kpt_dims) if task != "classify" else parsed
        except Invalid as exc:
            raise Invalid(f"{where}: {exc.message}") from None
        source.entries.append(Entry(path, path.name, split, checked))
    return source


def _scan_classify(root: Path, target_split: str | None) -> Source:
    """``<split>/<class name>/<image>`` folders (ImageNet style)."""
    splits = [d for d in root.iterdir() if d.is_dir() and d.name in SPLITS]
    if not splits:
        raise Invalid("archive has no dataset yaml (detect, segment, pose, obb) and no train/ val/ test/ class folders (classify)")
    names = sorted({c.name for s in splits for c in s.iterdir() if c.is_dir()})
    source = Source("classify", names, None)
    for split_dir in splits:
        for class_dir in sorted(c for c in split_dir.iterdir() if c.is_dir()):
            for path in sorted(p for p in class_dir.iterdir() if p.is_file() and not p.name.startswith(".")):
                split = target_split or split_dir.name
                source.entries.append(Entry(path, path.name, split, [{"classId": names.index(class_dir.name)}]))
    return source


def read_ndjson(path: Path, target_split: str | None) -> Source:
    """An Ultralytics NDJSON dataset: a dataset record, then one record per image with a ``url``."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        records = [json.loads(line) for line in lines]
    except json.JSONDecodeError as exc:
        raise Invalid(f"NDJSON line {exc.lineno}: not valid JSON") from None
    if not records or not isinstance(records[0], dict):
        raise Invalid("NDJSON: the first line must be the dataset record")
    head = records[0]
    task = head.get("task", "detect")
    if task not in labels_mod.TASKS:
        raise Invalid(f"NDJSON: task {task!r} is not supported; supported: {', '.join(labels_mod.TASKS)}")
    raw = head.get("class_names") or {}
    names = [str(raw[k]) for k in sorted(raw, key=int)] if isinstance(raw, dict) else [str(n) for n in raw]
    kpt_shape = head.get("kpt_shape")
    source = Source(task, names, kpt_shape)
    for i, rec in enumerate(records[1:], start=2):
        if not isinstance(rec, dict) or not isinstance(rec.get("file"), str) or not rec.get("url"):
            raise Invalid(f"NDJSON line {i}: an image record needs file and url")
        split = target_split or rec.get("split", "train")
        if split not in SPLITS:
            raise Invalid(f"NDJSON line {i}: split must be train, val or test; got {split!r}")
        try:
            parsed = labels_mod.from_ndjson(rec.get("annotations") or {}, task)
            checked = labels_mod.check_all(parsed, task, len(names) or None, int(kpt_shape[1]) if kpt_shape else None)
        except Invalid as exc:
            raise Invalid(f"NDJSON line {i}: {exc.message}") from None
        source.entries.append(Entry(None, PurePosixPath(rec["file"]).name, split, checked, url=rec["url"]))
    return source


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

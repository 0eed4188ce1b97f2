"""Dataset-wide operations: class statistics, deleting and merging classes, redistributing splits,
the models trained on a dataset, and cloning a dataset.

Every change validates all of its input before it writes anything, so a refused request leaves
the dataset as it was (and the request's transaction is rolled back on any error besides).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.datasets import repository as repo
from yolohost.datasets import service, versions
from yolohost.datasets.archive import SPLITS
from yolohost.db.tables import Dataset, Image, Model, Project, Workspace
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Invalid
from yolohost.kit.ids import check_slug, new_id
from yolohost.kit.storage import Storage

REGION = "us"
GRID = 20  # cells per side of both heatmaps (the contract's 20x20)
HISTOGRAM_BINS = 20  # ranged histograms have at most about this many bins
MODEL_STATUSES = ("pending", "untrained", "starting", "running", "completed", "failed", "cancelled")
MODEL_TASKS = ("detect", "segment", "semantic", "depth", "classify", "pose", "obb")


def _not_processing(dataset: Dataset) -> None:
    """Changes that rewrite labels or splits would race an ingest's commit (these routes list no 409)."""
    if dataset.status == "processing":
        raise Invalid(f"Dataset '{dataset.slug}' is processing an ingest; try again when it is ready")


# --- class statistics -------------------------------------------------------------------------------


def _num(x: float) -> float | int:
    """A bin edge as JSON: an int where it is whole, else rounded off float noise."""
    return int(x) if float(x).is_integer() else round(x, 6)


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``raw``."""
    exp = 10 ** math.floor(math.log10(raw))
    return next(m * exp for m in (1, 2, 5, 10) if raw <= m * exp * (1 + 1e-9))


def histogram(values: list[float], *, integer: bool = False, bins: int = HISTOGRAM_BINS) -> list[dict]:
    """Contiguous bins ``{bin: lower edge, count, size: bin width}`` of a nice width covering the values;
    integer values with a small range get one bin per value (``size`` 1)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    step = _nice_step((hi - lo) / bins if hi > lo else max(abs(hi), 1.0) / bins)
    if integer:
        step = max(1, round(step))
    counts = Counter(math.floor(v / step + 1e-9) for v in values)
    first, last = min(counts), max(counts)
    return [{"bin": _num(k * step), "count": counts.get(k, 0), "size": _num(step)} for k in range(first, last + 1)]


def unit_histogram(values: list[float], bins: int = HISTOGRAM_BINS) -> list[dict]:
    """Fixed bins over [0, 1] (normalized sizes), so charts of different datasets line up."""
    if not values:
        return []
    counts = Counter(_cell(v, bins) for v in values)
    return [{"bin": _num(k / bins), "count": counts.get(k, 0), "size": _num(1 / bins)} for k in range(bins)]


def _cell(v: float, cells: int) -> int:
    return min(cells - 1, max(0, int(v * cells + 1e-9)))


def box(label: dict) -> tuple[float, float, float, float] | None:
    """The normalized ``(x_center, y_center, width, height)`` of a label: its bbox, or the box
    around its polygon (segment) or corners (obb); None for a classify label."""
    if label.get("bbox"):
        return tuple(label["bbox"])  # type: ignore[return-value]
    points = label.get("segments") or label.get("obb")
    if not points:
        return None
    xs, ys = points[0::2], points[1::2]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)


def points(label: dict, kpt_dims: int | None) -> int | None:
    """Points of one instance: polygon vertices, 4 box/obb corners, or keypoints for pose."""
    if label.get("keypoints"):
        kpts = label["keypoints"]
        dims = kpt_dims or (3 if len(kpts) % 3 == 0 else 2)
        return len(kpts) // dims
    if label.get("segments"):
        return len(label["segments"]) // 2
    if label.get("obb") or label.get("bbox"):
        return 4
    return None


def _heatmap(cells: Iterable[tuple[int, int]]) -> tuple[list[list[int]], int]:
    """(bins[row][column], the largest count) of a GRID x GRID grid."""
    bins = [[0] * GRID for _ in range(GRID)]
    for row, col in cells:
        bins[row][col] += 1
    return bins, max((max(row) for row in bins), default=0)


def _dimension_heatmap(sizes: list[tuple[int, int]]) -> dict:
    """Image width (columns) against height (rows), each axis from its smallest to its largest value."""
    if not sizes:
        bins, top = _heatmap(())
        return {"bins": bins, "maxCount": top, "minWidth": 0, "maxWidth": 0, "minHeight": 0, "maxHeight": 0}
    widths, heights = [w for w, _ in sizes], [h for _, h in sizes]
    lo_w, hi_w, lo_h, hi_h = min(widths), max(widths), min(heights), max(heights)

    def cell(v: int, lo: int, hi: int) -> int:
        return _cell((v - lo) / (hi - lo), GRID) if hi > lo else 0

    bins, top = _heatmap((cell(h, lo_h, hi_h), cell(w, lo_w, hi_w)) for w, h in sizes)
    return {"bins": bins, "maxCount": top, "minWidth": lo_w, "maxWidth": hi_w, "minHeight": lo_h, "maxHeight": hi_h}


def class_stats(session: Session, located: service.Located) -> dict:
    """The contract's ``DatasetClassStatsResponse``, computed from every image (never cached)."""
    dataset = located.dataset
    kpt_dims = int(dataset.kpt_shape[1]) if dataset.kpt_shape and len(dataset.kpt_shape) > 1 else None
    annotations: Counter[int] = Counter()
    images_with: Counter[int] = Counter()
    widths, heights, sizes, per_image, formats = [], [], [], [], Counter()
    instance_points, box_w, box_h, box_wn, box_hn, centres = [], [], [], [], [], []
    for image in repo.images(session, dataset.id):
        widths.append(image.width)
        heights.append(image.height)
        sizes.append(image.size)
        formats[image.ext] += 1
        per_image.append(len(image.labels))
        for label in image.labels:
            annotations[label["classId"]] += 1
            n = points(label, kpt_dims)
            if n is not None:
                instance_points.append(n)
            b = box(label)
            if b is not None:
                cx, cy, w, h = b
                box_wn.append(w)
                box_hn.append(h)
                box_w.append(w * image.width)
                box_h.append(h * image.height)
                centres.append((_cell(cy, GRID), _cell(cx, GRID)))
        for class_id in {label["classId"] for label in image.labels}:
            images_with[class_id] += 1
    count = max(len(dataset.class_names), max(annotations, default=-1) + 1)
    location, top = _heatmap(centres)
    return {
        "classes": [{"classId": c, "count": annotations[c], "imageCount": images_with[c]} for c in range(count)],
        "classNames": list(dataset.class_names),
        "cached": False,
        "imageStats": {
            "widthHistogram": histogram(widths, integer=True),
            "heightHistogram": histogram(heights, integer=True),
            "pointsHistogram": histogram(instance_points, integer=True),
            "fileSizeHistogram": histogram(sizes, integer=True),
            "objectsPerImageHistogram": histogram(per_image, integer=True),
            "bboxWidthHistogram": histogram(box_w),
            "bboxHeightHistogram": histogram(box_h),
            "bboxWidthNormHistogram": unit_histogram(box_wn),
            "bboxHeightNormHistogram": unit_histogram(box_hn),
            "formatDistribution": dict(formats),
        },
        "locationHeatmap": {"bins": location, "maxCount": top},
        "dimensionHeatmap": _dimension_heatmap(list(zip(widths, heights))),
    }


# --- deleting and merging classes ----------------------------------------------------------------


def _known(dataset: Dataset, ids: Iterable[int], field: str) -> list[int]:
    """``ids`` sorted and without repeats, or 400 naming the first that is not a class of the dataset."""
    n = len(dataset.class_names)
    unique = sorted(set(ids))
    for class_id in unique:
        if class_id >= n:
            have = f"its classes are 0-{n - 1}" if n else "it has no classes"
            raise Invalid(f"{field}: class {class_id} is not a class of dataset '{dataset.slug}'; {have}")
    return unique


def _shifted(removed: list[int]) -> Callable[[int], int]:
    """The new id of a kept class once the sorted ``removed`` ids are gone: higher ids move down."""
    return lambda class_id: class_id - bisect_left(removed, class_id)


def _relabel(session: Session, dataset: Dataset, new_id_of: Callable[[int], int | None]) -> int:
    """Rewrite every image's labels with ``new_id_of`` (None drops the label); how many were dropped."""
    dropped = 0
    now = clock.now()
    for image in repo.images(session, dataset.id):
        kept, changed = [], False
        for label in image.labels:
            target = new_id_of(label["classId"])
            if target is None:
                dropped += 1
                changed = True
                continue
            if target != label["classId"]:
                label = {**label, "classId": target}
                changed = True
            kept.append(label)
        if changed:
            image.labels, image.label_count, image.class_key = kept, len(kept), service.class_key(kept)
            image.updated_at = now
    dataset.updated_at = now
    return dropped


def delete_classes(session: Session, located: service.Located, class_ids: list[int]) -> dict:
    """Drop the classes' annotations and names; higher class ids shift down so labels stay consistent."""
    dataset = located.dataset
    _not_processing(dataset)
    doomed = _known(dataset, class_ids, "classIds")
    gone, shift = set(doomed), _shifted(doomed)
    dropped = _relabel(session, dataset, lambda c: None if c in gone else shift(c))
    dataset.class_names = [name for i, name in enumerate(dataset.class_names) if i not in gone]
    session.flush()
    return {"success": True, "classNames": list(dataset.class_names), "classColors": {}, "deletedClassIds": doomed,
            "deletedAnnotations": dropped}


def merge_classes(session: Session, located: service.Located, source_ids: list[int], target_id: int) -> dict:
    """Relabel the sources as the target and drop the sources' names (ids above them shift down).
    ``targetClassId`` in the answer is the target's id after the shift, its index in ``classNames``."""
    dataset = located.dataset
    _not_processing(dataset)
    (target,) = _known(dataset, [target_id], "targetClassId")
    sources = _known(dataset, source_ids, "sourceClassIds")
    if target in sources:
        raise Invalid(f"sourceClassIds: the target class {target} cannot also be a source")
    merged, shift = set(sources), _shifted(sources)
    new_target = shift(target)
    _relabel(session, dataset, lambda c: new_target if c in merged else shift(c))
    dataset.class_names = [name for i, name in enumerate(dataset.class_names) if i not in merged]
    session.flush()
    return {"success": True, "classNames": list(dataset.class_names), "classColors": {}, "mergedClassIds": sources,
            "targetClassId": new_target}


# --- splits -----------------------------------------------------------------------------------------


def quotas(total: int, percents: tuple[int, int, int]) -> list[int]:
    """Image counts per split nearest to the percentages (largest remainder; ties go to train, val, test)."""
    counts = [total * p // 100 for p in percents]
    remainders = [total * p % 100 for p in percents]
    for i in sorted(range(len(percents)), key=lambda i: -remainders[i])[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _unique_name(image: Image, taken: Callable[[str], bool]) -> str:
    """The image's filename with part of its id added (as the bulk move's ``keep_both`` does), not ``taken``."""
    stem, dot, ext = image.filename.rpartition(".")
    for tag in (image.id[:6], image.id):
        name = f"{stem}-{tag}{dot}{ext}" if stem else f"{image.filename}-{tag}"
        if not taken(name):
            return name
    raise Invalid(f"cannot find a free name for {image.filename}")  # pragma: no cover - ids are unique


def redistribute(session: Session, located: service.Located, train: int, val: int, test: int) -> dict:
    """Shuffle the images (seeded by the dataset id, so the same request gives the same splits) and
    deal them out to hit the percentages. A filename may exist once per split: an image moved next to
    another of its name gets part of its id added to its name."""
    dataset = located.dataset
    if train + val + test != 100:
        raise Invalid(f"train, val and test are percentages that must add up to 100; got {train} + {val} + {test} = "
                      f"{train + val + test}")
    _not_processing(dataset)
    images = sorted(repo.images(session, dataset.id), key=lambda i: i.id)
    if not images:
        raise Invalid(f"Dataset '{dataset.slug}' has no images to redistribute")
    counts = quotas(len(images), (train, val, test))
    order = images[:]
    random.Random(dataset.id).shuffle(order)
    target: dict[str, str] = {}
    start = 0
    for split, n in zip(SPLITS, counts):
        for image in order[start:start + n]:
            target[image.id] = split
        start += n
    moving = [i for i in images if target[i.id] != i.split]
    names = _final_names(images, target)
    _apply(session, images, moving, target, names)
    dataset.updated_at = clock.now()
    return {"success": True, "splits": dict(zip(SPLITS, counts)), "modified": len(moving)}


def _final_names(images: list[Image], target: dict[str, str]) -> dict[str, str]:
    """Filenames after the move: an image that stays keeps its name; a moved one is renamed only
    if its name is already used in the split it lands in."""
    taken: dict[str, set[str]] = defaultdict(set)
    everywhere = {i.filename for i in images}  # new names avoid every existing one, so no UPDATE can collide
    names = {}
    staying = [i for i in images if target[i.id] == i.split]
    for image in staying + [i for i in images if target[i.id] != i.split]:
        used = taken[target[image.id]]
        name = image.filename
        if name in used:
            name = _unique_name(image, lambda n: n in used or n in everywhere)
            everywhere.add(name)
        used.add(name)
        names[image.id] = name
    return names


def _apply(session: Session, images: list[Image], moving: list[Image], target: dict[str, str], names: dict[str, str]) -> None:
    """Write the new splits. Moved images whose name exists elsewhere in the dataset first pass through a
    temporary split, so no single UPDATE meets (split, filename) still held by a row about to move."""
    shared = Counter(i.filename for i in images)
    parked: Counter[str] = Counter()
    for image in moving:
        if shared[image.filename] > 1:
            image.split = f"~{parked[image.filename]}"  # at most one moving image per (split, name): "~0".."~2"
            parked[image.filename] += 1
    if parked:
        session.flush()
    now = clock.now()
    for image in moving:
        image.split, image.filename, image.updated_at = target[image.id], names[image.id], now
    session.flush()


# --- models trained on the dataset -----------------------------------------------------------------


def _trained_model(model: Model, project: Project, workspace: Workspace) -> dict:
    out: dict[str, Any] = {
        "id": model.id, "owner": workspace.username, "project": project.slug, "model": model.slug, "name": model.name,
        "status": model.status if model.status in MODEL_STATUSES else "untrained",
        "metrics": {k: v for k, v in (model.metrics or {}).items()
                    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)},
        "createdAt": clock.iso(model.created_at),
    }
    if model.task in MODEL_TASKS:
        out["task"] = model.task
    epochs = (model.train_args or {}).get("epochs")
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 0:
        out["epochs"] = epochs
    if project.icon_color:
        out["projectIconColor"] = project.icon_color
    if project.icon_letter:
        out["projectIconLetter"] = project.icon_letter
    return out


def trained_models(session: Session, principal: Principal | None, located: service.Located) -> dict:
    """Live models the caller may read whose training data is ``ul://owner/datasets/slug``, newest first."""
    uri = f"ul://{located.workspace.username}/datasets/{located.dataset.slug}"
    rows = session.execute(
        select(Model, Project, Workspace)
        .join(Project, Project.id == Model.project_id)
        .join(Workspace, Workspace.id == Project.workspace_id)
        .where(Model.deleted_at.is_(None), Project.deleted_at.is_(None), Model.train_args["data"].as_string() == uri)
        .order_by(Model.created_at.desc(), Model.id)
    ).all()
    member: dict[str, bool] = {}
    models = []
    for model, project, workspace in rows:
        if workspace.id not in member:
            member[workspace.id] = accounts.can_read(session, principal, workspace)
        if member[workspace.id] or model.visibility == "public":
            models.append(_trained_model(model, project, workspace))
    return {"models": models, "count": len(models)}


# --- cloning ---------------------------------------------------------------------------------------


def _records(session: Session, storage: Storage, source: Dataset, fields: dict) -> tuple[list[dict], dict]:
    """(image records to copy, the dataset's task/classNames/kptShape) of the live dataset or a saved version."""
    if fields.get("version") is not None:
        if fields.get("imageIds") is not None:
            raise Invalid("send either version or imageIds, not both (imageIds are ids of live images)")
        snapshot = versions.load(session, storage, source, fields["version"])
        records = [{**r, "metadata": None, "error": None} for r in snapshot["images"]]
        return records, snapshot
    records = [{"id": i.id, "sha256": i.sha256, "ext": i.ext, "filename": i.filename, "width": i.width, "height": i.height,
                "size": i.size, "split": i.split, "labels": i.labels, "metadata": i.metadata_, "error": i.error}
               for i in repo.images(session, source.id)]
    if fields.get("imageIds") is not None:
        wanted = set(fields["imageIds"])
        missing = sorted(wanted - {r["id"] for r in records})
        if missing:
            raise Invalid(f"imageIds: '{missing[0]}' is not an image of dataset '{source.slug}'")
        records = [r for r in records if r["id"] in wanted]
    return records, {"task": source.task, "classNames": source.class_names, "kptShape": source.kpt_shape}


def clone(session: Session, storage: Storage, principal: Principal, source: service.Located, fields: dict) -> dict:
    """Copy a readable dataset (its rows; image files are shared by content hash) into a new dataset of a
    workspace the caller can edit. 409 when the slug is taken there. Returns ``CloneDatasetResponse``."""
    from yolohost.projects.service import editable_workspace

    if fields.get("into") is not None:
        raise Invalid("into: cloning into an existing dataset is not supported; clone into a new dataset")
    workspace = editable_workspace(session, principal, fields.get("owner"), what="datasets")
    src = source.dataset
    slug = check_slug(fields.get("dataset") or src.slug, "dataset")
    taken = (f"dataset: '{slug}' already exists in workspace '{workspace.username}'; "
             "pass another slug as `dataset`")
    if repo.by_slug(session, workspace.id, slug) is not None:
        raise Conflict(taken)
    records, head = _records(session, storage, src, fields)
    if fields.get("splits") is not None:
        wanted = set(fields["splits"])
        records = [r for r in records if r["split"] in wanted]
    keep_labels = fields.get("annotations") is not False
    dataset = Dataset(
        id=new_id("ds"), workspace_id=workspace.id, slug=slug, name=fields.get("name") or src.name,
        description=fields["description"] if fields.get("description") is not None else src.description,
        task=head["task"], visibility=fields.get("visibility") or "private", license=fields.get("license") or src.license,
        tags=list(src.tags) if src.tags else None, metadata_=dict(src.metadata_) if src.metadata_ else None,
        class_names=list(head["classNames"]), kpt_shape=list(head["kptShape"]) if head["kptShape"] else None,
        status="ready",
    )
    session.add(dataset)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the slug first
        raise Conflict(taken) from exc
    for r in records:
        labels = [dict(label) for label in r["labels"]] if keep_labels else []
        session.add(Image(id=service.new_image_id(), dataset_id=dataset.id, sha256=r["sha256"], filename=r["filename"],
                          ext=r["ext"], width=r["width"], height=r["height"], size=r["size"], split=r["split"],
                          labels=labels, label_count=len(labels), class_key=service.class_key(labels),
                          error=r["error"], metadata_=r["metadata"]))
    session.flush()
    return {"id": dataset.id, "owner": workspace.username, "dataset": dataset.slug, "name": dataset.name,
            "imageCount": len(records), "classCount": len(dataset.class_names), "region": REGION}

"""Job kinds and their handlers. A domain registers its kinds in its own ``jobs.py``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

#: Modules that register handlers; imported by workers (and by the API, for failure hooks).
HANDLER_MODULES = ("yolohost.jobs.builtin", "yolohost.datasets.service", "yolohost.datasets.embeddings",
                   "yolohost.training.jobs", "yolohost.gdpr.export", "yolohost.exports.jobs")


@dataclass(frozen=True)
class Handler:
    run: Callable  # run(ctx) -> dict | None: the job's result
    on_failure: Callable | None = None  # on_failure(session, job): undo or mark what the job touched


HANDLERS: dict[str, Handler] = {}


def register(kind: str, *, on_failure: Callable | None = None):
    def decorator(fn: Callable) -> Callable:
        HANDLERS[kind] = Handler(fn, on_failure)
        return fn

    return decorator


def load_all() -> dict[str, Handler]:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return HANDLERS

"""The inference engine: an LRU cache of loaded models and a thread pool that keeps the event loop free.

Everything slow (decoding, loading, inference, JSON encoding) runs in the pool; the event loop
only awaits. Concurrent first requests for a model share one load; a replaced checkpoint has a
new digest, so it is loaded anew and the old version dropped, never served stale.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from yolohost.inference.args import PredictArgs
from yolohost.inference.media import Media
from yolohost.kit.errors import Unavailable


@dataclass(frozen=True, slots=True)
class ModelRef:
    """What the engine needs to know of a stored model."""

    id: str
    uri: str  # owner/project/model, reported in the response metadata
    weights: Path  # the checkpoint, or an exported model (a file, or an OpenVINO directory)
    digest: str  # sha256 of that artifact: part of the cache key, so a new checkpoint is a new entry
    runtime: str = "pt"  # "pt" for the checkpoint, else the export format `weights` holds
    task: str | None = None  # given for exports, whose files do not all tell their task

    @property
    def key(self) -> tuple[str, str, str]:
        """The cache key: one entry per model and runtime, replaced when its artifact changes."""
        return (self.id, self.runtime, self.digest)


class ModelCache:
    def __init__(self, size: int, loader: Callable[[Path, str | None], object]):
        self.size = size
        self._loader = loader
        self._entries: OrderedDict[tuple[str, str, str], object] = OrderedDict()
        self._loading: dict[tuple[str, str, str], threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many checkpoints were actually loaded (observability and tests)

    def get(self, ref: ModelRef):
        key = ref.key
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # the first caller loads; the others wait here and find it loaded
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            if not ref.weights.exists():
                raise Unavailable(f"The weights of model '{ref.uri}' are missing on this server; upload them again")
            model = self._loader(ref.weights, ref.task)
            with self._lock:
                self.loads += 1
                for old in [k for k in self._entries if k[:2] == key[:2]]:  # an older version of this artifact
                    del self._entries[old]
                self._entries[key] = model
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
                self._loading.pop(key, None)
            return model

    def __contains__(self, ref: ModelRef) -> bool:
        return ref.key in self._entries


class Engine:
    def __init__(self, cache_size: int, threads: int):
        from yolohost.inference import runtime  # imports torch lazily, on the first prediction

        self._runtime = runtime
        self.cache = ModelCache(cache_size, runtime.load)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inference")
        self.started = time.monotonic()

    async def run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def predict(self, ref: ModelRef, media: Media, args: PredictArgs) -> dict:
        """The contract's PredictResponse (images and metadata), computed in the calling thread."""
        started = time.monotonic()
        model = self.cache.get(ref)
        images = self._runtime.predict(model, media, args)
        now = time.monotonic()
        return {
            "images": images,
            "metadata": {
                "imageCount": len(images),
                "functionTimeAlive": round(now - self.started, 3),
                "functionTimeCall": round(now - started, 3),
                "model": ref.uri,
                "task": model.task,
                "version": self._runtime.versions(),
            },
        }

    async def predict_json(self, ref: ModelRef, media: Media, args: PredictArgs, shape: Callable[[dict], dict] | None = None) -> bytes:
        """Predict and encode in the pool; ``shape`` turns the PredictResponse into a route's own body."""

        def job() -> bytes:
            body = self.predict(ref, media, args)
            return json.dumps(shape(body) if shape else body, separators=(",", ":")).encode()

        return await self.run(job)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

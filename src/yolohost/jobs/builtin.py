"""A built-in job kind: ``sleep``, a cancellable wait that reports progress (operations checks and tests)."""

from __future__ import annotations

import time

from yolohost.jobs.registry import register


@register("sleep")
def sleep(ctx) -> dict:
    seconds = float(ctx.payload.get("seconds", 1))
    if ctx.payload.get("fail"):
        raise RuntimeError(str(ctx.payload["fail"]))
    steps = max(1, int(seconds * 10))
    for i in range(steps):
        ctx.check_cancelled()
        time.sleep(seconds / steps)
        ctx.progress(100 * (i + 1) / steps, f"slept {(i + 1) * seconds / steps:.1f}s")
    ctx.log(f"slept {seconds}s")
    return {"slept": seconds}

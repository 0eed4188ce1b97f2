"""Files on local disk under one root, written atomically (temp file + rename)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from yolohost.kit.errors import Invalid


class Storage:
    def __init__(self, root: Path):
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file of a storage key such as ``models/mdl_x/best.pt``; keys never leave the root."""
        parts = PurePosixPath(key).parts
        if not parts or any(p in ("..", "") or p.startswith("/") for p in parts):
            raise Invalid(f"invalid storage key {key!r}")
        return self.root.joinpath(*parts)

    def put_file(self, key: str, source: Path) -> tuple[int, str]:
        """Copy ``source`` into place atomically; returns (size, sha256)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            size = os.path.getsize(tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete_tree(self, prefix: str) -> None:
        """Remove a file or a folder of files under ``prefix``; a missing one is no error."""
        path = self.path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

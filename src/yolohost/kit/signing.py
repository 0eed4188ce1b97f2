"""Signed, expiring URLs: an HMAC-SHA256 over the path and the expiry time.

A signed URL works without an API key until it expires, which is what clients that
download with a plain GET (the `ultralytics` package) need.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlencode

from yolohost.kit import clock


class Signer:
    def __init__(self, secret: bytes):
        self._secret = secret

    def _mac(self, path: str, expires: int) -> str:
        return hmac.new(self._secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, ttl_seconds: int) -> str:
        """``path?expires=..&signature=..``"""
        expires = int(clock.epoch()) + ttl_seconds
        return f"{path}?{urlencode({'expires': expires, 'signature': self._mac(path, expires)})}"

    def verify(self, path: str, expires: int, signature: str) -> bool:
        if expires < clock.epoch():
            return False
        return hmac.compare_digest(self._mac(path, expires), signature)


def load_or_create_secret(data_dir: Path, configured: str | None) -> bytes:
    """The configured secret, else one generated on first use into ``data_dir/secret.key`` (mode 0600).

    Every process serving the same data directory reads the same file, so their links agree.
    """
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent: a concurrent first start keeps the other's secret
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()

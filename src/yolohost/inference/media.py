"""Prediction inputs: sniff what the bytes are, decode images, and fetch ``source`` URLs or base64.

The type is read from the bytes themselves, never trusted from a file name: clients such as
the SDK send in-memory files named ``upload``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

import numpy as np

from yolohost.kit.errors import Invalid, TooLarge

IMAGE_KINDS = ("jpeg", "png", "webp", "bmp", "tiff")
VIDEO_SUFFIX = {"mp4": ".mp4", "mov": ".mov", "avi": ".avi"}
SUPPORTED = "an image (JPEG, PNG, WebP, BMP, TIFF) or a video (MP4, MOV, AVI)"


@dataclass(frozen=True, slots=True)
class Media:
    """Raw input bytes and what they are."""

    data: bytes
    kind: str  # one of IMAGE_KINDS or a key of VIDEO_SUFFIX

    @property
    def is_video(self) -> bool:
        return self.kind in VIDEO_SUFFIX


def sniff(data: bytes) -> str | None:
    """The format of ``data`` from its magic bytes, or None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "mov"
    return None


def from_bytes(data: bytes, field: str = "file") -> Media:
    if not data:
        raise Invalid(f"{field}: the file is empty; expected {SUPPORTED}")
    kind = sniff(data)
    if kind is None:
        raise Invalid(f"{field}: unsupported file type; expected {SUPPORTED}")
    return Media(data, kind)


def decode_image(media: Media, field: str = "file") -> np.ndarray:
    """BGR uint8, exactly what ultralytics' own image loader makes of the same bytes."""
    import cv2

    image = cv2.imdecode(np.frombuffer(media.data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise Invalid(f"{field}: the {media.kind.upper()} image could not be decoded (corrupt or truncated?)")
    return image


_DATA_URI = re.compile(r"^data:[\w/+.-]+;base64,", re.IGNORECASE)


def decode_base64(text: str, field: str = "source") -> bytes:
    try:
        return base64.b64decode(_DATA_URI.sub("", text.strip()), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{field} must be an http(s) URL or a base64-encoded image") from None


def fetch(url: str, *, max_bytes: int, timeout: float, field: str = "source") -> bytes:
    """Download a user-given image URL, refusing bodies over ``max_bytes``."""
    import httpx

    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise Invalid(f"{field}: fetching {url} answered HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise TooLarge(f"{field}: {url} is larger than the {max_bytes // (1 << 20)} MB limit")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"{field}: {url} is larger than the {max_bytes // (1 << 20)} MB limit")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise Invalid(f"{field}: could not fetch {url}: {exc}") from None
    return b"".join(chunks)


def from_source(source: str, *, max_bytes: int, timeout: float, field: str = "source") -> Media:
    """A ``source`` value: an http(s) URL or base64 (optionally a data: URI)."""
    source = source.strip()
    if re.match(r"^https?://", source, re.IGNORECASE):
        return from_bytes(fetch(source, max_bytes=max_bytes, timeout=timeout, field=field), field)
    data = decode_base64(source, field)
    if len(data) > max_bytes:
        raise TooLarge(f"{field}: the decoded image is larger than the {max_bytes // (1 << 20)} MB limit")
    return from_bytes(data, field)

"""Input sniffing and decoding: formats are read from the bytes, bad bytes are a clear 400."""

import base64

import cv2
import numpy as np
import pytest

from yolohost.inference import media
from yolohost.kit.errors import Invalid, TooLarge


def encoded(ext: str) -> bytes:
    image = np.full((24, 32, 3), (10, 200, 30), np.uint8)
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("ext, kind", [(".jpg", "jpeg"), (".png", "png"), (".webp", "webp"), (".bmp", "bmp"), (".tiff", "tiff")])
def test_images_are_sniffed_and_decoded(ext, kind):
    m = media.from_bytes(encoded(ext))
    assert m.kind == kind and not m.is_video
    image = media.decode_image(m)
    assert image.shape == (24, 32, 3)
    assert np.allclose(image[0, 0], (10, 200, 30), atol=8)  # BGR order, as ultralytics reads files


def test_videos_are_sniffed(tmp_path):
    from tests.fixtures.models import make_video

    path = make_video(tmp_path / "clip.mp4", frames=3)
    m = media.from_bytes(path.read_bytes())
    assert m.kind == "mp4" and m.is_video
    assert media.sniff(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert media.sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00") == "mov"


def test_unknown_empty_and_corrupt_inputs():
    with pytest.raises(Invalid, match="unsupported file type"):
        media.from_bytes(b"just some text")
    with pytest.raises(Invalid, match="empty"):
        media.from_bytes(b"")
    truncated = media.from_bytes(encoded(".png")[:40])
    with pytest.raises(Invalid, match="could not be decoded"):
        media.decode_image(truncated)


def test_base64_sources_with_and_without_data_uri():
    raw = encoded(".png")
    text = base64.b64encode(raw).decode()
    assert media.from_source(text, max_bytes=1 << 20, timeout=1).data == raw
    assert media.from_source("data:image/png;base64," + text, max_bytes=1 << 20, timeout=1).data == raw
    with pytest.raises(Invalid, match="source must be an http"):
        media.from_source("not base64 !!", max_bytes=1 << 20, timeout=1)
    with pytest.raises(TooLarge):
        media.from_source(text, max_bytes=10, timeout=1)

"""Real (if tiny) images for tests that upload a photo."""

from __future__ import annotations

import functools
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile


def small_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 200, 40), (0, 0, size[0] // 2, size[1]))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=85)
    return output.getvalue()


def photo_upload(name: str = "foto.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, small_jpeg(), content_type="image/jpeg")


@functools.cache
def large_png(width: int, height: int) -> bytes:
    """A real PNG of ``width`` × ``height`` pixels that is cheap to make and small to send (one bit a
    pixel, all black: 7000 × 7000 is a few kilobytes), yet decodes to as many pixels as a photo."""
    output = io.BytesIO()
    Image.new("1", (width, height)).save(output, "PNG")
    return output.getvalue()


def record_decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The sizes of the images Pillow decodes from now on (its real decoder still does the work)."""
    decoded: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recording_load(image: ImageFile.ImageFile) -> object:
        if image.tile:  # what is left to decode; empty once decoded
            decoded.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    return decoded

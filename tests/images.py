"""Real (if tiny) images for tests that upload a photo."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def small_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 200, 40), (0, 0, size[0] // 2, size[1]))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=85)
    return output.getvalue()


def photo_upload(name: str = "foto.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, small_jpeg(), content_type="image/jpeg")

"""Uploaded images: proven to be real images with Pillow, EXIF dropped, re-encoded, stored under MEDIA_ROOT."""
from __future__ import annotations

import io
import uuid
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import Invalid

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


def open_uploaded_image(data: bytes, field: str = "image", max_bytes: int | None = None) -> Image.Image:
    """Decode bytes as a JPEG/PNG/WebP/GIF image or raise Invalid with a message for `field`."""
    if not data:
        raise Invalid(_("Choose an image file."), {field: [_("Choose an image file.")]})
    if max_bytes is not None and len(data) > max_bytes:
        limit = max_bytes // (1024 * 1024)
        message = _("The image is larger than %(limit)s MB.", limit=limit)
        raise Invalid(message, {field: [message]})
    not_image = _("This file is not an image we can read (use JPEG, PNG, WebP or GIF).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise Invalid(not_image, {field: [not_image]})
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid(_("The image has too many pixels."), {field: [_("The image has too many pixels.")]})
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise Invalid(not_image, {field: [not_image]}) from None
    image = ImageOps.exif_transpose(image)  # apply the camera's rotation before EXIF is dropped
    return image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")


def square_thumbnail(image: Image.Image, size: int) -> Image.Image:
    return ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)


def store_webp(image: Image.Image, folder: str, quality: int = 85) -> str:
    """Re-encode as WebP (no metadata) under MEDIA_ROOT/folder; return the path relative to MEDIA_ROOT."""
    media_root = Path(current_app.config["MEDIA_ROOT"])
    relative = f"{folder}/{uuid.uuid4().hex}.webp"
    target = media_root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, "WEBP", quality=quality, method=4)
    return relative


def delete_media(relative: str | None) -> None:
    if not relative:
        return
    path = Path(current_app.config["MEDIA_ROOT"]) / relative
    path.unlink(missing_ok=True)

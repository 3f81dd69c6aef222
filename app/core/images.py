"""Uploaded images: proven to be real images with Pillow, EXIF dropped, re-encoded, stored under MEDIA_ROOT.

Decoding is what an upload really costs: a 100 KB PNG can decode to 108 MB, and nine of them took 22 s
and 1.3 GB. So an upload is turned into the WebP files we store in bounded steps:

1. Every file of a request is probed from its header (`Image.open` reads no pixels). The pixels it will
   decode are checked against UPLOAD_IMAGE_MAX_MP (default 16) and summed against UPLOAD_PIXEL_BUDGET_MP
   (default 60) *before* anything is decoded; a request over either is refused with a message naming it.
2. A baseline JPEG is decoded at 1/2, 1/4 or 1/8 scale (`draft`) when what we store is smaller, and is
   counted at that size: a 24 MP camera photo stored 1080 wide decodes, and counts, as 1.5 MP. PNG, WebP,
   GIF and progressive JPEG cannot be decoded smaller (libjpeg keeps every coefficient of a progressive
   file), so they count at full size; a GIF or animated WebP only ever has its first frame decoded.
3. Each image is shrunk to the largest size we store right after decoding and encoded to WebP bytes before
   the next is decoded, so a request holds one decoded image at a time. Per decoded pixel that costs about
   4 bytes for RGB PNG, 9 for RGBA/LA PNG, 7 for progressive JPEG and 16.5 for WebP (Pillow decodes it
   through three full-size buffers): at the 16 MP ceiling a request peaks near 265 MB, under the 300 MB
   that tests/posts/test_upload_costs.py asserts, and a refused request decodes nothing.
4. At most IMAGE_WORKERS (default 2) requests per process do this at once; others wait IMAGE_WORK_TIMEOUT
   seconds (default 10), then get a 503 "busy" instead of piling up. So image work holds at most about
   IMAGE_WORKERS × 16.5 B × UPLOAD_IMAGE_MAX_MP of memory per process (≈ 530 MB with the defaults).
"""
from __future__ import annotations

import io
import math
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import Busy, Invalid

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# Modes Pillow resizes without a conversion; anything else (palette, CMYK, 16-bit) is converted first.
RESIZABLE_MODES = {"RGB", "RGBA", "L", "LA"}
ORIENTATION_TAG = 0x0112
# EXIF orientation → the transpose that puts the picture upright (as ImageOps.exif_transpose does).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True)
class Rendition:
    """One stored version of an upload, under MEDIA_ROOT/`folder`: at most `width` wide keeping its shape
    (never enlarged), or cropped around the centre to exactly `width`×`height` when `height` is given."""

    folder: str
    width: int
    height: int | None = None
    quality: int = 85
    mode: str | None = None  # "RGB" drops transparency


@dataclass(frozen=True)
class EncodedImage:
    """A rendition encoded as WebP, not yet written (see `store_encoded`)."""

    data: bytes
    folder: str
    width: int
    height: int


@dataclass(frozen=True)
class _Probe:
    """What the header says: the size that will be decoded, and how to turn it upright."""

    decoded_size: tuple[int, int]
    orientation: int

    @property
    def pixels(self) -> int:
        return self.decoded_size[0] * self.decoded_size[1]


def prepare_upload(data: bytes, renditions: Sequence[Rendition], *, field: str = "image",
                   max_bytes: int | None = None) -> list[EncodedImage]:
    """One upload as the WebP renditions asked for, or Invalid on `field` (see `prepare_uploads`)."""
    return prepare_uploads([data], renditions, field=field, max_bytes=max_bytes)[0]


def prepare_uploads(uploads: Sequence[bytes], renditions: Sequence[Rendition], *, field: str = "images",
                    max_bytes: int | None = None) -> list[list[EncodedImage]]:
    """Check every upload of one request from its header, then decode, shrink and encode them one at a time.

    Raises Invalid (naming `field` and the limit) for a file that is not a JPEG/PNG/WebP/GIF image, too
    many bytes, too many pixels, or a request over the pixel budget — all before any pixel is decoded —
    and Busy when no image worker frees up in time. Nothing is written; see `store_encoded`.
    """
    if not uploads:
        return []  # nothing to decode: do not wait for an image worker
    need = _decode_size(renditions)
    probes = [_probe(data, field, max_bytes, need) for data in uploads]
    _check_budget(probes, field)
    with image_worker():
        return [_render(data, probe, need, renditions, field) for data, probe in zip(uploads, probes, strict=True)]


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


def _not_an_image(field: str) -> Invalid:
    return _field_error(field, _("This file is not an image we can read (use JPEG, PNG, WebP or GIF)."))


def _megapixels(pixels: float) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def _decode_size(renditions: Sequence[Rendition]) -> tuple[int, int]:
    """The smallest picture every rendition can be made from: as wide as the widest, as tall as the
    tallest crop (1 when only widths are bounded)."""
    return (max(r.width for r in renditions), max((r.height or 1) for r in renditions))


def _upright_need(need: tuple[int, int], orientation: int) -> tuple[int, int]:
    """`need` in the stored picture's axes: a photo taken sideways (EXIF 5–8) is rotated after decoding."""
    return (need[1], need[0]) if orientation in (5, 6, 7, 8) else need


def _opened(data: bytes, need: tuple[int, int]) -> tuple[Image.Image, int, int]:
    """The image with only its header read, set to decode a baseline JPEG at the smallest scale that still
    covers `need`; its EXIF orientation; and its full pixel count."""
    image = Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS))  # no other format's parser runs
    full_pixels = image.width * image.height
    orientation = _orientation(image.info.get("exif"))
    if image.format == "JPEG" and not image.info.get("progressive"):
        image.draft(None, _upright_need(need, orientation))
    return image, orientation, full_pixels


def _orientation(exif: bytes | None) -> int:
    """The EXIF orientation from metadata found in the header (`getexif()` would decode a PNG to look
    further); unreadable EXIF keeps the picture as it is."""
    if not exif:
        return 1
    try:
        parsed = Image.Exif()
        parsed.load(exif)
        orientation = int(parsed.get(ORIENTATION_TAG, 1))
    except DECODE_ERRORS + (TypeError, KeyError, IndexError):
        return 1
    return orientation if orientation in UPRIGHT else 1


def _probe(data: bytes, field: str, max_bytes: int | None, need: tuple[int, int]) -> _Probe:
    """Refuse what is not an image or is too big, reading only the header (and PNG chunk checksums)."""
    if not data:
        raise _field_error(field, _("Choose an image file."))
    if max_bytes is not None and len(data) > max_bytes:
        raise _field_error(field, _("The image is larger than %(limit)s MB.", limit=max_bytes // (1024 * 1024)))
    try:
        image, orientation, full_pixels = _opened(data, need)
        if image.format not in ACCEPTED_FORMATS:  # e.g. MPO, which the JPEG parser also opens
            raise _not_an_image(field)
        probe = _Probe(image.size, orientation)
        image.verify()  # PNG: every chunk's CRC, without inflating the pixels
    except DECODE_ERRORS:
        raise _not_an_image(field) from None
    limit = int(current_app.config["UPLOAD_IMAGE_MAX_MP"] * 1_000_000)
    if probe.pixels > limit or full_pixels > Image.MAX_IMAGE_PIXELS:  # the latter: Pillow's bomb warning
        raise _field_error(field, _("This image has too many pixels (%(size)s megapixels; at most %(limit)s). "
                                    "Use a smaller image.", size=_megapixels(probe.pixels),
                                    limit=_megapixels(limit)))
    return probe


def _check_budget(probes: Sequence[_Probe], field: str) -> None:
    budget = int(current_app.config["UPLOAD_PIXEL_BUDGET_MP"] * 1_000_000)
    total = sum(probe.pixels for probe in probes)
    if total > budget:
        raise _field_error(field, _("Together these images have too many pixels (%(total)s megapixels; at most "
                                    "%(limit)s in one upload). Send fewer or smaller images.",
                                    total=_megapixels(total), limit=_megapixels(budget)))


def _render(data: bytes, probe: _Probe, need: tuple[int, int], renditions: Sequence[Rendition],
            field: str) -> list[EncodedImage]:
    """Decode one checked upload (first frame only), shrink it at once, and encode each rendition."""
    try:
        image = _opened(data, need)[0]
        image.load()
    except DECODE_ERRORS:
        raise _not_an_image(field) from None
    keep = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
    if image.mode not in RESIZABLE_MODES:
        image = image.convert(keep)
    image = _shrunk_to_cover(image, _upright_need(need, probe.orientation))
    if probe.orientation in UPRIGHT:
        image = image.transpose(UPRIGHT[probe.orientation])
    if image.mode != keep:
        image = image.convert(keep)
    return [_encoded(_rendition_of(image, rendition), rendition) for rendition in renditions]


def _shrunk_to_cover(image: Image.Image, need: tuple[int, int]) -> Image.Image:
    """The image scaled down (never up) to the smallest size that still covers `need`."""
    factor = max(need[0] / image.width, need[1] / image.height)
    if factor >= 1:
        return image
    size = (max(need[0], round(image.width * factor)), max(need[1], round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _rendition_of(image: Image.Image, rendition: Rendition) -> Image.Image:
    if rendition.mode and image.mode != rendition.mode:
        image = image.convert(rendition.mode)
    if rendition.height is not None:
        return ImageOps.fit(image, (rendition.width, rendition.height), Image.Resampling.LANCZOS)
    if image.width <= rendition.width:
        return image
    height = max(1, round(image.height * rendition.width / image.width))
    return image.resize((rendition.width, height), Image.Resampling.LANCZOS)


def _encoded(image: Image.Image, rendition: Rendition) -> EncodedImage:
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=rendition.quality, method=4)  # no exif= : metadata is dropped
    return EncodedImage(buffer.getvalue(), rendition.folder, image.width, image.height)


# --- bounded image work ------------------------------------------------------------------------------------

def image_workers(app: Flask | None = None) -> threading.BoundedSemaphore:
    """This process's IMAGE_WORKERS slots for decoding and encoding (one set per app)."""
    app = app or current_app._get_current_object()
    key = "tastemaker.image_workers"
    if key not in app.extensions:
        app.extensions.setdefault(key, threading.BoundedSemaphore(max(1, int(app.config["IMAGE_WORKERS"]))))
    return app.extensions[key]


@contextmanager
def image_worker() -> Iterator[None]:
    """Hold one image-work slot, waiting at most IMAGE_WORK_TIMEOUT seconds; Busy (503) if none frees up."""
    slots = image_workers()
    timeout = float(current_app.config["IMAGE_WORK_TIMEOUT"])
    if not slots.acquire(timeout=timeout):
        raise Busy(_("Too many images are being processed right now. Try again in a minute."),
                   retry_after=max(1, math.ceil(timeout)))
    try:
        yield
    finally:
        slots.release()


# --- files under MEDIA_ROOT --------------------------------------------------------------------------------

def store_encoded(encoded: EncodedImage) -> str:
    """Write a prepared rendition under MEDIA_ROOT/its folder; return the path relative to MEDIA_ROOT."""
    relative = f"{encoded.folder}/{uuid.uuid4().hex}.webp"
    target = Path(current_app.config["MEDIA_ROOT"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encoded.data)
    return relative


def store_webp(image: Image.Image, folder: str, quality: int = 85) -> str:
    """Re-encode an image we made ourselves (demo data) as WebP under MEDIA_ROOT/folder."""
    return store_encoded(_encoded(image, Rendition(folder, image.width, quality=quality)))


def delete_media(relative: str | None) -> None:
    if not relative:
        return
    path = Path(current_app.config["MEDIA_ROOT"]) / relative
    path.unlink(missing_ok=True)

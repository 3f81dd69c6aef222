"""app/core/images.py: uploads are checked from their headers, decoded no larger than what is stored, and
decoded a few at a time. Costs of whole requests are measured in tests/posts/test_upload_costs.py."""
from __future__ import annotations

import io
import struct
import threading
import zlib

import pytest
from PIL import Image

from app import create_app
from app.core import images
from app.core.errors import Busy, Invalid
from tests.conftest import make_config

DISPLAY = [images.Rendition("posts", 1080), images.Rendition("posts/thumbs", 360, quality=80)]


@pytest.fixture
def image_ctx(tmp_path):
    """An app context with a media folder; no database is needed."""
    app = create_app(make_config("sqlite://", tmp_path / "media"))
    with app.app_context():
        yield app


def halves(size: tuple[int, int], left=(220, 30, 30), right=(30, 30, 220)) -> Image.Image:
    """Left half one colour, right half another, so orientation shows in what is stored."""
    image = Image.new("RGB", size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def stored(app, encoded_image: images.EncodedImage) -> Image.Image:
    path = app.config["MEDIA_ROOT"] / images.store_encoded(encoded_image)
    with Image.open(path) as image:
        assert image.format == "WEBP"
        return image.convert("RGB")


def test_a_baseline_jpeg_counts_at_the_reduced_size_it_is_decoded_at(image_ctx):
    """2400×1600 is 3.8 MP, but stored 1080 wide a baseline JPEG decodes at half scale: 1200×800, 0.96 MP."""
    image_ctx.config["UPLOAD_IMAGE_MAX_MP"] = 1
    picture = halves((2400, 1600))
    display, thumb = images.prepare_upload(encoded(picture, "JPEG", quality=90), DISPLAY)
    assert (display.width, display.height, thumb.width, thumb.height) == (1080, 720, 360, 240)
    for fmt, params in (("PNG", {}), ("WEBP", {}), ("JPEG", {"progressive": True})):  # decoded at full size
        with pytest.raises(Invalid) as refused:
            images.prepare_upload(encoded(picture, fmt, **params), DISPLAY, field="images")
        assert refused.value.errors == {"images": [
            "This image has too many pixels (3.8 megapixels; at most 1). Use a smaller image."]}


def undecodable_png(size: tuple[int, int]) -> bytes:
    """A PNG whose header and checksums are right but whose pixel data cannot be inflated: only decoding
    it reveals that."""
    header = struct.pack(">IIBBBBB", size[0], size[1], 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"not zlib" * 64) + chunk(b"IEND", b"")


def test_the_request_budget_sums_every_image_before_any_is_decoded(image_ctx):
    image_ctx.config["UPLOAD_PIXEL_BUDGET_MP"] = 2
    small = encoded(halves((1000, 800)), "PNG")  # 0.8 MP each
    assert len(images.prepare_uploads([small, small], DISPLAY)) == 2
    broken = undecodable_png((1000, 800))
    with pytest.raises(Invalid) as refused:
        images.prepare_uploads([broken], DISPLAY)
    assert refused.value.message.startswith("This file is not an image we can read")  # found by decoding
    with pytest.raises(Invalid) as refused:
        images.prepare_uploads([broken, small, small], DISPLAY)
    assert refused.value.message == ("Together these images have too many pixels (2.4 megapixels; at most 2 in "
                                     "one upload). Send fewer or smaller images.")


def test_sideways_photos_are_turned_upright_after_a_reduced_decode(image_ctx):
    """EXIF orientation 6: the camera's left edge is the picture's top."""
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encoded(halves((4000, 3000)), "JPEG", exif=exif.tobytes(), quality=90)
    display, thumb = images.prepare_upload(data, DISPLAY)
    assert (display.width, display.height, thumb.width, thumb.height) == (1080, 1440, 360, 480)
    upright = stored(image_ctx, display)
    top, bottom = upright.getpixel((540, 100)), upright.getpixel((540, 1340))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # red above blue
    with Image.open(image_ctx.config["MEDIA_ROOT"] / images.store_encoded(display)) as written:
        assert "exif" not in written.info


def test_only_the_first_frame_of_an_animation_is_decoded(image_ctx):
    frames = [Image.new("RGB", (400, 300), colour) for colour in ((220, 30, 30), (30, 30, 220))]
    for fmt in ("GIF", "WEBP"):
        data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
        (display, _thumb) = images.prepare_upload(data, DISPLAY)
        red = stored(image_ctx, display).getpixel((200, 150))
        assert red[0] > 150 > red[2], fmt


def test_crops_cover_their_box_from_a_reduced_decode(image_ctx):
    banner = images.Rendition("banners", 1500, 500, mode="RGB")
    (encoded_banner,) = images.prepare_upload(encoded(halves((6000, 4000)), "JPEG"), [banner])
    assert (encoded_banner.width, encoded_banner.height) == (1500, 500)
    avatar = images.Rendition("avatars", 256, 256, mode="RGB")
    (encoded_avatar,) = images.prepare_upload(encoded(halves((100, 80)).convert("P"), "PNG"), [avatar])
    assert stored(image_ctx, encoded_avatar).size == (256, 256)


def test_image_work_waits_for_a_free_worker_then_answers_busy(image_ctx):
    image_ctx.config.update(IMAGE_WORKERS=2, IMAGE_WORK_TIMEOUT=0.05)
    data = encoded(halves((400, 300)), "PNG")
    slots = images.image_workers()
    assert slots.acquire(timeout=1) and slots.acquire(timeout=1)  # two other uploads are being worked on
    try:
        with pytest.raises(Busy) as busy:
            images.prepare_upload(data, DISPLAY)
        assert busy.value.status == 503 and busy.value.retry_after == 1
        assert busy.value.message == "Too many images are being processed right now. Try again in a minute."
        assert images.prepare_uploads([], DISPLAY) == []  # an edit without new images does not wait
        slots.release()  # one finishes: the next upload gets its turn
        assert len(images.prepare_upload(data, DISPLAY)) == 2
    finally:
        slots.release()


def test_no_more_than_image_workers_decode_at_once(image_ctx, monkeypatch):
    image_ctx.config.update(IMAGE_WORKERS=2, IMAGE_WORK_TIMEOUT=30)
    active, most, lock = [0], [0], threading.Lock()
    render = images._render

    def counting_render(*args, **kwargs):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            return render(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(images, "_render", counting_render)
    data = encoded(halves((2000, 1500)), "PNG")
    failures = []

    def upload():
        with image_ctx.app_context():
            try:
                images.prepare_upload(data, DISPLAY)
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and most[0] <= 2

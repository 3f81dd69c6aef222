"""Fixtures for posts: images made in memory, a community, and people."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import factories


def image_bytes(size=(800, 1000), colour=(200, 80, 120), fmt="PNG", exif=False) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, colour)
    if exif:
        data = image.getexif()
        data[0x010F] = "SpyCam"  # Make
        data[0x0131] = "SecretPhone 1.0"  # Software
        image.save(buffer, "JPEG", exif=data.tobytes())
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def community(ctx):
    return factories.community("trail-runners")


@pytest.fixture
def author(ctx):
    return factories.user("author")


@pytest.fixture
def reader(ctx):
    return factories.user("reader1")


def publish(author, community, title="Sunrise on the ridge", body="Fresh air #hiking", **fields):
    from app.posts.services import create_post

    fields.setdefault("images", [image_bytes()])
    return create_post(author, community_slug=community.slug, title=title, body=body, **fields)

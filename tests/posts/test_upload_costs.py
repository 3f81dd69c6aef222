"""What an image upload may cost the server: the finding was nine 6000×6000 PNGs in a 1 MB request taking
20 s and 1.4 GB. These measure the peak resident memory of publishing a note in a fresh interpreter
(tests/posts/upload_peak.py), against the bounds documented in app/core/images.py."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageOps

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFUSED_PEAK_MB = 40  # refused from the headers: nothing is decoded
ALLOWED_PEAK_MB = 300  # the largest request the defaults let through, decoded one image at a time


def gradient(size: tuple[int, int]) -> Image.Image:
    """A smooth greyscale picture: cheap to compress, like the attack's images, but not a flat colour."""
    return Image.linear_gradient("L").resize(size)


def encoded(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def measure(tmp_path: Path, uploads: list[bytes]) -> dict:
    names = []
    for index, data in enumerate(uploads):
        names.append(f"upload{index}")
        (tmp_path / names[-1]).write_bytes(data)
    (tmp_path / "uploads.json").write_text(json.dumps(names))
    run = subprocess.run([sys.executable, "-m", "tests.posts.upload_peak", str(tmp_path)], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("side", "refusal"), [
    (6000, "This image has too many pixels (36 megapixels; at most 16)"),  # the finding's request
    (4000, "Together these images have too many pixels (144 megapixels; at most 60 in one upload)"),
])
def test_nine_huge_pngs_are_refused_from_their_headers_without_decoding(tmp_path, side, refusal):
    g = gradient((side, side))
    png = encoded(Image.merge("RGB", (g, ImageOps.invert(g), g)), "PNG")
    assert len(png) * 9 < 2 * 1024 * 1024  # a small request, as in the finding
    result = measure(tmp_path, [png] * 9)
    assert result["outcome"].startswith(refusal), result
    assert result["peak_mb"] < REFUSED_PEAK_MB, result
    assert result["seconds"] < 2, result


def test_the_largest_allowed_request_stays_under_the_documented_peak(tmp_path):
    """Three images at the per-image ceiling (16 MP) in the formats that cost most per pixel, and six 24 MP
    camera JPEGs, which count 1.5 MP each as they decode at 1/4 scale: 57 of the 60 MP budget."""
    g = gradient((4000, 4000))
    webp = encoded(Image.merge("RGBA", (g, ImageOps.invert(g), g, g)), "WEBP", lossless=True)
    grey_alpha = encoded(Image.merge("LA", (g, ImageOps.invert(g))), "PNG")
    palette = encoded(g.convert("P"), "PNG")
    g = gradient((6000, 4000))
    photo = encoded(Image.merge("RGB", (g, ImageOps.invert(g), g)), "JPEG", quality=90)
    result = measure(tmp_path, [webp, grey_alpha, palette] + [photo] * 6)
    assert result["outcome"] == "published 9 images", result
    assert result["peak_mb"] < ALLOWED_PEAK_MB, result

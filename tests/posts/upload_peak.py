"""Publish one note with the images listed in FOLDER/uploads.json and print, as JSON, how far that raised
this process's peak resident memory above what it was just before (Linux: /proc/self/clear_refs resets
the kernel's high-water mark), how long it took and what came of it.

test_upload_costs.py runs this in a fresh interpreter (`python -m tests.posts.upload_peak FOLDER`): Pillow
allocates pixels with C malloc, which tracemalloc does not see, and memory freed by earlier tests would
hide the peak of an in-process measurement.
"""
from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path


def _status_mb(field: str) -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


def reset_peak() -> float:
    """Make the kernel's high-water mark the current resident size (Linux); return that size in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_mb() -> float:
    return _status_mb("VmHWM")


def main(folder: Path) -> None:
    from PIL import Image

    from app import create_app
    from app.core.errors import DomainError
    from app.extensions import db
    from app.posts.services import create_post
    from tests import factories
    from tests.conftest import make_config

    app = create_app(make_config(f"sqlite:///{folder / 'peak.db'}", folder / "media"))
    uploads = [(folder / name).read_bytes() for name in json.loads((folder / "uploads.json").read_text())]
    small = io.BytesIO()
    Image.new("RGB", (400, 300), (90, 140, 60)).save(small, "PNG")
    with app.app_context():
        db.create_all()
        author, community = factories.user("peak"), factories.community("peaks")
        # Warm up (lazy imports, the first WebP encode) so they do not count as the upload's cost.
        create_post(author, community_slug=community.slug, title="Warm-up", images=[small.getvalue()])
        before, started = reset_peak(), time.perf_counter()
        try:
            post = create_post(author, community_slug=community.slug, title="Peak", images=uploads)
            outcome = f"published {len(post.images)} images"
        except DomainError as exc:
            outcome = exc.message
        result = {"peak_mb": round(peak_mb() - before, 1), "seconds": round(time.perf_counter() - started, 2),
                  "outcome": outcome}
    print(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))

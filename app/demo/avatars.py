"""Generated avatars: a soft two-colour gradient disc with the user's initials."""
from __future__ import annotations

import colorsys
import random

from PIL import Image, ImageDraw, ImageFont

SIZE = 256


def _colour(hue: float, lightness: float, saturation: float = 0.55) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return int(r * 255), int(g * 255), int(b * 255)


def make_avatar(initials: str, rng: random.Random) -> Image.Image:
    """A square RGB avatar; the same rng state gives the same picture."""
    hue = rng.random()
    top, bottom = _colour(hue, 0.72), _colour(hue + rng.uniform(0.08, 0.2), 0.45)
    image = Image.new("RGB", (SIZE, SIZE))
    draw = ImageDraw.Draw(image)
    for y in range(SIZE):
        t = y / (SIZE - 1)
        draw.line([(0, y), (SIZE, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    # A few translucent circles so avatars do not all look alike.
    overlay = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    for _ in range(3):
        radius = rng.randint(30, 90)
        x, y = rng.randint(0, SIZE), rng.randint(0, SIZE)
        shapes.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(255, 255, 255, rng.randint(25, 60)))
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    font = ImageFont.load_default(size=104)
    draw = ImageDraw.Draw(image)
    draw.text((SIZE / 2, SIZE / 2 + 4), initials.upper()[:2], font=font, fill=(255, 255, 255), anchor="mm")
    return image

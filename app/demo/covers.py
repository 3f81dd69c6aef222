"""Generated pictures for demo notes and products, drawn locally with Pillow (no network, no assets).

A note's cover shows what its title is about: a product on a soft studio backdrop with its shadow (a sunscreen
tube, a tent, headphones…), a table seen from above for food, a small landscape for a place; the title sits on
a card at the bottom like a Xiaohongshu cover. A product picture is the same kind of object, square, with its
name on the label. Everything comes from (title or label, vertical, seed), so a picture can be drawn again.
Speed matters (the demo draws thousands): backgrounds come from cached gradients, shapes are drawn straight
onto the picture (translucent ones blended by ImageDraw), and the only blur is a shadow sprite drawn once.
"""
from __future__ import annotations

import colorsys
import math
import random
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
LATIN_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",  # its Latin letters match the Chinese ones
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)

SUPERSAMPLE = 2  # an object is drawn at twice its size and reduced, which smooths its edges

# Per vertical: backdrop colours (wall top, wall bottom) and the colours its objects come in.
PALETTES = {
    "beauty": ([(251, 228, 230), (244, 214, 220), (250, 236, 226), (236, 228, 244)],
               [(238, 150, 160), (250, 246, 240), (200, 224, 210), (246, 196, 150), (190, 172, 226), (232, 120, 120)]),
    "mother_baby": ([(226, 240, 248), (250, 238, 222), (236, 246, 232), (246, 234, 244)],
                    [(140, 190, 226), (246, 202, 120), (170, 214, 180), (240, 170, 180), (250, 250, 246)]),
    "outdoor": ([(228, 236, 226), (240, 232, 216), (222, 232, 238)],
                [(96, 128, 88), (226, 120, 60), (60, 86, 120), (200, 170, 90), (170, 60, 50)]),
    "digital": ([(232, 236, 244), (240, 240, 240), (226, 232, 240), (244, 238, 232)],
                [(48, 52, 60), (236, 236, 238), (96, 130, 190), (200, 210, 220), (60, 140, 130)]),
    "food": ([(236, 214, 186), (226, 200, 170), (240, 232, 220), (214, 190, 160)],
             [(200, 60, 40), (250, 244, 236), (120, 80, 50), (230, 180, 90)]),
    "travel": ([(200, 226, 244), (250, 220, 196), (214, 222, 246)],
               [(70, 90, 110), (230, 190, 80), (60, 130, 160), (200, 90, 70)]),
    "fashion": ([(240, 234, 226), (232, 228, 236), (244, 236, 232), (226, 232, 230)],
                [(196, 164, 120), (70, 90, 130), (250, 250, 248), (140, 40, 50), (60, 60, 64), (200, 180, 200)]),
    "home": ([(240, 234, 224), (232, 236, 230), (244, 238, 232), (230, 232, 240)],
             [(206, 190, 170), (150, 170, 150), (120, 140, 170), (230, 200, 160), (180, 110, 90)]),
}


@lru_cache(maxsize=16)
def _font(size: int, cjk: bool) -> ImageFont.ImageFont:
    for candidate in CJK_FONT_CANDIDATES if cjk else LATIN_FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    if cjk:
        return _font(size, False)
    return ImageFont.load_default(size=size)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def can_draw(text: str) -> bool:
    """Pillow's built-in font has no Chinese glyphs; without a system CJK font we draw the picture only."""
    return not _has_cjk(text) or any(Path(c).exists() for c in CJK_FONT_CANDIDATES)


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(int(c * factor) for c in colour)
    t = min(1.0, factor - 1)
    return tuple(int(c + (255 - c) * t) for c in colour)


def _jitter(colour: tuple[int, int, int], rng: random.Random, amount: float = 0.04) -> tuple[int, int, int]:
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in colour))
    r, g, b = colorsys.hls_to_rgb((h + rng.uniform(-amount, amount)) % 1, lightness, s)
    return int(r * 255), int(g * 255), int(b * 255)


# --- backgrounds (cached gradients, so a picture starts from a copy) ---------------------------------------------

@lru_cache(maxsize=8)
def _ramp(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size)


@lru_cache(maxsize=64)
def _studio(size: tuple[int, int], wall: tuple[int, int, int], floor_at: float) -> Image.Image:
    """A seamless studio sweep: a wall fading into a slightly darker floor."""
    w, h = size
    top, bottom = _shade(wall, 1.08), _shade(wall, 0.9)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), _ramp(size))
    floor = Image.new("RGB", (w, h - int(h * floor_at)), _shade(wall, 0.86))
    mask = _ramp((w, floor.size[1])).point(lambda v: 90 + v // 3)
    image.paste(floor, (0, int(h * floor_at)), mask)
    return image


@lru_cache(maxsize=8)
def _shadow_sprite(width: int, height: int) -> Image.Image:
    """A soft elliptical contact shadow, blurred once and reused as a paste mask."""
    sprite = Image.new("L", (width * 2, height * 4), 0)
    ImageDraw.Draw(sprite).ellipse([width // 2, height * 3 // 2, width * 3 // 2, height * 5 // 2], fill=120)
    return sprite.filter(ImageFilter.GaussianBlur(max(2, height // 2)))


def _drop_shadow(image: Image.Image, cx: int, base_y: int, width: int) -> None:
    width = max(8, width - width % 4)
    height = max(4, width // 7)
    sprite = _shadow_sprite(width, height)
    image.paste((60, 50, 50), (cx - width, base_y - height * 2), sprite)


# --- the pen: unit-box coordinates (0..1 across the object's box) mapped to pixels --------------------------------

class Pen:
    def __init__(self, draw: ImageDraw.ImageDraw, x: float, y: float, w: float, h: float):
        self.d, self.x, self.y, self.w, self.h = draw, x, y, w, h

    def p(self, u: float, v: float) -> tuple[float, float]:
        return self.x + u * self.w, self.y + v * self.h

    def box(self, u0, v0, u1, v1) -> list[float]:
        x0, y0 = self.p(u0, v0)
        x1, y1 = self.p(u1, v1)
        return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]

    def rect(self, u0, v0, u1, v1, fill, r: float = 0.0, outline=None, width: int = 0):
        radius = int(r * self.w)
        self.d.rounded_rectangle(self.box(u0, v0, u1, v1), radius=radius, fill=fill, outline=outline, width=width)

    def ell(self, u0, v0, u1, v1, fill, outline=None, width: int = 0):
        self.d.ellipse(self.box(u0, v0, u1, v1), fill=fill, outline=outline, width=width)

    def circ(self, u, v, r, fill, outline=None, width: int = 0):
        x, y = self.p(u, v)
        rr = r * self.w
        self.d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=fill, outline=outline, width=width)

    def poly(self, points, fill):
        self.d.polygon([self.p(u, v) for u, v in points], fill=fill)

    def line(self, points, fill, width: float):
        self.d.line([self.p(u, v) for u, v in points], fill=fill, width=max(1, int(width * self.w)), joint="curve")

    def arc(self, u0, v0, u1, v1, start, end, fill, width: float):
        self.d.arc(self.box(u0, v0, u1, v1), start, end, fill=fill, width=max(1, int(width * self.w)))

    def pie(self, u0, v0, u1, v1, start, end, fill):
        self.d.pieslice(self.box(u0, v0, u1, v1), start, end, fill=fill)

    def chord(self, u0, v0, u1, v1, start, end, fill):
        self.d.chord(self.box(u0, v0, u1, v1), start, end, fill=fill)

    def leaf(self, u, v, angle: float, length: float, width: float, fill):
        """A pointed leaf from (u, v) along `angle` (degrees, 0 = right, 90 = up); sizes in box widths."""
        x, y = self.p(u, v)
        a = math.radians(angle)
        dx, dy = math.cos(a), -math.sin(a)
        length, width = length * self.w, width * self.w
        side = []
        for i in range(1, 8):
            t = i / 8
            half = math.sin(math.pi * t) * width / 2
            side.append((t * length, half))
        outline = [(x, y)] + [(x + dx * s - dy * o, y + dy * s + dx * o) for s, o in side]
        outline += [(x + dx * length, y + dy * length)]
        outline += [(x + dx * s + dy * o, y + dy * s - dx * o) for s, o in reversed(side)]
        self.d.polygon(outline, fill=fill)


HL = (255, 255, 255, 70)  # highlight
SH = (0, 0, 0, 38)  # soft shade


class Colours:
    """The colours one picture is drawn in."""

    def __init__(self, body, accent, rng: random.Random):
        self.body, self.accent = body, accent
        self.dark = _shade(body, 0.55)
        self.light = _shade(body, 1.45)
        self.white = (250, 248, 244)
        self.ink = (44, 42, 48)
        self.metal = rng.choice([(206, 206, 210), (214, 190, 140), (40, 40, 44)])
        self.glass = rng.choice([(176, 112, 60), (232, 236, 232), (196, 214, 226)])


# --- objects: each draws into its box and returns the label area (unit box) or None -----------------------------

def _tube(pen: Pen, c: Colours, rng):
    pen.rect(0.3, 0.8, 0.7, 1.0, c.metal if rng.random() < 0.3 else c.dark, r=0.04)
    pen.poly([(0.29, 0.82), (0.71, 0.82), (0.84, 0.07), (0.16, 0.07)], c.body)
    pen.rect(0.15, 0.0, 0.85, 0.08, _shade(c.body, 0.9), r=0.01)
    for i in range(6):
        pen.line([(0.2 + i * 0.12, 0.01), (0.2 + i * 0.12, 0.07)], SH, 0.01)
    pen.poly([(0.24, 0.1), (0.3, 0.1), (0.36, 0.78), (0.33, 0.78)], HL)
    return (0.3, 0.32, 0.7, 0.56)


def _dropper(pen: Pen, c: Colours, rng):
    pen.rect(0.2, 0.38, 0.8, 1.0, c.glass, r=0.14)
    pen.rect(0.24, 0.5, 0.76, 0.97, _shade(c.glass, 0.85), r=0.12)
    pen.rect(0.34, 0.27, 0.66, 0.41, c.metal, r=0.03)
    pen.rect(0.39, 0.02, 0.61, 0.29, c.dark, r=0.1)
    pen.line([(0.28, 0.48), (0.28, 0.9)], HL, 0.04)
    return (0.27, 0.58, 0.73, 0.84)


def _jar(pen: Pen, c: Colours, rng):
    pen.rect(0.06, 0.44, 0.94, 1.0, c.body, r=0.12)
    pen.rect(0.03, 0.26, 0.97, 0.47, c.metal if rng.random() < 0.5 else c.dark, r=0.05)
    pen.rect(0.03, 0.42, 0.97, 0.47, SH)
    pen.line([(0.14, 0.52), (0.14, 0.9)], HL, 0.04)
    return (0.2, 0.58, 0.8, 0.86)


def _pump(pen: Pen, c: Colours, rng):
    pen.rect(0.22, 0.32, 0.78, 1.0, c.glass, r=0.1)
    pen.rect(0.26, 0.5, 0.74, 0.97, _shade(c.glass, 0.9), r=0.08)
    pen.rect(0.36, 0.22, 0.64, 0.34, c.dark, r=0.02)
    pen.rect(0.46, 0.08, 0.54, 0.24, c.dark)
    pen.rect(0.42, 0.04, 0.86, 0.11, c.dark, r=0.02)
    pen.line([(0.3, 0.4), (0.3, 0.92)], HL, 0.04)
    return (0.29, 0.56, 0.71, 0.8)


def _lipstick(pen: Pen, c: Colours, rng):
    lip = rng.choice([(190, 40, 60), (214, 90, 90), (160, 60, 70), (226, 110, 120)])
    pen.rect(0.05, 0.62, 0.3, 1.0, c.metal, r=0.03)  # the cap, standing beside it
    pen.rect(0.4, 0.55, 0.8, 1.0, c.metal, r=0.03)
    pen.rect(0.45, 0.36, 0.75, 0.57, _shade(c.metal, 0.8), r=0.01)
    pen.poly([(0.47, 0.37), (0.73, 0.37), (0.73, 0.16), (0.47, 0.04)], lip)
    pen.line([(0.44, 0.6), (0.44, 0.96)], HL, 0.03)
    return None


def _square_bottle(pen: Pen, c: Colours, rng):
    pen.rect(0.18, 0.36, 0.82, 1.0, c.glass if rng.random() < 0.4 else c.body, r=0.05)
    pen.rect(0.24, 0.44, 0.76, 0.94, (*_shade(c.body, 1.1), 200), r=0.03)
    pen.rect(0.3, 0.06, 0.7, 0.37, c.dark, r=0.04)
    pen.line([(0.24, 0.42), (0.24, 0.94)], HL, 0.03)
    return (0.28, 0.58, 0.72, 0.8)


def _sachet(pen: Pen, c: Colours, rng):
    pen.rect(0.08, 0.04, 0.92, 0.98, c.body, r=0.04)
    for i in range(15):
        pen.line([(0.1 + i * 0.055, 0.05), (0.1 + i * 0.055, 0.1)], SH, 0.008)
    pen.ell(0.3, 0.28, 0.7, 0.74, c.light)
    pen.ell(0.38, 0.42, 0.46, 0.47, c.body)
    pen.ell(0.54, 0.42, 0.62, 0.47, c.body)
    pen.arc(0.42, 0.5, 0.58, 0.64, 20, 160, c.body, 0.015)
    return (0.18, 0.78, 0.82, 0.92)


def _stroller(pen: Pen, c: Colours, rng):
    pen.line([(0.2, 0.5), (0.3, 0.9)], c.dark, 0.025)
    pen.line([(0.74, 0.48), (0.7, 0.9)], c.dark, 0.025)
    pen.line([(0.74, 0.48), (0.96, 0.1)], c.dark, 0.03)
    pen.rect(0.9, 0.06, 1.0, 0.12, c.dark, r=0.02)
    pen.chord(0.12, 0.12, 0.82, 0.72, 0, 180, c.body)
    pen.pie(0.08, 0.06, 0.62, 0.62, 180, 290, c.accent)
    pen.rect(0.16, 0.36, 0.78, 0.44, c.light, r=0.02)
    for u in (0.3, 0.7):
        pen.circ(u, 0.9, 0.09, c.ink)
        pen.circ(u, 0.9, 0.035, c.metal)
    return None


def _diaper_pack(pen: Pen, c: Colours, rng):
    pen.rect(0.1, 0.08, 0.9, 1.0, c.body, r=0.06)
    pen.rect(0.38, 0.12, 0.62, 0.18, _shade(c.body, 0.8), r=0.03)
    pen.ell(0.2, 0.26, 0.8, 0.72, c.white)
    pen.circ(0.5, 0.44, 0.12, (246, 212, 186))
    pen.ell(0.38, 0.52, 0.62, 0.66, c.light)
    pen.rect(0.1, 0.08, 0.9, 0.2, HL, r=0.06)
    return (0.2, 0.78, 0.8, 0.92)


def _baby_bottle(pen: Pen, c: Colours, rng):
    pen.rect(0.26, 0.34, 0.74, 1.0, (238, 240, 240), r=0.16)
    pen.rect(0.3, 0.56, 0.7, 0.97, (250, 246, 232), r=0.12)
    for i in range(4):
        pen.line([(0.62, 0.5 + i * 0.1), (0.7, 0.5 + i * 0.1)], c.dark, 0.012)
    pen.rect(0.22, 0.24, 0.78, 0.36, c.body, r=0.03)
    pen.poly([(0.36, 0.25), (0.64, 0.25), (0.56, 0.08), (0.44, 0.08)], (232, 206, 160))
    pen.circ(0.5, 0.08, 0.06, (232, 206, 160))
    pen.line([(0.32, 0.4), (0.32, 0.92)], HL, 0.04)
    return None


def _car_seat(pen: Pen, c: Colours, rng):
    pen.rect(0.1, 0.84, 0.92, 1.0, c.ink, r=0.04)
    pen.poly([(0.14, 0.88), (0.2, 0.06), (0.48, 0.02), (0.52, 0.5), (0.92, 0.56), (0.9, 0.88)], c.body)
    pen.poly([(0.22, 0.84), (0.27, 0.14), (0.43, 0.12), (0.46, 0.58), (0.84, 0.62), (0.82, 0.84)], _shade(c.body, 0.8))
    pen.line([(0.3, 0.3), (0.5, 0.7), (0.7, 0.66)], c.dark, 0.03)
    pen.line([(0.21, 0.1), (0.2, 0.8)], HL, 0.03)
    return None


def _blender(pen: Pen, c: Colours, rng):
    pen.rect(0.2, 0.72, 0.8, 1.0, c.body, r=0.06)
    pen.circ(0.5, 0.86, 0.05, c.light)
    pen.poly([(0.24, 0.72), (0.76, 0.72), (0.8, 0.14), (0.2, 0.14)], (224, 234, 236))
    pen.poly([(0.27, 0.7), (0.73, 0.7), (0.75, 0.46), (0.25, 0.46)], (240, 200, 120))
    pen.rect(0.18, 0.06, 0.82, 0.16, c.dark, r=0.03)
    pen.line([(0.28, 0.2), (0.3, 0.66)], HL, 0.04)
    return None


def _carrier(pen: Pen, c: Colours, rng):
    pen.arc(0.1, -0.1, 0.5, 0.5, 180, 360, c.dark, 0.05)
    pen.arc(0.5, -0.1, 0.9, 0.5, 180, 360, c.dark, 0.05)
    pen.rect(0.2, 0.14, 0.8, 0.8, c.body, r=0.2)
    pen.rect(0.28, 0.2, 0.72, 0.5, c.light, r=0.12)
    pen.rect(0.02, 0.74, 0.98, 0.92, c.dark, r=0.06)
    pen.rect(0.44, 0.76, 0.56, 0.9, c.metal, r=0.02)
    return None


def _tent(pen: Pen, c: Colours, rng):
    pen.chord(0.0, 0.1, 1.0, 1.9, 180, 360, c.body)
    pen.pie(0.28, 0.36, 0.72, 1.64, 180, 360, _shade(c.body, 0.6))
    pen.pie(0.34, 0.52, 0.66, 1.48, 180, 360, (255, 214, 140, 170))
    pen.line([(0.5, 0.1), (0.5, 1.0)], _shade(c.body, 0.8), 0.012)
    pen.line([(0.02, 0.95), (-0.14, 1.0)], c.ink, 0.006)
    pen.line([(0.98, 0.95), (1.14, 1.0)], c.ink, 0.006)
    pen.arc(0.06, 0.14, 0.94, 1.86, 200, 250, HL, 0.03)
    return None


def _boot(pen: Pen, c: Colours, rng):
    pen.poly([(0.22, 0.04), (0.56, 0.04), (0.6, 0.5), (0.94, 0.66), (0.98, 0.88), (0.12, 0.88), (0.16, 0.5)], c.body)
    pen.poly([(0.2, 0.3), (0.58, 0.3), (0.6, 0.5), (0.94, 0.66), (0.98, 0.8), (0.14, 0.8)], _shade(c.body, 0.75))
    pen.rect(0.1, 0.84, 1.0, 1.0, c.ink, r=0.04)
    pen.rect(0.2, 0.0, 0.58, 0.08, c.dark, r=0.03)
    for i in range(5):
        v = 0.12 + i * 0.09
        pen.line([(0.5, v), (0.62 + i * 0.02, v + 0.05)], c.accent, 0.02)
    return None


def _garment(pen: Pen, c: Colours, rng, sleeves: str = "long", length: float = 0.9, zip_: bool = False,
             belt: bool = False, hood: bool = False, collar: bool = False):
    pen.arc(0.42, -0.06, 0.58, 0.06, 180, 360, c.metal, 0.012)
    if not hood:
        pen.line([(0.5, 0.06), (0.2, 0.16), (0.8, 0.16)], c.metal, 0.01)
    if sleeves == "long":
        pen.poly([(0.24, 0.14), (0.04, 0.3), (0.0, 0.78), (0.13, 0.8), (0.2, 0.42)], _shade(c.body, 0.9))
        pen.poly([(0.76, 0.14), (0.96, 0.3), (1.0, 0.78), (0.87, 0.8), (0.8, 0.42)], _shade(c.body, 0.9))
    else:
        pen.poly([(0.24, 0.14), (0.04, 0.26), (0.1, 0.4), (0.22, 0.34)], _shade(c.body, 0.9))
        pen.poly([(0.76, 0.14), (0.96, 0.26), (0.9, 0.4), (0.78, 0.34)], _shade(c.body, 0.9))
    pen.poly([(0.24, 0.12), (0.4, 0.08), (0.6, 0.08), (0.76, 0.12), (0.8, length), (0.2, length)], c.body)
    if hood:
        pen.pie(0.34, -0.04, 0.66, 0.26, 180, 360, _shade(c.body, 0.8))
    else:
        pen.chord(0.4, 0.0, 0.6, 0.16, 0, 180, _shade(c.body, 0.7))
    if collar:
        pen.poly([(0.4, 0.08), (0.5, 0.36), (0.3, 0.2)], _shade(c.body, 0.85))
        pen.poly([(0.6, 0.08), (0.5, 0.36), (0.7, 0.2)], _shade(c.body, 0.85))
    if zip_:
        pen.line([(0.5, 0.1), (0.5, length)], c.dark, 0.012)
    if belt:
        pen.rect(0.2, 0.46, 0.8, 0.51, _shade(c.body, 0.8))
    if not zip_ and not belt:
        pen.rect(0.2, length - 0.05, 0.8, length, _shade(c.body, 0.85))
    pen.line([(0.28, 0.2), (0.26, length - 0.06)], HL, 0.02)
    return None


def _sleeping_bag(pen: Pen, c: Colours, rng):
    pen.rect(0.06, 0.3, 0.8, 0.9, c.body, r=0.04)
    for i in range(4):
        pen.line([(0.2 + i * 0.16, 0.31), (0.2 + i * 0.16, 0.89)], _shade(c.body, 0.8), 0.012)
    pen.ell(0.62, 0.3, 0.98, 0.9, _shade(c.body, 0.85))
    for k in range(3):
        pen.ell(0.67 + k * 0.05, 0.38 + k * 0.08, 0.93 - k * 0.05, 0.82 - k * 0.08, None, outline=c.dark, width=3)
    pen.rect(0.3, 0.26, 0.38, 0.94, c.dark, r=0.01)
    return None


def _poles(pen: Pen, c: Colours, rng):
    for (u0, u1) in ((0.3, 0.5), (0.5, 0.72)):
        pen.line([(u0, 0.08), (u1, 1.0)], c.metal, 0.025)
        joint = u0 + (u1 - u0) * 0.35
        pen.line([(joint, 0.4), (joint + (u1 - u0) * 0.01, 0.41)], c.ink, 0.04)
        pen.rect(u0 - 0.04, 0.04, u0 + 0.04, 0.28, c.ink, r=0.03)
        pen.arc(u0 - 0.1, 0.0, u0 + 0.04, 0.16, 90, 300, c.accent, 0.015)
        pen.circ(u1, 0.96, 0.035, c.dark)
    return None


def _headlamp(pen: Pen, c: Colours, rng):
    pen.ell(0.04, 0.2, 0.96, 0.9, None, outline=c.body, width=max(6, int(pen.w * 0.06)))
    pen.rect(0.3, 0.56, 0.7, 0.94, c.dark, r=0.08)
    pen.circ(0.5, 0.75, 0.13, (255, 246, 200))
    pen.circ(0.5, 0.75, 0.07, (255, 255, 240))
    pen.rect(0.62, 0.6, 0.67, 0.66, c.accent, r=0.01)
    return None


def _backpack(pen: Pen, c: Colours, rng):
    pen.arc(0.3, -0.02, 0.7, 0.2, 180, 360, c.dark, 0.03)
    pen.rect(0.14, 0.08, 0.86, 1.0, c.body, r=0.16)
    pen.rect(0.12, 0.06, 0.88, 0.32, _shade(c.body, 0.85), r=0.14)
    pen.rect(0.26, 0.52, 0.74, 0.92, _shade(c.body, 0.9), r=0.1)
    pen.line([(0.3, 0.62), (0.7, 0.62)], c.dark, 0.012)
    pen.rect(0.44, 0.3, 0.56, 0.36, c.accent, r=0.01)
    pen.line([(0.2, 0.2), (0.2, 0.9)], HL, 0.03)
    return None


def _headphones(pen: Pen, c: Colours, rng):
    pen.arc(0.12, 0.02, 0.88, 0.9, 180, 360, c.body, 0.07)
    pen.arc(0.16, 0.06, 0.84, 0.86, 200, 340, _shade(c.body, 0.8), 0.02)
    for u in (0.04, 0.7):
        pen.rect(u, 0.4, u + 0.26, 0.86, _shade(c.body, 0.85), r=0.1)
        pen.rect(u + (0.14 if u < 0.5 else 0.0), 0.44, u + (0.26 if u < 0.5 else 0.12), 0.82, c.dark, r=0.06)
    pen.line([(0.08, 0.46), (0.08, 0.78)], HL, 0.02)
    return None


def _keyboard(pen: Pen, c: Colours, rng):
    pen.rect(0.0, 0.2, 1.0, 0.86, c.body, r=0.04)
    key = _shade(c.body, 1.25) if sum(c.body) < 300 else _shade(c.body, 0.9)
    for row in range(5):
        v = 0.26 + row * 0.115
        u = 0.04
        while u < 0.9:
            width = 0.058 if not (row == 4 and 0.3 < u < 0.5) else 0.36
            pen.rect(u, v, min(u + width, 0.96), v + 0.09, key, r=0.01)
            u += width + 0.012
    pen.rect(0.82, 0.26, 0.96, 0.35, c.accent, r=0.01)
    return None


def _camera(pen: Pen, c: Colours, rng):
    pen.rect(0.3, 0.1, 0.56, 0.3, c.dark, r=0.03)
    pen.rect(0.0, 0.22, 1.0, 0.86, c.dark, r=0.06)
    pen.rect(0.0, 0.36, 1.0, 0.78, c.body if c.body != c.dark else (70, 70, 74), r=0.0)
    pen.circ(0.5, 0.56, 0.27, (34, 34, 38))
    pen.circ(0.5, 0.56, 0.2, (70, 74, 84))
    pen.circ(0.5, 0.56, 0.12, (30, 40, 60))
    pen.circ(0.46, 0.52, 0.04, (200, 210, 230))
    pen.rect(0.76, 0.14, 0.88, 0.22, c.metal, r=0.02)
    return None


def _tablet(pen: Pen, c: Colours, rng):
    pen.rect(0.1, 0.0, 0.9, 1.0, c.ink, r=0.06)
    pen.rect(0.14, 0.04, 0.86, 0.96, c.accent, r=0.02)
    pen.rect(0.14, 0.5, 0.86, 0.96, _shade(c.accent, 0.8), r=0.02)
    pen.circ(0.66, 0.3, 0.09, _shade(c.accent, 1.4))
    pen.line([(0.94, 0.1), (0.98, 0.9)], (236, 236, 236), 0.03)
    return None


def _power_bank(pen: Pen, c: Colours, rng):
    pen.rect(0.22, 0.04, 0.78, 1.0, c.body, r=0.1)
    pen.rect(0.38, 0.0, 0.62, 0.05, c.dark, r=0.02)
    for i in range(4):
        pen.circ(0.42 + i * 0.05, 0.86, 0.012, (120, 220, 160) if i < 3 else c.dark)
    pen.line([(0.28, 0.12), (0.28, 0.9)], HL, 0.03)
    return (0.3, 0.36, 0.7, 0.56)


def _watch(pen: Pen, c: Colours, rng):
    pen.rect(0.34, 0.0, 0.66, 1.0, c.body, r=0.1)
    pen.rect(0.24, 0.26, 0.76, 0.74, c.metal, r=0.12)
    pen.rect(0.28, 0.3, 0.72, 0.7, (20, 22, 28), r=0.1)
    pen.arc(0.34, 0.36, 0.66, 0.64, 200, 100, c.accent, 0.04)
    pen.rect(0.76, 0.4, 0.8, 0.5, c.metal, r=0.01)
    return None


def _speaker(pen: Pen, c: Colours, rng):
    pen.rect(0.22, 0.06, 0.78, 1.0, c.body, r=0.2)
    for row in range(10):
        for col in range(6):
            pen.circ(0.32 + col * 0.072, 0.2 + row * 0.07, 0.012, _shade(c.body, 0.7))
    pen.rect(0.22, 0.06, 0.78, 0.14, _shade(c.body, 0.8), r=0.1)
    return None


def _phone_case(pen: Pen, c: Colours, rng):
    pen.rect(0.24, 0.0, 0.76, 1.0, c.body, r=0.1)
    pen.rect(0.3, 0.05, 0.52, 0.27, _shade(c.body, 0.8), r=0.05)
    for u, v in ((0.36, 0.11), (0.46, 0.11), (0.36, 0.21)):
        pen.circ(u, v, 0.035, c.ink)
    pen.line([(0.28, 0.3), (0.28, 0.94)], HL, 0.02)
    return None


def _cable(pen: Pen, c: Colours, rng):
    for k in range(4):
        pen.ell(0.12 + k * 0.03, 0.2 + k * 0.03, 0.82 - k * 0.03, 0.9 - k * 0.03, None, outline=c.body,
                width=max(3, int(pen.w * 0.025)))
    pen.line([(0.8, 0.55), (0.98, 0.3)], c.body, 0.025)
    pen.rect(0.9, 0.14, 1.0, 0.32, c.metal, r=0.02)
    return None


def _pouch(pen: Pen, c: Colours, rng):
    pen.poly([(0.16, 0.08), (0.84, 0.08), (0.9, 1.0), (0.1, 1.0)], c.body)
    pen.rect(0.14, 0.02, 0.86, 0.12, _shade(c.body, 0.85), r=0.01)
    pen.line([(0.16, 0.16), (0.84, 0.16)], c.dark, 0.01)
    pen.ell(0.26, 0.3, 0.74, 0.6, c.white)
    pen.circ(0.5, 0.45, 0.12, c.accent)
    pen.line([(0.2, 0.2), (0.16, 0.92)], HL, 0.03)
    return (0.2, 0.68, 0.8, 0.86)


def _tin(pen: Pen, c: Colours, rng):
    pen.rect(0.18, 0.12, 0.82, 1.0, c.body, r=0.04)
    pen.rect(0.16, 0.06, 0.84, 0.22, _shade(c.body, 0.8), r=0.03)
    pen.rect(0.18, 0.4, 0.82, 0.7, c.white)
    pen.circ(0.5, 0.55, 0.08, c.accent)
    pen.line([(0.24, 0.24), (0.24, 0.94)], HL, 0.03)
    return (0.22, 0.76, 0.78, 0.94)


def _gift_box(pen: Pen, c: Colours, rng):
    pen.rect(0.04, 0.3, 0.96, 1.0, c.body, r=0.02)
    pen.rect(0.0, 0.22, 1.0, 0.36, _shade(c.body, 0.85), r=0.02)
    pen.rect(0.46, 0.22, 0.54, 1.0, c.accent)
    pen.ell(0.3, 0.06, 0.5, 0.24, None, outline=c.accent, width=max(3, int(pen.w * 0.03)))
    pen.ell(0.5, 0.06, 0.7, 0.24, None, outline=c.accent, width=max(3, int(pen.w * 0.03)))
    return (0.1, 0.6, 0.42, 0.84)


def _block_pack(pen: Pen, c: Colours, rng):
    pen.rect(0.04, 0.2, 0.96, 0.96, (190, 40, 30), r=0.04)
    pen.rect(0.04, 0.2, 0.96, 0.34, (150, 24, 20), r=0.04)
    pen.circ(0.5, 0.56, 0.2, (240, 160, 40))
    pen.circ(0.5, 0.56, 0.13, (200, 60, 30))
    return (0.12, 0.8, 0.88, 0.92)


def _suitcase(pen: Pen, c: Colours, rng):
    pen.line([(0.38, 0.16), (0.38, 0.0), (0.62, 0.0), (0.62, 0.16)], c.ink, 0.03)
    pen.rect(0.14, 0.14, 0.86, 0.94, c.body, r=0.08)
    for u in (0.34, 0.5, 0.66):
        pen.line([(u, 0.18), (u, 0.9)], _shade(c.body, 0.85), 0.02)
    for u in (0.24, 0.76):
        pen.circ(u, 0.97, 0.035, c.ink)
    pen.line([(0.2, 0.2), (0.2, 0.86)], HL, 0.03)
    return None


def _neck_pillow(pen: Pen, c: Colours, rng):
    pen.arc(0.1, 0.06, 0.9, 0.86, 110, 430, c.body, 0.22)
    pen.arc(0.2, 0.16, 0.8, 0.76, 150, 250, HL, 0.05)
    pen.rect(0.46, 0.8, 0.54, 0.98, c.accent, r=0.02)
    return None


def _cubes(pen: Pen, c: Colours, rng):
    for k, (v0, v1) in enumerate(((0.62, 1.0), (0.34, 0.64), (0.1, 0.36))):
        colour = _jitter(c.body, rng, 0.08) if k else c.body
        pen.rect(0.1 + k * 0.04, v0, 0.9 - k * 0.04, v1, colour, r=0.05)
        pen.rect(0.2 + k * 0.04, v0 + 0.06, 0.8 - k * 0.04, v1 - 0.06, (255, 255, 255, 60), r=0.03)
        pen.line([(0.14 + k * 0.04, v0 + 0.03), (0.86 - k * 0.04, v0 + 0.03)], c.dark, 0.008)
    return None


def _adapter(pen: Pen, c: Colours, rng):
    pen.rect(0.16, 0.2, 0.84, 0.9, c.body, r=0.1)
    pen.rect(0.3, 0.36, 0.7, 0.62, _shade(c.body, 0.85), r=0.05)
    for u in (0.4, 0.6):
        pen.rect(u - 0.025, 0.02, u + 0.025, 0.22, c.metal, r=0.01)
    pen.rect(0.36, 0.72, 0.5, 0.78, c.dark, r=0.01)
    pen.rect(0.54, 0.72, 0.64, 0.78, c.dark, r=0.01)
    return None


def _flat_pouch(pen: Pen, c: Colours, rng):
    pen.rect(0.04, 0.24, 0.96, 0.92, c.body, r=0.14)
    pen.line([(0.1, 0.3), (0.9, 0.3)], c.dark, 0.015)
    pen.rect(0.76, 0.26, 0.86, 0.38, c.metal, r=0.02)
    pen.arc(0.8, 0.38, 0.98, 0.62, 270, 90, c.dark, 0.02)
    pen.rect(0.04, 0.7, 0.96, 0.92, SH, r=0.14)
    return None


def _folio(pen: Pen, c: Colours, rng):
    pen.rect(0.2, 0.02, 0.8, 0.98, c.body, r=0.05)
    pen.rect(0.24, 0.06, 0.76, 0.94, None, outline=_shade(c.body, 1.3), width=2, r=0.04)
    pen.circ(0.5, 0.4, 0.1, None, outline=c.metal, width=max(2, int(pen.w * 0.015)))
    pen.rect(0.36, 0.62, 0.64, 0.66, c.metal)
    return None


def _jeans(pen: Pen, c: Colours, rng):
    denim = rng.choice([(60, 86, 130), (90, 120, 160), (40, 50, 70)])
    pen.poly([(0.2, 0.06), (0.8, 0.06), (0.86, 1.0), (0.56, 1.0), (0.5, 0.34), (0.44, 1.0), (0.14, 1.0)], denim)
    pen.rect(0.19, 0.02, 0.81, 0.1, _shade(denim, 0.85))
    pen.line([(0.24, 0.12), (0.34, 0.24)], (200, 160, 90), 0.008)
    pen.line([(0.76, 0.12), (0.66, 0.24)], (200, 160, 90), 0.008)
    pen.line([(0.5, 0.1), (0.5, 0.32)], _shade(denim, 0.7), 0.01)
    pen.circ(0.5, 0.06, 0.015, (200, 170, 100))
    return None


def _sneaker(pen: Pen, c: Colours, rng):
    white = (246, 246, 242)
    pen.poly([(0.04, 0.56), (0.2, 0.28), (0.46, 0.24), (0.62, 0.46), (0.9, 0.56), (0.98, 0.76), (0.04, 0.76)], white)
    pen.rect(0.02, 0.72, 1.0, 0.86, (226, 224, 218), r=0.04)
    pen.poly([(0.3, 0.3), (0.46, 0.26), (0.6, 0.46), (0.42, 0.5)], (232, 230, 226))
    for i in range(4):
        pen.line([(0.34 + i * 0.06, 0.32 + i * 0.04), (0.42 + i * 0.06, 0.3 + i * 0.04)], (200, 198, 194), 0.012)
    pen.rect(0.04, 0.5, 0.14, 0.72, c.accent, r=0.02)
    return None


def _tote(pen: Pen, c: Colours, rng):
    pen.arc(0.26, 0.0, 0.5, 0.5, 180, 360, c.dark, 0.025)
    pen.arc(0.5, 0.0, 0.74, 0.5, 180, 360, c.dark, 0.025)
    pen.poly([(0.12, 0.26), (0.88, 0.26), (0.96, 1.0), (0.04, 1.0)], c.body)
    pen.rect(0.12, 0.26, 0.88, 0.34, _shade(c.body, 0.85))
    pen.rect(0.44, 0.3, 0.56, 0.4, c.metal, r=0.02)
    pen.line([(0.16, 0.36), (0.1, 0.94)], HL, 0.02)
    return None


def _dress(pen: Pen, c: Colours, rng):
    pen.arc(0.42, -0.06, 0.58, 0.06, 180, 360, c.metal, 0.012)
    pen.poly([(0.34, 0.08), (0.44, 0.06), (0.5, 0.12), (0.56, 0.06), (0.66, 0.08), (0.68, 0.4), (0.32, 0.4)], c.body)
    pen.poly([(0.32, 0.38), (0.68, 0.38), (0.9, 1.0), (0.1, 1.0)], c.body)
    pen.rect(0.31, 0.37, 0.69, 0.42, _shade(c.body, 0.8))
    if rng.random() < 0.5:  # a small print
        for _ in range(18):
            pen.circ(rng.uniform(0.3, 0.7), rng.uniform(0.46, 0.94), 0.012, c.white)
    for u in (0.4, 0.6):
        pen.line([(u, 0.46), (u + (u - 0.5) * 0.8, 0.98)], SH, 0.01)
    return None


def _boxes(pen: Pen, c: Colours, rng):
    for k, (u0, v0, u1, v1) in enumerate(((0.02, 0.56, 0.56, 1.0), (0.5, 0.6, 0.98, 1.0), (0.12, 0.16, 0.7, 0.58))):
        colour = _jitter(c.body, rng, 0.05) if k else c.body
        pen.rect(u0, v0, u1, v1, colour, r=0.03)
        pen.rect(u0, v0, u1, v0 + 0.06, _shade(colour, 0.9), r=0.03)
        mid = (u0 + u1) / 2
        pen.rect(mid - 0.06, v0 + 0.12, mid + 0.06, v0 + 0.17, _shade(colour, 0.7), r=0.02)
    return None


def _candle(pen: Pen, c: Colours, rng):
    pen.circ(0.5, 0.2, 0.3, (255, 214, 140, 50))
    pen.rect(0.18, 0.36, 0.82, 1.0, (236, 230, 222) if rng.random() < 0.5 else c.glass, r=0.06)
    pen.rect(0.22, 0.42, 0.78, 0.96, (250, 244, 232), r=0.04)
    pen.line([(0.5, 0.3), (0.5, 0.44)], c.ink, 0.015)
    pen.poly([(0.5, 0.1), (0.54, 0.26), (0.5, 0.32), (0.46, 0.26)], (255, 190, 80))
    pen.poly([(0.5, 0.17), (0.52, 0.27), (0.5, 0.3), (0.48, 0.27)], (255, 244, 200))
    return (0.26, 0.6, 0.74, 0.8)


def _floor_lamp(pen: Pen, c: Colours, rng):
    pen.circ(0.5, 0.22, 0.45, (255, 226, 160, 45))
    pen.line([(0.5, 0.26), (0.5, 0.96)], c.ink, 0.025)
    pen.ell(0.3, 0.93, 0.7, 1.0, c.ink)
    pen.poly([(0.32, 0.02), (0.68, 0.02), (0.8, 0.28), (0.2, 0.28)], (250, 238, 214))
    pen.poly([(0.2, 0.28), (0.8, 0.28), (0.74, 0.31), (0.26, 0.31)], (255, 214, 140))
    return None


def _sofa(pen: Pen, c: Colours, rng):
    pen.rect(0.08, 0.14, 0.92, 0.62, _shade(c.body, 0.9), r=0.06)
    pen.rect(0.0, 0.4, 0.14, 0.86, c.body, r=0.05)
    pen.rect(0.86, 0.4, 1.0, 0.86, c.body, r=0.05)
    pen.rect(0.12, 0.56, 0.5, 0.8, c.body, r=0.03)
    pen.rect(0.5, 0.56, 0.88, 0.8, c.body, r=0.03)
    pen.rect(0.16, 0.28, 0.36, 0.56, c.accent, r=0.05)
    for u in (0.06, 0.9):
        pen.rect(u, 0.84, u + 0.04, 0.96, c.ink)
    return None


def _bed(pen: Pen, c: Colours, rng):
    pen.rect(0.06, 0.0, 0.94, 0.5, _shade(c.body, 0.7), r=0.04)
    pen.rect(0.04, 0.46, 0.96, 0.9, (250, 248, 244), r=0.03)
    pen.rect(0.12, 0.26, 0.46, 0.5, (246, 244, 240), r=0.06)
    pen.rect(0.54, 0.26, 0.88, 0.5, (246, 244, 240), r=0.06)
    pen.rect(0.2, 0.34, 0.8, 0.54, c.accent, r=0.06)
    pen.rect(0.0, 0.56, 1.0, 0.92, c.body, r=0.04)
    pen.rect(0.0, 0.72, 1.0, 0.78, _shade(c.body, 0.8))
    for u in (0.04, 0.92):
        pen.rect(u, 0.9, u + 0.04, 1.0, c.ink)
    return None


def _plant(pen: Pen, c: Colours, rng):
    greens = [(70, 120, 70), (90, 140, 80), (60, 100, 64), (110, 150, 90)]
    for _ in range(rng.randint(7, 10)):
        angle = rng.uniform(30, 150)
        pen.leaf(0.5, 0.58, angle, rng.uniform(0.34, 0.5), rng.uniform(0.12, 0.2), rng.choice(greens))
    pen.poly([(0.26, 0.56), (0.74, 0.56), (0.68, 1.0), (0.32, 1.0)], c.body)
    pen.rect(0.24, 0.54, 0.76, 0.62, _shade(c.body, 0.9), r=0.01)
    pen.line([(0.3, 0.64), (0.34, 0.96)], HL, 0.02)
    return None


def _mug(pen: Pen, c: Colours, rng):
    pen.arc(0.6, 0.34, 0.96, 0.76, 270, 90, c.body, 0.07)
    pen.rect(0.12, 0.2, 0.74, 1.0, c.body, r=0.08)
    pen.ell(0.12, 0.16, 0.74, 0.28, _shade(c.body, 0.75))
    pen.ell(0.16, 0.18, 0.7, 0.26, (110, 70, 40))
    pen.line([(0.2, 0.32), (0.2, 0.92)], HL, 0.03)
    return None


def _cushion(pen: Pen, c: Colours, rng):
    pen.poly([(0.06, 0.1), (0.5, 0.16), (0.94, 0.1), (0.88, 0.5), (0.94, 0.9), (0.5, 0.84), (0.06, 0.9), (0.12, 0.5)],
             c.body)
    pen.rect(0.3, 0.34, 0.7, 0.66, _shade(c.body, 0.85), r=0.2)
    pen.line([(0.14, 0.16), (0.18, 0.84)], HL, 0.02)
    return None


# Food and travel are scenes, drawn over the whole picture (their pen's box is the picture).

def _table(pen: Pen, c: Colours, rng, wood: tuple[int, int, int]):
    for i in range(7):
        v = i * 0.16
        pen.line([(0.0, v + rng.uniform(0, 0.04)), (1.0, v + rng.uniform(0, 0.04))], _shade(wood, 0.93), 0.004)
    if rng.random() < 0.6:  # a linen napkin under one corner
        pen.rect(-0.1, 0.72, 0.36, 1.1, (246, 242, 234, 230), r=0.02)


def _bowl(pen: Pen, u, v, r, rim, inside):
    pen.circ(u + 0.015, v + 0.02, r, (0, 0, 0, 40))
    pen.circ(u, v, r, rim)
    pen.circ(u, v, r * 0.86, inside)


def _scene_hotpot(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (120, 84, 60))
    _bowl(pen, 0.5, 0.42, 0.36, (190, 190, 196), (214, 60, 36))
    pen.pie(0.5 - 0.31, 0.42 - 0.31 * pen.w / pen.h, 0.5 + 0.31, 0.42 + 0.31 * pen.w / pen.h, 90, 270, (240, 226, 196))
    pen.line([(0.5, 0.42 - 0.32 * pen.w / pen.h), (0.5, 0.42 + 0.32 * pen.w / pen.h)], (190, 190, 196), 0.012)
    for _ in range(14):
        pen.circ(rng.uniform(0.55, 0.78), rng.uniform(0.3, 0.55), rng.uniform(0.008, 0.02), (250, 160, 40))
    for _ in range(5):
        pen.circ(rng.uniform(0.26, 0.44), rng.uniform(0.32, 0.52), 0.03, (250, 246, 236))
    for u, v, food in ((0.16, 0.86, (200, 70, 70)), (0.5, 0.9, (120, 170, 80)), (0.84, 0.86, (240, 220, 180))):
        _bowl(pen, u, v, 0.11, (250, 250, 248), food)
    pen.line([(0.78, 0.05), (0.98, 0.5)], (170, 120, 70), 0.014)
    pen.line([(0.82, 0.04), (1.0, 0.46)], (170, 120, 70), 0.014)


def _scene_dumplings(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (90, 70, 56))
    _bowl(pen, 0.48, 0.42, 0.38, (214, 176, 120), (236, 206, 150))
    pen.circ(0.48, 0.42, 0.3, None, outline=(196, 156, 100), width=3)
    for k in range(7):
        a = k / 7 * 2 * math.pi
        u, v = (0.48 + 0.2 * math.cos(a), 0.42 + 0.2 * math.sin(a) * pen.w / pen.h) if k else (0.48, 0.42)
        pen.circ(u, v, 0.085, (250, 246, 236))
        pen.circ(u, v, 0.018, (230, 224, 210))
        for t in range(6):
            b = t / 6 * 2 * math.pi
            pen.line([(u, v), (u + 0.06 * math.cos(b), v + 0.06 * math.sin(b) * pen.w / pen.h)], (232, 226, 214), 0.006)
    _bowl(pen, 0.2, 0.86, 0.1, (250, 250, 248), (70, 40, 30))
    pen.line([(0.14, 0.84), (0.26, 0.88)], (250, 200, 120), 0.01)


def _scene_coffee(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (200, 180, 160))
    pen.circ(0.5, 0.44, 0.36, (0, 0, 0, 30))
    pen.circ(0.48, 0.42, 0.36, (250, 250, 248))
    pen.rect(0.7, 0.38, 0.9, 0.46, (250, 250, 248), r=0.04)
    pen.circ(0.48, 0.42, 0.24, (236, 234, 230))
    pen.circ(0.48, 0.42, 0.21, (160, 100, 60))
    pen.circ(0.48, 0.42, 0.15, (196, 140, 90))
    pen.pie(0.39, 0.34, 0.49, 0.44, 150, 360, (250, 240, 226))
    pen.pie(0.47, 0.34, 0.57, 0.44, 180, 30, (250, 240, 226))
    pen.poly([(0.4, 0.4), (0.56, 0.4), (0.48, 0.5)], (250, 240, 226))
    pen.rect(0.12, 0.78, 0.34, 0.96, (210, 150, 80), r=0.03)
    pen.line([(0.62, 0.8), (0.9, 0.9)], (180, 180, 184), 0.012)


def _scene_bbq(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (70, 60, 56))
    pen.rect(0.1, 0.12, 0.9, 0.84, (40, 40, 44), r=0.03)
    for i in range(5):
        v = 0.22 + i * 0.13
        pen.line([(0.04, v + 0.05), (0.96, v - 0.05)], (210, 180, 130), 0.008)
        for k in range(5):
            u = 0.22 + k * 0.13
            colour = rng.choice([(150, 70, 40), (170, 90, 50), (120, 60, 36)]) if i != 2 else (90, 60, 110)
            pen.rect(u - 0.05, v + 0.03 - (u - 0.5) * 0.1 - 0.035, u + 0.05, v + 0.03 - (u - 0.5) * 0.1 + 0.035,
                     colour, r=0.02)
            pen.circ(u, v + 0.02 - (u - 0.5) * 0.1, 0.008, (230, 40, 30))
    pen.circ(0.86, 0.92, 0.07, (250, 200, 60, 220))


def _scene_dessert(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (236, 226, 214))
    pen.circ(0.5, 0.46, 0.38, (0, 0, 0, 25))
    pen.circ(0.48, 0.44, 0.38, (250, 250, 248))
    pen.circ(0.48, 0.44, 0.3, (244, 240, 234))
    pen.pie(0.2, 0.2, 0.76, 0.68, 200, 290, (244, 200, 120))
    pen.pie(0.23, 0.23, 0.73, 0.65, 200, 290, (250, 236, 200))
    cake = (0.3, 0.3, 0.7, 0.62)
    pen.rect(*cake, (250, 230, 190), r=0.02)
    pen.rect(0.3, 0.3, 0.7, 0.36, (250, 250, 246), r=0.02)
    pen.rect(0.3, 0.44, 0.7, 0.47, (220, 80, 90))
    for u in (0.36, 0.5, 0.64):
        pen.circ(u, 0.29, 0.04, (220, 50, 70))
        pen.leaf(u, 0.27, 80, 0.04, 0.03, (90, 150, 80))
    pen.line([(0.82, 0.2), (0.84, 0.7)], (200, 200, 204), 0.014)


def _scene_ramen(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (60, 50, 46))
    _bowl(pen, 0.5, 0.44, 0.42, (40, 40, 44), (236, 204, 150))
    for k in range(9):
        v = 0.28 + k * 0.03
        pen.arc(0.28, v, 0.6, v + 0.08, 200, 340, (250, 226, 150), 0.012)
    pen.rect(0.62, 0.18, 0.76, 0.42, (30, 50, 36), r=0.01)
    for u, v in ((0.64, 0.52), (0.42, 0.56)):
        pen.circ(u, v, 0.07, (250, 250, 244))
        pen.circ(u, v, 0.035, (240, 150, 40))
    pen.circ(0.34, 0.4, 0.08, (200, 140, 110))
    pen.circ(0.34, 0.4, 0.05, (226, 180, 150))
    for _ in range(16):
        pen.circ(rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.6), 0.01, (100, 170, 70))
    pen.line([(0.1, 0.9), (0.9, 0.96)], (200, 170, 120), 0.014)
    pen.line([(0.1, 0.94), (0.9, 0.99)], (200, 170, 120), 0.014)


def _scene_breakfast(pen: Pen, c: Colours, rng):
    _table(pen, c, rng, (226, 214, 196))
    pen.circ(0.44, 0.44, 0.36, (0, 0, 0, 25))
    pen.circ(0.42, 0.42, 0.36, (250, 250, 248))
    pen.poly([(0.26, 0.3), (0.34, 0.22), (0.42, 0.3), (0.46, 0.4), (0.36, 0.48), (0.24, 0.42)], (255, 255, 252))
    pen.circ(0.35, 0.35, 0.05, (250, 170, 30))
    pen.rect(0.42, 0.4, 0.64, 0.6, (214, 160, 90), r=0.03)
    pen.rect(0.44, 0.42, 0.62, 0.58, (240, 210, 160), r=0.02)
    pen.ell(0.24, 0.5, 0.4, 0.62, (110, 160, 70))
    pen.ell(0.27, 0.52, 0.37, 0.6, (200, 220, 130))
    _bowl(pen, 0.8, 0.82, 0.13, (250, 250, 248), (170, 110, 70))
    for _ in range(6):
        pen.circ(rng.uniform(0.12, 0.3), rng.uniform(0.78, 0.92), 0.022, (70, 80, 160))


def _sky(pen: Pen, top, bottom):
    for i in range(12):
        t = i / 11
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        pen.rect(0, i / 12, 1, (i + 1) / 12 + 0.01, colour)


def _ridge(pen: Pen, rng, base: float, amplitude: float, colour, step: float = 0.12):
    points = [(0.0, 1.0), (0.0, base)]
    u = 0.0
    while u < 1.0:
        u = min(1.0, u + rng.uniform(step * 0.6, step * 1.4))
        points.append((u, base - rng.uniform(0, amplitude)))
    points.append((1.0, 1.0))
    pen.poly(points, colour)


def _scene_lake(pen: Pen, c: Colours, rng):
    _sky(pen, (120, 170, 220), (214, 232, 244))
    pen.circ(0.78, 0.14, 0.06, (255, 255, 240))
    for _ in range(3):
        u, v = rng.uniform(0.1, 0.7), rng.uniform(0.08, 0.3)
        pen.ell(u, v, u + 0.22, v + 0.05, (255, 255, 255, 200))
    _ridge(pen, rng, 0.5, 0.22, (110, 140, 160))
    _ridge(pen, rng, 0.56, 0.1, (80, 120, 100))
    pen.rect(0, 0.58, 1, 1, (90, 160, 190))
    for i in range(8):
        v = 0.62 + i * 0.045
        pen.line([(rng.uniform(0, 0.5), v), (rng.uniform(0.5, 1), v)], (255, 255, 255, 60), 0.006)


def _scene_kyoto(pen: Pen, c: Colours, rng):
    _sky(pen, (250, 180, 140), (250, 226, 200))
    pen.circ(0.3, 0.3, 0.1, (255, 240, 210))
    _ridge(pen, rng, 0.7, 0.12, (150, 110, 110))
    red = (200, 60, 40)
    for u in (0.26, 0.74):
        pen.rect(u - 0.03, 0.3, u + 0.03, 1.0, red)
    pen.poly([(0.08, 0.26), (0.92, 0.26), (0.96, 0.22), (0.04, 0.22)], (40, 30, 30))
    pen.rect(0.1, 0.26, 0.9, 0.3, red)
    pen.rect(0.14, 0.38, 0.86, 0.42, red)
    pen.rect(0.47, 0.3, 0.53, 0.38, red)
    pen.rect(0, 0.9, 1, 1, (120, 90, 80))


def _scene_bamboo(pen: Pen, c: Colours, rng):
    _sky(pen, (214, 236, 210), (240, 246, 230))
    for _ in range(9):
        u = rng.uniform(0.0, 1.0)
        shade = rng.choice([(90, 150, 80), (110, 170, 90), (70, 120, 70)])
        pen.rect(u, 0.0, u + 0.035, 1.0, shade)
        for v in (0.2, 0.45, 0.7):
            pen.rect(u - 0.005, v, u + 0.04, v + 0.012, _shade(shade, 0.8))
        for _ in range(3):
            pen.leaf(u + 0.02, rng.uniform(0.05, 0.8), rng.choice([20, 160, 30, 150]), 0.14, 0.04, _shade(shade, 1.1))
    pen.ell(0.3, 0.72, 0.7, 1.06, (250, 250, 248))
    pen.ell(0.36, 0.64, 0.64, 0.86, (250, 250, 248))
    for u in (0.38, 0.62):
        pen.circ(u, 0.65, 0.05, (30, 30, 30))
    for u in (0.44, 0.56):
        pen.ell(u - 0.035, 0.72, u + 0.035, 0.77, (30, 30, 30))
    pen.circ(0.5, 0.79, 0.015, (30, 30, 30))


def _scene_aurora(pen: Pen, c: Colours, rng):
    _sky(pen, (16, 24, 52), (40, 60, 90))
    for _ in range(30):
        pen.circ(rng.random(), rng.uniform(0, 0.5), 0.003, (255, 255, 255))
    for k in range(3):
        base = 0.2 + k * 0.08
        points = [(u / 10, base + 0.08 * math.sin(u / 1.6 + k + rng.random())) for u in range(11)]
        pen.poly(points + [(u, v + 0.18) for u, v in reversed(points)], (90, 250, 170, 60))
    _ridge(pen, rng, 0.66, 0.2, (30, 36, 50), step=0.1)
    pen.rect(0, 0.8, 1, 1, (210, 220, 236))


def _scene_road(pen: Pen, c: Colours, rng):
    _sky(pen, (90, 160, 230), (200, 226, 246))
    _ridge(pen, rng, 0.46, 0.2, (160, 170, 190))
    _ridge(pen, rng, 0.46, 0.1, (240, 246, 250), step=0.2)
    pen.rect(0, 0.5, 1, 1, (130, 170, 90))
    _ridge(pen, rng, 0.54, 0.04, (110, 150, 80))
    pen.poly([(0.48, 0.5), (0.52, 0.5), (0.8, 1.0), (0.2, 1.0)], (70, 70, 74))
    for i in range(6):
        v = 0.54 + i * 0.08
        pen.rect(0.497, v, 0.503 + i * 0.003, v + 0.04, (250, 240, 200))


def _scene_lisbon(pen: Pen, c: Colours, rng):
    _sky(pen, (120, 190, 240), (220, 236, 250))
    colours = [(240, 200, 120), (230, 150, 130), (150, 190, 210), (250, 236, 214), (200, 120, 110)]
    u = -0.05
    while u < 1.0:
        width = rng.uniform(0.16, 0.24)
        top = rng.uniform(0.18, 0.4)
        pen.rect(u, top, u + width, 1.0, rng.choice(colours))
        pen.poly([(u - 0.01, top), (u + width + 0.01, top), (u + width / 2, top - 0.05)], (190, 90, 60))
        for row in range(int((0.7 - top) / 0.1)):
            for col in range(2):
                pen.rect(u + 0.03 + col * width / 2, top + 0.05 + row * 0.1, u + 0.03 + col * width / 2 + 0.05,
                         top + 0.12 + row * 0.1, (70, 90, 110))
        u += width
    pen.rect(0.14, 0.62, 0.86, 0.9, (250, 200, 40), r=0.03)
    pen.rect(0.14, 0.6, 0.86, 0.64, (250, 250, 246))
    for k in range(5):
        pen.rect(0.18 + k * 0.13, 0.66, 0.28 + k * 0.13, 0.76, (90, 110, 130), r=0.01)
    pen.line([(0.5, 0.6), (0.6, 0.4)], (40, 40, 40), 0.008)
    pen.rect(0, 0.9, 1, 1, (150, 150, 150))
    for u in (0.26, 0.74):
        pen.circ(u, 0.9, 0.04, (40, 40, 40))


def _scene_guesthouse(pen: Pen, c: Colours, rng):
    _sky(pen, (60, 70, 120), (240, 170, 140))
    _ridge(pen, rng, 0.6, 0.16, (70, 80, 100))
    pen.rect(0, 0.8, 1, 1, (70, 100, 70))
    pen.rect(0.2, 0.48, 0.8, 0.86, (236, 222, 200))
    pen.poly([(0.14, 0.5), (0.86, 0.5), (0.5, 0.26)], (110, 70, 60))
    for u in (0.28, 0.58):
        pen.rect(u, 0.56, u + 0.14, 0.68, (255, 210, 120))
        pen.line([(u + 0.07, 0.56), (u + 0.07, 0.68)], (110, 70, 60), 0.008)
    pen.rect(0.44, 0.7, 0.56, 0.86, (120, 80, 60))
    for u in (0.06, 0.9):
        pen.circ(u, 0.72, 0.09, (50, 90, 60))
        pen.rect(u - 0.01, 0.74, u + 0.01, 0.86, (80, 60, 50))


# name → (drawer, box width as a share of the picture's width, box height / box width, scene?)
SHAPES = {
    "tube": (_tube, 0.34, 1.9, False), "dropper": (_dropper, 0.3, 1.9, False), "jar": (_jar, 0.5, 0.9, False),
    "pump": (_pump, 0.34, 2.0, False), "lipstick": (_lipstick, 0.34, 1.9, False),
    "square_bottle": (_square_bottle, 0.32, 1.6, False), "sachet": (_sachet, 0.5, 1.3, False),
    "stroller": (_stroller, 0.66, 1.0, False), "diaper_pack": (_diaper_pack, 0.52, 1.1, False),
    "baby_bottle": (_baby_bottle, 0.34, 1.9, False), "car_seat": (_car_seat, 0.6, 1.0, False),
    "blender": (_blender, 0.4, 1.5, False), "carrier": (_carrier, 0.56, 1.1, False),
    "tent": (_tent, 0.72, 0.6, False), "boot": (_boot, 0.6, 0.9, False),
    "jacket": (lambda p, c, r: _garment(p, c, r, zip_=True, hood=True, length=0.86), 0.66, 1.1, False),
    "sleeping_bag": (_sleeping_bag, 0.7, 0.7, False), "poles": (_poles, 0.4, 1.9, False),
    "headlamp": (_headlamp, 0.56, 0.8, False), "backpack": (_backpack, 0.5, 1.3, False),
    "headphones": (_headphones, 0.62, 1.0, False), "keyboard": (_keyboard, 0.8, 0.45, False),
    "camera": (_camera, 0.64, 0.7, False), "tablet": (_tablet, 0.5, 1.35, False),
    "power_bank": (_power_bank, 0.34, 1.7, False), "watch": (_watch, 0.34, 2.0, False),
    "speaker": (_speaker, 0.34, 1.7, False), "phone_case": (_phone_case, 0.38, 1.8, False),
    "cable": (_cable, 0.56, 0.9, False), "pouch": (_pouch, 0.46, 1.3, False), "tin": (_tin, 0.4, 1.2, False),
    "gift_box": (_gift_box, 0.6, 0.8, False), "block_pack": (_block_pack, 0.56, 0.8, False),
    "suitcase": (_suitcase, 0.44, 1.6, False), "neck_pillow": (_neck_pillow, 0.56, 0.9, False),
    "cubes": (_cubes, 0.56, 0.9, False), "adapter": (_adapter, 0.36, 1.2, False),
    "flat_pouch": (_flat_pouch, 0.56, 0.7, False), "folio": (_folio, 0.36, 1.4, False),
    "trench": (lambda p, c, r: _garment(p, c, r, belt=True, collar=True, length=1.0), 0.6, 1.4, False),
    "sweater": (lambda p, c, r: _garment(p, c, r, length=0.8), 0.64, 1.0, False),
    "tshirt": (lambda p, c, r: _garment(p, c, r, sleeves="short", length=0.82), 0.6, 1.0, False),
    "jeans": (_jeans, 0.46, 1.6, False), "sneaker": (_sneaker, 0.68, 0.6, False), "tote": (_tote, 0.56, 1.1, False),
    "dress": (_dress, 0.5, 1.5, False), "boxes": (_boxes, 0.64, 0.9, False), "candle": (_candle, 0.4, 1.3, False),
    "floor_lamp": (_floor_lamp, 0.4, 2.4, False), "sofa": (_sofa, 0.8, 0.6, False), "bed": (_bed, 0.8, 0.7, False),
    "plant": (_plant, 0.56, 1.4, False), "mug": (_mug, 0.42, 1.0, False), "cushion": (_cushion, 0.54, 0.9, False),
    "hotpot": (_scene_hotpot, 1, 1, True), "dumplings": (_scene_dumplings, 1, 1, True),
    "coffee": (_scene_coffee, 1, 1, True), "bbq": (_scene_bbq, 1, 1, True), "dessert": (_scene_dessert, 1, 1, True),
    "ramen": (_scene_ramen, 1, 1, True), "breakfast": (_scene_breakfast, 1, 1, True),
    "lake": (_scene_lake, 1, 1, True), "kyoto": (_scene_kyoto, 1, 1, True), "bamboo": (_scene_bamboo, 1, 1, True),
    "aurora": (_scene_aurora, 1, 1, True), "road": (_scene_road, 1, 1, True), "lisbon": (_scene_lisbon, 1, 1, True),
    "guesthouse": (_scene_guesthouse, 1, 1, True),
}

# A note's subject (content.SUBJECTS' English word) → what its cover shows.
SUBJECT_SHAPES = {
    "sunscreen": "tube", "serum": "dropper", "moisturizer": "jar", "cleansing oil": "pump", "lipstick": "lipstick",
    "foundation": "square_bottle", "sheet mask": "sachet",
    "stroller": "stroller", "diaper": "diaper_pack", "bottle": "baby_bottle", "car seat": "car_seat",
    "baby food": "blender", "carrier": "carrier",
    "tent": "tent", "boots": "boot", "jacket": "jacket", "sleeping bag": "sleeping_bag", "poles": "poles",
    "headlamp": "headlamp", "backpack": "backpack",
    "headphones": "headphones", "keyboard": "keyboard", "camera": "camera", "tablet": "tablet",
    "power bank": "power_bank", "smartwatch": "watch",
    "hotpot": "hotpot", "soup dumpling": "dumplings", "coffee": "coffee", "bbq": "bbq", "dessert": "dessert",
    "ramen": "ramen", "breakfast": "breakfast",
    "yunnan": "lake", "kyoto": "kyoto", "chengdu": "bamboo", "iceland": "aurora", "xinjiang": "road",
    "lisbon": "lisbon", "guesthouse": "guesthouse",
    "trench coat": "trench", "jeans": "jeans", "sneakers": "sneaker", "knit": "sweater", "work bag": "tote",
    "dress": "dress",
    "storage": "boxes", "candle": "candle", "floor lamp": "floor_lamp", "sofa": "sofa", "bedding": "bed",
    "plant": "plant",
}
# A product's name (its English noun, lower case, as shop_content names it) → its picture.
PRODUCT_SHAPES = {
    "sunscreen": "tube", "serum": "dropper", "moisturizer": "jar", "face cream": "jar", "cleansing oil": "pump",
    "lipstick": "lipstick", "foundation": "square_bottle", "sheet mask": "sachet", "sheet masks": "sachet",
    "cleanser": "tube", "toner": "pump",
    "stroller": "stroller", "diapers": "diaper_pack", "baby bottle": "baby_bottle", "car seat": "car_seat",
    "baby food maker": "blender", "baby carrier": "carrier", "baby wipes": "diaper_pack",
    "tent": "tent", "hiking boots": "boot", "rain jacket": "jacket", "rain shell": "jacket",
    "sleeping bag": "sleeping_bag",
    "trekking poles": "poles", "headlamp": "headlamp", "backpack": "backpack",
    "headphones": "headphones", "keyboard": "keyboard", "mechanical keyboard": "keyboard", "power bank": "power_bank",
    "smartwatch": "watch", "speaker": "speaker", "bluetooth speaker": "speaker", "phone case": "phone_case",
    "cable": "cable", "usb-c cable": "cable",
    "drip coffee": "pouch", "snail noodles": "pouch", "beef jerky": "pouch", "mixed nuts": "gift_box",
    "hotpot base": "block_pack", "oolong tea": "tin", "chili crisp": "jar",
    "suitcase": "suitcase", "neck pillow": "neck_pillow", "packing cubes": "cubes", "travel adapter": "adapter",
    "toiletry bag": "flat_pouch", "passport wallet": "folio",
    "trench coat": "trench", "jeans": "jeans", "white sneakers": "sneaker", "knit sweater": "sweater",
    "work bag": "tote", "dress": "dress", "t-shirt": "tshirt",
    "storage box": "boxes", "scented candle": "candle", "floor lamp": "floor_lamp", "bedding set": "bed", "mug": "mug",
    "cushion": "cushion",
}
VERTICAL_SHAPES = {
    "beauty": ["tube", "dropper", "jar", "pump"], "mother_baby": ["baby_bottle", "diaper_pack", "stroller"],
    "outdoor": ["tent", "backpack", "boot"], "digital": ["headphones", "camera", "keyboard"],
    "food": ["coffee", "ramen", "breakfast"], "travel": ["lake", "lisbon", "road"],
    "fashion": ["trench", "dress", "tote"], "home": ["candle", "plant", "mug"],
}


def _subject(title: str, vertical: str) -> str | None:
    """The English word of the demo subject `title` is about (content.SUBJECTS), if any."""
    from app.demo.content import SUBJECTS

    lowered = title.lower()
    for zh, en in SUBJECTS.get(vertical, []):
        if zh in title or en.lower() in lowered:
            return en.lower()
    return None


def _product_shape(label: str) -> str | None:
    lowered = label.lower().strip()
    if lowered in PRODUCT_SHAPES:
        return PRODUCT_SHAPES[lowered]
    for name in sorted(PRODUCT_SHAPES, key=len, reverse=True):  # "Sheer Sunscreen SPF50" → sunscreen
        if name in lowered:
            return PRODUCT_SHAPES[name]
    return None


def _draw_object(image: Image.Image, shape: str, vertical: str, rng: random.Random, area: tuple[int, int, int, int],
                 scale: float = 1.0,
                 label: str | None = None) -> None:
    """Draw `shape` centred in `area` (x0, y0, x1, y1) with its shadow; a scene fills the whole picture."""
    walls, bodies = PALETTES.get(vertical, PALETTES["home"])
    body = _jitter(rng.choice(bodies), rng)
    accent = _jitter(rng.choice([b for b in bodies if b != body] or bodies), rng)
    colours = Colours(body, accent, rng)
    drawer, share, aspect, scene = SHAPES[shape]
    draw = ImageDraw.Draw(image, "RGBA")
    if scene:
        drawer(Pen(draw, 0, 0, image.width, image.height), colours, rng)
        return
    x0, y0, x1, y1 = area
    aw, ah = x1 - x0, y1 - y0
    w = image.width * min(0.9, share * scale) * rng.uniform(0.92, 1.05)
    h = w * aspect
    if h > ah * 0.9:  # tall things shrink to fit, with some air above them
        w, h = w * ah * 0.9 / h, ah * 0.9
    if h > ah:
        w, h = w * ah / h, ah
    if w > aw:
        w, h = aw, h * aw / w
    cx = (x0 + x1) / 2 + rng.uniform(-0.04, 0.04) * aw
    bottom = y1 - rng.uniform(0.0, 0.04) * ah
    _drop_shadow(image, int(cx), int(bottom), int(w * 0.62))
    # Only the object's neighbourhood is drawn at SUPERSAMPLE× (the backdrop is smooth already), then reduced.
    k = SUPERSAMPLE
    margin = 0.2 * w
    x0 = max(0, int(cx - w / 2 - margin))
    y0 = max(0, int(bottom - h - margin))
    x1 = min(image.width, int(cx + w / 2 + margin) + 1)
    y1 = min(image.height, int(bottom + margin / 2) + 1)
    patch = image.crop((x0, y0, x1, y1))
    patch = patch.resize((patch.width * k, patch.height * k), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(patch, "RGBA")
    pen = Pen(draw, (cx - w / 2 - x0) * k, (bottom - h - y0) * k, w * k, h * k)
    label_box = drawer(pen, colours, rng)
    if label_box:
        pen.rect(*label_box, (252, 250, 246, 235), r=0.03)
        if label and can_draw(label):
            lx0, ly0, lx1, ly1 = pen.box(*label_box)
            size = max(10, int((ly1 - ly0) * 0.42))
            font = _font(size, _has_cjk(label))
            while size > 10 and draw.textlength(label, font=font) > (lx1 - lx0) * 0.88:
                size -= 2
                font = _font(size, _has_cjk(label))
            draw.text(((lx0 + lx1) / 2, (ly0 + ly1) / 2), label, font=font, fill=(60, 56, 60), anchor="mm")
    image.paste(patch.reduce(k), (x0, y0))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    """Lines of at most `width` pixels (three at most): Chinese breaks between characters, never inside a Latin
    word or number ("ISOFIX", "SPF50+"); English breaks between words."""
    cjk = _has_cjk(text)
    units = re.findall(r"[0-9A-Za-z%°'’+\-–.,:!?×/]+|\s+|.", text) if cjk else text.split()
    joiner = "" if cjk else " "
    lines, current = [], ""
    for unit in units:
        trial = f"{current}{joiner if current else ''}{unit}"
        if draw.textlength(trial, font=font) <= width:
            current = trial
        else:
            if current:
                lines.append(current)
            current = unit.strip()
    if current:
        lines.append(current)
    if len(lines) > 3:
        lines = lines[:3]
        lines[2] = lines[2][:-1] + "…"
    return lines


def _emoji_free(text: str) -> str:
    """The title without emoji (the fonts have none) and without a hook prefix's separator spacing."""
    return "".join(ch for ch in text if ord(ch) < 0x2600 or 0x3000 <= ord(ch) <= 0xFFEF).strip()


def make_cover(title: str, vertical: str, seed: int, size: tuple[int, int] = (720, 960)) -> Image.Image:
    """A portrait cover about `title`; the same (title, vertical, seed) gives the same picture."""
    rng = random.Random(seed)
    w, h = size
    walls, _bodies = PALETTES.get(vertical, PALETTES["home"])
    subject = _subject(title, vertical)
    shape = SUBJECT_SHAPES.get(subject or "") or rng.choice(VERTICAL_SHAPES.get(vertical, ["jar"]))
    scene = SHAPES[shape][3]
    wall = rng.choice(walls)
    image = _studio((w, h), wall, 0.62 if not scene else 0.99).copy()
    flip = scene and rng.random() < 0.5  # the same place or table seen the other way round, for variety
    label = (subject or "").upper() or None
    _draw_object(image, shape, vertical, rng, (int(w * 0.06), int(h * 0.06), int(w * 0.94), int(h * 0.7)), 1.45,
                 label)
    if flip:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    text = _emoji_free(title)
    if text and can_draw(text):
        unit = w / 720  # the layout is drawn for 720 px wide and scaled
        draw = ImageDraw.Draw(image, "RGBA")
        cjk = _has_cjk(text)
        font = _font(int((54 if cjk else 48) * unit), cjk)
        lines = _wrap(draw, text, font, w - int(150 * unit))
        line_height = int((72 if cjk else 62) * unit)
        box_h = line_height * len(lines) + int(56 * unit)
        top_y = h - box_h - int(48 * unit)
        draw.rounded_rectangle([int(40 * unit), top_y, w - int(40 * unit), top_y + box_h], radius=int(26 * unit),
                               fill=(255, 255, 255, 226))
        accent = _shade(wall, 0.6)
        draw.rounded_rectangle([int(64 * unit), top_y + int(30 * unit), int(72 * unit), top_y + box_h - int(30 * unit)],
                               radius=int(4 * unit), fill=accent)
        for index, line in enumerate(lines):
            draw.text((int(92 * unit), top_y + int(26 * unit) + index * line_height), line, font=font,
                      fill=(34, 32, 38))
    return image


def make_product_image(label: str, vertical: str, seed: int, size: tuple[int, int] = (512, 512)) -> Image.Image:
    """A square product shot of what `label` names, with `label` on it; same arguments, same picture."""
    rng = random.Random(seed)
    w, h = size
    walls, _bodies = PALETTES.get(vertical, PALETTES["home"])
    shape = _product_shape(label) or rng.choice(VERTICAL_SHAPES.get(vertical, ["jar"]))
    if SHAPES[shape][3]:
        shape = VERTICAL_SHAPES.get(vertical, ["jar"])[0]
    image = _studio((w, h), rng.choice(walls), 0.7).copy()
    _draw_object(image, shape, vertical, rng, (int(w * 0.12), int(h * 0.1), int(w * 0.88), int(h * 0.86)), 1.3, label)
    return image

"""Generated cover images for demo posts: colour fields and shapes in a palette per vertical, with the title."""
from __future__ import annotations

import colorsys
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# (base hue, saturation, shape style) per vertical, so each community's grid has its own look.
PALETTES = {
    "beauty": (0.95, 0.55, "circles"), "mother_baby": (0.55, 0.45, "bubbles"), "outdoor": (0.33, 0.45, "mountains"),
    "digital": (0.62, 0.55, "grid"), "food": (0.07, 0.65, "circles"), "travel": (0.52, 0.55, "mountains"),
    "fashion": (0.83, 0.45, "stripes"), "home": (0.1, 0.35, "grid"),
}
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@lru_cache(maxsize=8)
def _font(size: int, cjk: bool) -> ImageFont.ImageFont:
    if cjk:
        for candidate in CJK_FONT_CANDIDATES:
            if Path(candidate).exists():
                return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def can_draw(text: str) -> bool:
    """Pillow's built-in font has no Chinese glyphs; without a system CJK font we draw shapes only."""
    return not _has_cjk(text) or any(Path(c).exists() for c in CJK_FONT_CANDIDATES)


def _rgb(h: float, lightness: float, s: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, lightness, s)
    return int(r * 255), int(g * 255), int(b * 255)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> list[str]:
    units = list(text) if _has_cjk(text) else text.split()
    joiner = "" if _has_cjk(text) else " "
    lines, current = [], ""
    for unit in units:
        trial = f"{current}{joiner if current else ''}{unit}"
        if draw.textlength(trial, font=font) <= width:
            current = trial
        else:
            if current:
                lines.append(current)
            current = unit
    if current:
        lines.append(current)
    return lines[:4]


def make_cover(title: str, vertical: str, seed: int, size: tuple[int, int] = (720, 960)) -> Image.Image:
    """A portrait cover; the same (title, vertical, seed) gives the same picture."""
    rng = random.Random(seed)
    hue, sat, style = PALETTES.get(vertical, (rng.random(), 0.5, "circles"))
    hue += rng.uniform(-0.06, 0.06)
    w, h = size
    top, bottom = _rgb(hue, 0.82, sat), _rgb(hue + rng.uniform(0.05, 0.15), 0.55, sat)
    gradient = Image.linear_gradient("L").resize((w, h))
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    accent = _rgb(hue + 0.5, 0.6, sat)
    if style in ("circles", "bubbles"):
        for _ in range(rng.randint(4, 8)):
            r = rng.randint(40, 220 if style == "circles" else 90)
            x, y = rng.randint(-50, w + 50), rng.randint(-50, h + 50)
            colour = accent if rng.random() < 0.3 else (255, 255, 255)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(*colour, rng.randint(40, 110)))
    elif style == "mountains":
        for layer_index in range(3):
            base = int(h * (0.55 + 0.12 * layer_index))
            points = [(0, h)]
            for x in range(0, w + 120, 120):
                points.append((x, base - rng.randint(0, 220 - 60 * layer_index)))
            points.append((w, h))
            shade = _rgb(hue + 0.02 * layer_index, 0.35 + 0.12 * layer_index, sat)
            draw.polygon(points, fill=(*shade, 200))
        sun = rng.randint(50, 90)
        sx, sy = rng.randint(120, w - 120), rng.randint(100, 260)
        draw.ellipse([sx - sun, sy - sun, sx + sun, sy + sun], fill=(255, 244, 214, 220))
    elif style == "grid":
        step = rng.choice([60, 80, 120])
        for x in range(0, w, step):
            for y in range(0, h, step):
                if rng.random() < 0.25:
                    draw.rounded_rectangle([x + 8, y + 8, x + step - 8, y + step - 8], radius=12,
                                           fill=(*accent, rng.randint(50, 140)))
    else:  # stripes
        for x in range(-h, w, 70):
            if rng.random() < 0.6:
                draw.polygon([(x, 0), (x + 35, 0), (x + 35 + h, h), (x + h, h)], fill=(255, 255, 255, 45))
    image = Image.alpha_composite(image.convert("RGBA"), layer)
    # Title on a soft card near the bottom, like a note cover.
    if can_draw(title):
        unit = w / 720  # layout is drawn for 720 px wide and scaled
        text_layer = Image.new("RGBA", size, (0, 0, 0, 0))
        text_draw = ImageDraw.Draw(text_layer)
        font = _font(int(58 * unit), _has_cjk(title))
        lines = _wrap(text_draw, title, font, w - int(140 * unit))
        line_height = int(74 * unit)
        box_h = line_height * len(lines) + int(60 * unit)
        top_y = h - box_h - int(70 * unit)
        text_draw.rounded_rectangle([int(40 * unit), top_y, w - int(40 * unit), top_y + box_h], radius=int(28 * unit),
                                    fill=(255, 255, 255, 215))
        for index, line in enumerate(lines):
            text_draw.text((int(70 * unit), top_y + int(30 * unit) + index * line_height), line, font=font,
                           fill=(30, 30, 36, 255))
        image = Image.alpha_composite(image, text_layer)
    return image.convert("RGB")


# Product shots: one silhouette per vertical (bottle, box, bag…) on a soft studio background.
PRODUCT_SHAPES = {"beauty": "bottle", "mother_baby": "bottle", "outdoor": "bag", "digital": "box", "food": "box",
                  "travel": "bag", "fashion": "bag", "home": "box"}


def make_product_image(label: str, vertical: str, seed: int, size: tuple[int, int] = (512, 512)) -> Image.Image:
    """A square packshot-like picture with `label` on the product; same arguments, same picture."""
    rng = random.Random(seed)
    hue, sat, _style = PALETTES.get(vertical, (rng.random(), 0.5, "circles"))
    hue += rng.uniform(-0.08, 0.08)
    w, h = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, _rgb(hue + 0.04, 0.84, sat * 0.5)),
                            Image.new("RGB", size, _rgb(hue, 0.95, sat * 0.4)), gradient).convert("RGBA")
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    body = _rgb(hue + rng.uniform(-0.15, 0.15), rng.uniform(0.4, 0.62), min(1.0, sat + 0.1))
    dark = _rgb(hue, 0.25, sat)
    cx = w // 2
    draw.ellipse([cx - int(w * 0.3), int(h * 0.84), cx + int(w * 0.3), int(h * 0.92)], fill=(0, 0, 0, 40))
    shape = PRODUCT_SHAPES.get(vertical, "box")
    if shape == "bottle":
        half = int(w * rng.uniform(0.14, 0.2))
        top = int(h * rng.uniform(0.28, 0.36))
        draw.rounded_rectangle([cx - half, top, cx + half, int(h * 0.88)], radius=half // 2, fill=(*body, 255))
        neck = max(8, half // 2)
        draw.rounded_rectangle([cx - neck, top - int(h * 0.14), cx + neck, top + 6], radius=6, fill=(*dark, 255))
        band = (cx - half + 6, int(h * 0.55), cx + half - 6, int(h * 0.7))
    elif shape == "bag":
        half = int(w * rng.uniform(0.24, 0.3))
        top = int(h * 0.36)
        draw.arc([cx - half // 2, top - int(h * 0.16), cx + half // 2, top + int(h * 0.12)], 180, 360,
                 fill=(*dark, 255), width=max(6, w // 50))
        draw.polygon([(cx - half + 18, top), (cx + half - 18, top), (cx + half, int(h * 0.88)),
                      (cx - half, int(h * 0.88))], fill=(*body, 255))
        band = (cx - half + 26, int(h * 0.56), cx + half - 26, int(h * 0.7))
    else:  # box
        half = int(w * rng.uniform(0.26, 0.33))
        top = int(h * rng.uniform(0.3, 0.4))
        draw.rounded_rectangle([cx - half, top, cx + half, int(h * 0.88)], radius=18, fill=(*body, 255))
        draw.rectangle([cx - half, top + int(h * 0.06), cx + half, top + int(h * 0.075)], fill=(*dark, 120))
        band = (cx - half + 20, int(h * 0.56), cx + half - 20, int(h * 0.72))
    for _ in range(2):  # a highlight or two, so the shapes do not look flat
        x = rng.randint(cx - half + 10, cx - half // 3)
        draw.rounded_rectangle([x, int(h * 0.42), x + max(6, w // 60), int(h * 0.8)], radius=6,
                               fill=(255, 255, 255, rng.randint(40, 80)))
    draw.rounded_rectangle(band, radius=10, fill=(255, 255, 255, 225))
    image = Image.alpha_composite(image, layer)
    if can_draw(label):
        text_draw = ImageDraw.Draw(image)
        width = band[2] - band[0] - 16
        font_size = int((band[3] - band[1]) * 0.5)
        font = _font(font_size, _has_cjk(label))
        while font_size > 12 and text_draw.textlength(label, font=font) > width:
            font_size -= 2
            font = _font(font_size, _has_cjk(label))
        text_draw.text(((band[0] + band[2]) / 2, (band[1] + band[3]) / 2), label, font=font, fill=(*dark, 255),
                       anchor="mm")
    return image.convert("RGB")

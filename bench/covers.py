"""Time to draw every demo picture in one process: the note covers and the product pictures a default
`flask seed-demo` makes (3000 covers at 540x720, ~260 product pictures at 512x512), drawing only (the seed
also encodes WebP, in parallel worker processes; that part does not depend on the drawing code).

    nice -n 5 .venv/bin/python bench/covers.py [--posts 3000] [--products 260] [--out /tmp/h2]
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from app.demo import content, covers, shop_content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--products", type=int, default=260)
    parser.add_argument("--out", help="also save the first cover and product picture of each vertical here (PNG)")
    args = parser.parse_args()
    rng = random.Random(2026)
    verticals = list(content.SUBJECTS)
    notes = []
    for index in range(args.posts):
        vertical = verticals[index % len(verticals)]
        title, _body, _tags = content.note_text(vertical, rng.random() < 0.5, rng)
        notes.append((title, vertical, 2026 * 100_000 + index))
    products = []
    for index in range(args.products):
        vertical = verticals[index % len(verticals)]
        _zh, en = rng.choice(shop_content.PRODUCTS[vertical])
        products.append((en, vertical, 2026 * 10_000 + index))
    start = time.perf_counter()
    for title, vertical, seed in notes:
        covers.make_cover(title, vertical, seed, (540, 720))
    middle = time.perf_counter()
    for label, vertical, seed in products:
        covers.make_product_image(label, vertical, seed, (512, 512))
    end = time.perf_counter()
    print(f"{args.posts} covers: {middle - start:.2f} s ({1000 * (middle - start) / max(1, args.posts):.1f} ms each)")
    print(f"{args.products} product pictures: {end - middle:.2f} s "
          f"({1000 * (end - middle) / max(1, args.products):.1f} ms each)")
    print(f"total: {end - start:.2f} s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        seen: set[str] = set()
        for title, vertical, seed in notes:
            if vertical not in seen:
                seen.add(vertical)
                covers.make_cover(title, vertical, seed, (540, 720)).save(out / f"cover-{vertical}.png")
        seen.clear()
        for label, vertical, seed in products:
            if vertical not in seen:
                seen.add(vertical)
                covers.make_product_image(label, vertical, seed, (512, 512)).save(out / f"product-{vertical}.png")


if __name__ == "__main__":
    main()

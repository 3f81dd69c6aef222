"""The demo's words and pictures: titles name their subject, bodies stay on it, hundreds of notes do not repeat
one template, products come in options that fit them, and every subject and product has a picture."""
import random
from collections import Counter

from app.demo import content, covers, shop_content
from app.demo.note_copy import VERTICALS
from app.demo.taste import subject_of


def _tips(subject, chinese: bool) -> list[str]:
    tips = subject.tips_zh if chinese else subject.tips_en
    return [tip.rstrip("。") for tip in tips]


def test_every_title_names_its_own_subject_in_both_languages():
    for vertical, copy in VERTICALS.items():
        for index, subject in enumerate(copy.subjects):
            hooked = [f"{hook}｜{title}" for hook in copy.hooks_zh for title in subject.titles_zh]
            hooked += [f"{hook} | {title}" for hook in copy.hooks_en for title in subject.titles_en]
            for title in subject.titles_zh + hooked + subject.titles_en:
                assert subject_of(title, vertical) == index, (vertical, title)


def test_a_body_is_about_its_title_subject_and_no_other():
    rng = random.Random(7)
    for vertical, copy in VERTICALS.items():
        for _ in range(60):
            chinese = rng.random() < 0.5
            title, body, tags = content.note_text(vertical, chinese, rng)
            index = subject_of(title, vertical)
            assert index >= 0, title
            own = [tip for tip in _tips(copy.subjects[index], chinese) if tip in body]
            others = [tip for i, other in enumerate(copy.subjects) if i != index
                      for tip in _tips(other, chinese) if tip in body]
            assert len(own) >= 3 and not others, (title, body)
            assert tags and f"#{tags[0]}" in body


def test_notes_are_in_the_language_of_their_author():
    rng = random.Random(3)
    for vertical in VERTICALS:
        title, body, _tags = content.note_text(vertical, False, rng)
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in title + body), (title, body)
        title, body, _tags = content.note_text(vertical, True, rng)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title) and "。" in body or "，" in body


def test_hundreds_of_notes_do_not_look_templated():
    rng = random.Random(11)
    for vertical in VERTICALS:
        notes = [content.note_text(vertical, rng.random() < 0.5, rng) for _ in range(300)]
        bodies = Counter(body for _title, body, _tags in notes)
        titles = Counter(title for title, _body, _tags in notes)
        assert len(bodies) >= 295, vertical
        assert len(titles) >= 150 and titles.most_common(1)[0][1] <= 9, (vertical, titles.most_common(3))  # ≤ 3 %


def test_subjects_stay_the_interface_taste_reads():
    assert set(content.SUBJECTS) == set(VERTICALS)
    for pairs in content.SUBJECTS.values():
        assert len(pairs) >= 5 and all(isinstance(zh, str) and isinstance(en, str) for zh, en in pairs)


def test_products_come_in_options_that_fit_them():
    rng = random.Random(5)
    volumes = ("ml", "g", "kg")
    for vertical, kinds in shop_content.KINDS.items():
        planned = shop_content.plan_products(vertical, 27, rng)
        assert len(planned) == 27
        assert {p.noun_en for p in planned} == {k.label for k in kinds}  # every kind before repeats
        for product in planned:
            kind = next(k for k in kinds if k.label == product.noun_en)
            labels = [label for label, _price in product.options]
            assert product.options and len(set(labels)) == len(labels)
            order = [option for option, _delta in kind.options]
            assert labels == sorted(labels, key=order.index)  # sizes and shades in their natural order
            for label, price in product.options:
                assert price % 1000 == 900, (product.title, label, price)  # ¥…9, like real prices
                assert label in {option for option, _delta in kind.options}
            low, high = kind.price
            assert low * 100 - 10_000 <= min(p for _l, p in product.options) <= (high + 10) * 100 + 50_000
    lipstick = next(k for k in shop_content.KINDS["beauty"] if k.label == "Lipstick")
    assert not any(unit in label for label, _ in lipstick.options for unit in volumes)  # no 50 ml lipstick
    sunscreen = next(k for k in shop_content.KINDS["beauty"] if k.label == "Sunscreen")
    assert all("ml" in label for label, _ in sunscreen.options)
    tent = next(k for k in shop_content.KINDS["outdoor"] if k.label == "Tent")
    assert not any(unit in label for label, _ in tent.options for unit in volumes)


def test_the_older_flat_catalog_still_serves_its_callers():
    for vertical in shop_content.SHOPS:
        assert len(shop_content.OPTIONS[vertical]) >= 4  # callers pick up to four distinct labels
        assert len(shop_content.QUALIFIERS) * len(shop_content.PRODUCTS[vertical]) >= 27


def test_every_subject_and_product_has_a_picture_of_it():
    for pairs in content.SUBJECTS.values():
        for _zh, en in pairs:
            assert en.lower() in covers.SUBJECT_SHAPES, en
    for kinds in shop_content.KINDS.values():
        for kind in kinds:
            shape = covers._product_shape(kind.label)
            assert shape and not covers.SHAPES[shape][3], kind.label
    assert covers._subject("新手必看：防晒霜到底怎么选", "beauty") == "sunscreen"
    assert covers.SUBJECT_SHAPES[covers._subject("Pitching a tent in five minutes", "outdoor")] == "tent"


def test_pictures_are_deterministic_and_sized():
    first = covers.make_cover("How to choose a sunscreen", "beauty", 42, (180, 240))
    again = covers.make_cover("How to choose a sunscreen", "beauty", 42, (180, 240))
    assert first.size == (180, 240) and first.tobytes() == again.tobytes()
    other = covers.make_cover("Anything at all", "nowhere", 1, (180, 240))  # unknown subject and vertical
    assert other.size == (180, 240)
    product = covers.make_product_image("Sheer Fluid Sunscreen SPF50+", "beauty", 3, (128, 128))
    assert product.size == (128, 128) and product.mode == "RGB"

"""Bilingual demo text: communities, note titles, bodies, tags and comments per vertical (the words themselves
are in note_copy)."""
# ruff: noqa: E501  (bilingual copy reads better unwrapped)
from __future__ import annotations

import random

from app.demo.note_copy import VERTICALS

COMMUNITIES = [
    # slug, vertical, name, description (the owner's language), rules
    ("glow", "beauty", "美妆护肤 Glow Lab", "成分党的护肤笔记：防晒、精华、敏感肌。Ingredient-first skincare notes.",
     "1. 真实使用体验\n2. 标注是否为赠品\n3. No spam links"),
    ("little-ones", "mother_baby", "母婴育儿 Little Ones", "新手爸妈互助：喂养、睡眠、好物清单。Parents helping parents.",
     "1. Be kind\n2. 不提供医疗建议，请咨询医生"),
    ("trailhead", "outdoor", "Trailhead 户外徒步", "Hiking, camping and gear reviews from people who actually go outside.",
     "1. Leave no trace\n2. Gear reviews need real use\n3. 尊重他人"),
    ("gadget-lab", "digital", "数码控 Gadget Lab", "Phones, cameras, keyboards and everything with a battery.",
     "1. No piracy\n2. Say if a device was sent to you for review"),
    ("food-hunters", "food", "美食探店 Food Hunters", "城市探店、家常菜谱、零食测评。Eat first, review later.",
     "1. 注明城市和人均\n2. No ads without disclosure"),
    ("wanderlust", "travel", "Wanderlust 旅行攻略", "Itineraries, hotels and hidden corners. 旅行攻略与避坑指南。",
     "1. Share real costs\n2. 尊重当地文化"),
    ("ootd", "fashion", "穿搭 OOTD", "每日穿搭、身材友好、通勤风。Everyday outfits for real bodies.",
     "1. Body-positive only\n2. 标注尺码"),
    ("nest", "home", "Nest 家居生活", "Small apartments, storage ideas and slow living. 小户型收纳与好物。",
     "1. Before/after photos welcome\n2. 不要硬广"),
]

# vertical → [(zh, en)]: the words a note's title contains when it is about that subject (taste.subject_of
# matches them: zh as written, en case-insensitively). Derived from the copy, so they always agree.
SUBJECTS = {vertical: [(s.zh, s.en) for s in copy.subjects] for vertical, copy in VERTICALS.items()}
COMMENTS_ZH = ["好详细！收藏了", "求链接～", "我也在用，同感", "请问适合敏感肌吗？", "看完种草了", "感谢分享！",
               "价格多少呀", "这个颜色好好看", "写得好认真，码住慢慢看", "第三条太有用了，我一直做错", "同城吗？想去同一家",
               "蹲一个后续～", "新手求问，预算500左右怎么选？", "刚下单，希望不踩雷🙏", "照片拍得好有氛围", "终于有人说实话了",
               "我用了一周也是这个感觉", "博主皮肤好好", "收藏从未停止，行动从未开始😂", "马住，周末试试"]
COMMENTS_EN = ["Super helpful, saved!", "Where did you buy it?", "Same experience here.", "How does it hold up in rain?",
               "Adding this to my list.", "Thanks for the honest take!", "What size did you get?", "Great photos!",
               "Tip three is the one nobody tells you.", "Bookmarking this for my next trip.", "Did you try the other one too?",
               "This is so detailed, thank you.", "I made that exact mistake last month.", "Following for the update!",
               "What's your budget range for this?", "Ordered one after reading this.", "The before and after is wild.",
               "Love how practical this is.", "Is it worth it for a complete beginner?", "Same, and I'm never going back."]
TAGS = {
    "beauty": ["护肤", "美妆", "skincare", "beauty"], "mother_baby": ["育儿", "新手妈妈", "baby", "母婴好物"],
    "outdoor": ["徒步", "露营", "hiking", "gear"], "digital": ["数码", "开箱", "tech", "review"],
    "food": ["探店", "美食", "foodie", "家常菜"], "travel": ["旅行", "攻略", "travel", "citywalk"],
    "fashion": ["穿搭", "ootd", "通勤", "style"], "home": ["家居", "收纳", "homedecor", "好物"],
}
_BULLETS_ZH = ["✅", "📌", "🔸", "👉"]
_NUMBERS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣"]
_TITLE_EMOJI = ["✨", "🔥", "💡", "📝", "👀"]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _title(vertical: str, subject, chinese: bool, rng: random.Random) -> str:
    copy = VERTICALS[vertical]
    if chinese:
        title = rng.choice(subject.titles_zh)
        if "｜" not in title and rng.random() < 0.45:
            title = f"{rng.choice(copy.hooks_zh)}｜{title}"
    else:
        title = rng.choice(subject.titles_en)
        if copy.hooks_en and rng.random() < 0.45:
            title = f"{rng.choice(copy.hooks_en)} | {title}"
    if rng.random() < 0.3 and not any(e in title for e in copy.emoji):
        title = f"{title} {rng.choice(_TITLE_EMOJI)}"
    return title


def _tips(tips: list[str], chinese: bool, rng: random.Random) -> str:
    """Three or four of the subject's sentences, as a ticked list, a numbered list or two short paragraphs."""
    picked = rng.sample(tips, min(len(tips), rng.choice([3, 3, 4])))
    style = rng.choice(["bullets", "numbers", "prose"])
    if style == "prose":
        half = (len(picked) + 1) // 2
        joiner = "" if chinese else " "
        return joiner.join(picked[:half]) + "\n\n" + joiner.join(picked[half:])
    lines = [tip[:-1] if chinese and tip.endswith("。") else tip for tip in picked]
    if style == "numbers":
        return "\n".join(f"{_NUMBERS[i]} {line}" for i, line in enumerate(lines))
    if chinese:
        mark = rng.choice(_BULLETS_ZH)
        return "\n".join(f"{mark} {line}" for line in lines)
    return "\n".join(f"- {line}" for line in lines)


def note_text(vertical: str, chinese: bool, rng: random.Random) -> tuple[str, str, list[str]]:
    """(title, Markdown body with #hashtags, explicit tags) for one demo note: a subject of the vertical, a title
    about it, and a first-person body whose middle is that subject's own advice."""
    copy = VERTICALS[vertical]
    subject = rng.choice(copy.subjects)
    title = _title(vertical, subject, chinese, rng)
    opener = rng.choice(copy.open_zh if chinese else copy.open_en)
    if rng.random() < 0.5:
        opener += ("" if chinese else " ") + rng.choice(copy.emoji)
    closer = rng.choice(copy.close_zh if chinese else copy.close_en)
    own = subject.tags_zh if chinese else subject.tags_en
    general = [t for t in TAGS[vertical] if _has_cjk(t) == chinese] or TAGS[vertical]
    tags = own[:rng.choice([1, 2])] + rng.sample(general, 1)
    body = "\n\n".join([opener, _tips(subject.tips_zh if chinese else subject.tips_en, chinese, rng), closer,
                        " ".join(f"#{tag}" for tag in dict.fromkeys(tags))])
    return title[:100], body, [own[0]]


def comment_text(chinese: bool, rng: random.Random) -> str:
    return rng.choice(COMMENTS_ZH if chinese else COMMENTS_EN)

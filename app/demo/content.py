"""Bilingual demo text: communities, note titles, bodies, tags and comments per vertical."""
# ruff: noqa: E501  (bilingual copy reads better unwrapped)
from __future__ import annotations

import random

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

SUBJECTS = {
    "beauty": [("防晒霜", "sunscreen"), ("精华", "serum"), ("面霜", "moisturizer"), ("卸妆油", "cleansing oil"),
               ("口红", "lipstick"), ("粉底液", "foundation"), ("面膜", "sheet mask")],
    "mother_baby": [("婴儿推车", "stroller"), ("纸尿裤", "diapers"), ("奶瓶", "baby bottle"), ("安全座椅", "car seat"),
                    ("辅食机", "baby food maker"), ("背带", "baby carrier")],
    "outdoor": [("帐篷", "tent"), ("登山鞋", "hiking boots"), ("冲锋衣", "rain shell"), ("睡袋", "sleeping bag"),
                ("登山杖", "trekking poles"), ("头灯", "headlamp"), ("背包", "backpack")],
    "digital": [("降噪耳机", "noise-cancelling headphones"), ("机械键盘", "mechanical keyboard"), ("相机", "camera"),
                ("平板", "tablet"), ("充电宝", "power bank"), ("智能手表", "smartwatch")],
    "food": [("火锅", "hotpot"), ("小笼包", "soup dumplings"), ("咖啡", "coffee"), ("烧烤", "barbecue"),
             ("甜品", "dessert"), ("拉面", "ramen"), ("早餐", "breakfast")],
    "travel": [("云南", "Yunnan"), ("京都", "Kyoto"), ("成都", "Chengdu"), ("冰岛", "Iceland"), ("新疆", "Xinjiang"),
               ("里斯本", "Lisbon"), ("民宿", "guesthouse")],
    "fashion": [("风衣", "trench coat"), ("牛仔裤", "jeans"), ("小白鞋", "white sneakers"), ("针织衫", "knit sweater"),
                ("通勤包", "work bag"), ("连衣裙", "dress")],
    "home": [("收纳盒", "storage boxes"), ("香薰", "candles"), ("落地灯", "floor lamp"), ("沙发", "sofa"),
             ("床品", "bedding"), ("绿植", "houseplants")],
}
TITLE_TEMPLATES_ZH = ["{s}真实测评｜用了一个月说说感受", "新手必看：{s}怎么选", "{s}清单，闭眼入不踩雷",
                      "平价{s}也能这么好用", "我的{s}避坑指南", "{s}对比：哪款最值得买", "周末和{s}的一天"]
TITLE_TEMPLATES_EN = ["An honest {s} review after a month", "How to choose a {s}: a beginner's guide",
                      "{S} picks that are actually worth it", "Budget {s} that punches above its weight",
                      "What I wish I knew before buying a {s}", "{S} showdown: which one wins?", "A weekend with my {s}"]
BODY_ZH = ["先说结论：整体满意，细节上还有提升空间。", "用了大概四周，每天都在用。", "包装很简洁，上手很快。",
           "优点是轻便、好清洁；缺点是价格略贵。", "和之前用的那款相比，体验明显更好。", "适合新手，也适合预算有限的朋友。",
           "如果你在纠结，可以先买小样试试。", "客服回复很快，物流两天就到了。"]
BODY_EN = ["Short version: I'm happy with it, with a couple of caveats.", "I've used it almost daily for four weeks.",
           "Setup took five minutes and it just worked.", "Pros: light and easy to clean. Cons: a bit pricey.",
           "Compared with what I had before, it's a clear step up.", "Good for beginners and tight budgets alike.",
           "If you're on the fence, try the travel size first.", "Delivery took two days and support was quick."]
COMMENTS_ZH = ["好详细！收藏了", "求链接～", "我也在用，同感", "请问适合敏感肌吗？", "看完种草了", "感谢分享！",
               "价格多少呀", "这个颜色好好看"]
COMMENTS_EN = ["Super helpful, saved!", "Where did you buy it?", "Same experience here.", "How does it hold up in rain?",
               "Adding this to my list.", "Thanks for the honest take!", "What size did you get?", "Great photos!"]
TAGS = {
    "beauty": ["护肤", "防晒", "skincare", "敏感肌"], "mother_baby": ["育儿", "新手妈妈", "baby", "母婴好物"],
    "outdoor": ["徒步", "露营", "hiking", "gear"], "digital": ["数码", "开箱", "tech", "review"],
    "food": ["探店", "美食", "foodie", "家常菜"], "travel": ["旅行", "攻略", "travel", "citywalk"],
    "fashion": ["穿搭", "ootd", "通勤", "style"], "home": ["家居", "收纳", "homedecor", "好物"],
}


def note_text(vertical: str, chinese: bool, rng: random.Random) -> tuple[str, str, list[str]]:
    """(title, Markdown body with #hashtags, explicit tags) for one demo note."""
    zh, en = rng.choice(SUBJECTS[vertical])
    if chinese:
        title = rng.choice(TITLE_TEMPLATES_ZH).format(s=zh)
        sentences = rng.sample(BODY_ZH, 4)
    else:
        title = rng.choice(TITLE_TEMPLATES_EN).format(s=en, S=en[:1].upper() + en[1:])
        sentences = rng.sample(BODY_EN, 4)
    tags = rng.sample(TAGS[vertical], 2)
    body = "\n\n".join([" ".join(sentences[:2]), "- " + sentences[2] + "\n- " + sentences[3],
                        " ".join(f"#{tag}" for tag in tags)])
    return title[:100], body, [zh if chinese else en.split()[0].lower()]


def comment_text(chinese: bool, rng: random.Random) -> str:
    return rng.choice(COMMENTS_ZH if chinese else COMMENTS_EN)

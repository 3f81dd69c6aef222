"""Bilingual demo catalog: one shop per community vertical, the products they sell and their options."""
# ruff: noqa: E501  (bilingual copy reads better unwrapped)
from __future__ import annotations

# vertical → (slug, name, description, price range in CNY fen)
SHOPS = {
    "beauty": ("mia-skincare", "Mia 小众护肤 Small-Batch Skincare", "杭州小众护肤品牌，成分透明。Small-batch skincare from Hangzhou, every ingredient listed.", (5_900, 39_900)),
    "mother_baby": ("little-steps", "小脚丫母婴 Little Steps", "新手爸妈的安心好物。Gear and basics tested by parents.", (3_900, 199_900)),
    "outdoor": ("summit-gear", "山顶装备 Summit Gear", "轻量化徒步露营装备。Lightweight hiking and camping gear.", (4_900, 259_900)),
    "digital": ("byte-box", "字节盒子数码 Byte Box", "耳机、键盘和桌面好物。Headphones, keyboards and desk gadgets.", (9_900, 299_900)),
    "food": ("pantry-hunters", "寻味食品铺 Pantry Hunters", "全国各地的地道风味。Regional snacks and pantry staples from all over China.", (990, 19_900)),
    "travel": ("wander-kit", "行者旅行用品 Wander Kit", "出发前的最后一站。Luggage and travel organisers.", (5_900, 89_900)),
    "fashion": ("daily-fit", "日常衣橱 Daily Fit", "通勤与周末的基础款。Everyday basics for work and weekends.", (7_900, 69_900)),
    "home": ("nest-living", "小窝家居 Nest Living", "小户型收纳与氛围好物。Storage and cosy things for small homes.", (2_900, 129_900)),
}

# vertical → [(Chinese noun, English noun)]
PRODUCTS = {
    "beauty": [("防晒霜", "Sunscreen"), ("精华液", "Serum"), ("面霜", "Moisturizer"), ("卸妆油", "Cleansing Oil"),
               ("口红", "Lipstick"), ("粉底液", "Foundation"), ("面膜", "Sheet Mask"), ("洁面乳", "Cleanser")],
    "mother_baby": [("婴儿推车", "Stroller"), ("纸尿裤", "Diapers"), ("奶瓶", "Baby Bottle"), ("安全座椅", "Car Seat"),
                    ("辅食机", "Baby Food Maker"), ("背带", "Baby Carrier"), ("湿巾", "Baby Wipes")],
    "outdoor": [("帐篷", "Tent"), ("登山鞋", "Hiking Boots"), ("冲锋衣", "Rain Shell"), ("睡袋", "Sleeping Bag"),
                ("登山杖", "Trekking Poles"), ("头灯", "Headlamp"), ("背包", "Backpack")],
    "digital": [("降噪耳机", "Headphones"), ("机械键盘", "Keyboard"), ("充电宝", "Power Bank"), ("智能手表", "Smartwatch"),
                ("蓝牙音箱", "Speaker"), ("手机壳", "Phone Case"), ("数据线", "Cable")],
    "food": [("挂耳咖啡", "Drip Coffee"), ("螺蛳粉", "Snail Noodles"), ("牛肉干", "Beef Jerky"), ("坚果礼盒", "Mixed Nuts"),
             ("火锅底料", "Hotpot Base"), ("乌龙茶", "Oolong Tea"), ("辣椒酱", "Chili Crisp")],
    "travel": [("行李箱", "Suitcase"), ("颈枕", "Neck Pillow"), ("收纳袋", "Packing Cubes"), ("转换插头", "Travel Adapter"),
               ("洗漱包", "Toiletry Bag"), ("护照夹", "Passport Wallet")],
    "fashion": [("风衣", "Trench Coat"), ("牛仔裤", "Jeans"), ("小白鞋", "White Sneakers"), ("针织衫", "Knit Sweater"),
                ("通勤包", "Work Bag"), ("连衣裙", "Dress"), ("T恤", "T-Shirt")],
    "home": [("收纳盒", "Storage Box"), ("香薰蜡烛", "Scented Candle"), ("落地灯", "Floor Lamp"), ("四件套", "Bedding Set"),
             ("马克杯", "Mug"), ("抱枕", "Cushion")],
}

QUALIFIERS = [("轻盈", "Light"), ("经典", "Classic"), ("升级版", "Pro"), ("便携", "Compact"), ("柔软", "Soft"),
              ("旗舰", "Flagship"), ("基础款", "Essential"), ("限定", "Limited"), ("自然", "Natural"), ("城市", "Urban")]

# vertical → option labels a product picks 1–4 of, in order
OPTIONS = {
    "beauty": ["30ml", "50ml", "100ml", "旅行装 Travel size", "#01 Rose", "#02 Coral", "#03 Nude"],
    "mother_baby": ["NB", "S", "M", "L", "0-6个月 0-6 months", "6-12个月 6-12 months"],
    "outdoor": ["S", "M", "L", "XL", "墨绿 Forest", "沙色 Sand", "黑色 Black"],
    "digital": ["黑色 Black", "白色 White", "蓝色 Blue", "10000mAh", "20000mAh"],
    "food": ["250g", "500g", "1kg", "微辣 Mild", "特辣 Extra hot", "礼盒 Gift box"],
    "travel": ["20寸 20in", "24寸 24in", "28寸 28in", "灰色 Grey", "蓝色 Navy"],
    "fashion": ["S", "M", "L", "XL", "米色 Beige", "黑色 Black"],
    "home": ["小号 Small", "中号 Medium", "大号 Large", "奶白 Cream", "雾蓝 Mist blue"],
}

DESCRIPTIONS = ["用料扎实，细节做得很用心。Solid materials and careful details.",
                "我们自己每天都在用。We use it every day ourselves.",
                "七天无理由退换。Seven-day no-questions returns.",
                "小批量生产，售完即止。Made in small batches; when it's gone, it's gone.",
                "适合送礼，也适合犒劳自己。A good gift, or a treat for yourself."]

# A shop waiting for the admin's review, so the approval queue is not empty.
APPLICATION = ("tea-corner", "茶角 Tea Corner", "云南古树茶，产地直发。Single-estate tea from Yunnan.")

TRACKING_PREFIXES = ["SF", "YT", "ZTO", "JD"]

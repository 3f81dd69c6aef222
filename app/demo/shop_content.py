"""Bilingual demo catalog: one shop per community vertical, the kinds of product they sell, and for each kind its
names, its price range, the options it comes in (sizes, shades, capacities… with what each adds to the price)
and a line about it. `plan_products` turns that into products; the flat tables below it (PRODUCTS, QUALIFIERS,
OPTIONS, DESCRIPTIONS) are the older, per-vertical view of the same catalog, kept for callers that use them.
"""
# ruff: noqa: E501, RUF001  (bilingual copy reads better unwrapped; full-width punctuation is Chinese)
from __future__ import annotations

import random
from typing import NamedTuple

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


class Kind(NamedTuple):
    zh: str  # the noun a note's title uses for it ("防晒"), so notes about it find it
    label: str  # its English name, printed on its picture (covers.PRODUCT_SHAPES knows each)
    names: list[tuple[str, str]]  # product names (zh, en)
    price: tuple[int, int]  # base price range in yuan
    options: list[tuple[str, int]]  # option label and what it adds to the base price (yuan)
    pick: str  # "first" (sizes: the smallest k, in order) or "any" (shades, colours: any k, same price)
    about: list[str]  # one bilingual line about the product each


_SKIN = ("适合混合肌和敏感肌。Suits combination and sensitive skin.", "无香精、无酒精。Fragrance-free, alcohol-free.")
_COLOURS_BABY = [("奶白 Cream", 0), ("雾蓝 Mist blue", 0), ("燕麦 Oat", 0), ("浅灰 Pebble grey", 0)]
_COLOURS_GEAR = [("墨绿 Forest", 0), ("沙色 Sand", 0), ("黑色 Black", 0), ("橙色 Ember", 0)]
_COLOURS_TECH = [("黑色 Black", 0), ("白色 White", 0), ("雾蓝 Mist blue", 0), ("浅绿 Sage", 0)]
_COLOURS_BAG = [("黑色 Black", 0), ("深棕 Chocolate", 0), ("燕麦 Oat", 0), ("雾蓝 Mist blue", 0)]
_SIZES = [("S", 0), ("M", 0), ("L", 0), ("XL", 0)]

KINDS: dict[str, list[Kind]] = {
    "beauty": [
        Kind("防晒", "Sunscreen", [("清透防晒乳 SPF50+ PA++++", "Sheer Fluid Sunscreen SPF50+"), ("水感防晒啫喱", "Watery Gel Sunscreen SPF50"),
                                  ("温和物理防晒霜", "Mineral Sunscreen SPF30"), ("通勤防晒乳", "Daily Commute Sunscreen SPF35")],
             (89, 169), [("30ml", 0), ("50ml", 40), ("50ml×2 两支装 Twin pack", 120)], "first",
             ["清爽不粘，上妆不搓泥。Light, non-sticky, sits well under makeup.", "防水防汗，户外也能用。Water- and sweat-resistant for outdoor days."]),
        Kind("精华", "Serum", [("烟酰胺精华液", "10% Niacinamide Serum"), ("维C焕亮精华", "Vitamin C Brightening Serum"),
                              ("A醇修护精华", "Gentle Retinol Serum"), ("积雪草修护精华", "Centella Repair Serum")],
             (159, 399), [("15ml", 0), ("30ml", 110)], "first",
             ["滴管设计，一次两三滴。Dropper bottle; two or three drops per use.", "避光瓶装，开封后三个月内用完。Light-proof bottle; finish within three months of opening."]),
        Kind("面霜", "Face Cream", [("神经酰胺修护面霜", "Ceramide Barrier Cream"), ("清爽保湿凝霜", "Oil-Free Gel Cream"),
                                   ("夜间滋润晚霜", "Rich Night Cream")],
             (129, 299), [("50g", 0), ("15g 旅行装 Travel size", -80)], "first",
             ["罐装附挖勺。Jar with a spatula.", "质地绵密，吸收快。Dense but sinks in fast."]),
        Kind("卸妆油", "Cleansing Oil", [("温和卸妆油", "Gentle Cleansing Oil"), ("植物卸妆油", "Botanical Cleansing Oil")],
             (99, 199), [("150ml", 0), ("200ml", 40)], "first",
             ["乳化快，冲洗不油腻。Emulsifies fast and rinses clean.", "能卸防水睫毛膏。Takes off waterproof mascara."]),
        Kind("口红", "Lipstick", [("丝绒雾面口红", "Velvet Matte Lipstick"), ("水润光泽口红", "Satin Glow Lipstick"),
                                 ("滋润唇膏笔", "Balmy Lip Crayon")],
             (99, 259), [("#01 玫瑰豆沙 Rosewood", 0), ("#02 砖红 Brick", 0), ("#03 奶茶 Milk tea", 0), ("#04 正红 True red", 0)], "any",
             ["3.5克，质地顺滑不拔干。3.5 g, smooth and not drying.", "金属管身，磁吸盖。Metal case with a magnetic cap."]),
        Kind("粉底", "Foundation", [("持妆粉底液", "Long-Wear Foundation"), ("水光粉底液", "Dewy Skin Foundation")],
             (169, 399), [("#01 象牙白 Ivory", 0), ("#02 自然色 Natural", 0), ("#03 小麦色 Sand", 0)], "any",
             ["30ml，中等遮瑕。30 ml, medium coverage.", "在下颌线试色最准。Swatch on your jawline."]),
        Kind("面膜", "Sheet Mask", [("补水面膜", "Hydrating Sheet Mask"), ("舒缓修护面膜", "Soothing Sheet Mask")],
             (59, 129), [("5片装 Box of 5", 0), ("10片装 Box of 10", 50)], "first",
             ["每片25ml精华液。25 ml of essence per sheet.", "天丝膜布，贴合不滑。Soft lyocell sheet that stays put."]),
        Kind("洁面", "Cleanser", [("氨基酸洁面乳", "Amino Acid Cleanser"), ("温和洁面啫喱", "Gentle Gel Cleanser")],
             (59, 129), [("100g", 0), ("150g", 30)], "first", list(_SKIN)),
    ],
    "mother_baby": [
        Kind("推车", "Stroller", [("轻便折叠婴儿推车", "Cabin-Size Folding Stroller"), ("高景观婴儿推车", "Full-Size Stroller")],
             (899, 2599), _COLOURS_BABY, "any",
             ["一键收车，车重6.8kg。One-hand fold, 6.8 kg.", "可坐可躺，靠背调到175度。Sits or lies flat, reclines to 175°."]),
        Kind("纸尿裤", "Diapers", [("柔薄纸尿裤", "Ultra-Thin Diapers"), ("夜用纸尿裤", "Overnight Diapers")],
             (89, 169), [("NB 84片 NB ×84", 0), ("S 76片 S ×76", 0), ("M 62片 M ×62", 0), ("L 52片 L ×52", 0), ("XL 44片 XL ×44", 0)], "first",
             ["透气不闷，一整包按尺码算片数。Breathable; counts per pack vary by size.", "腰贴可反复粘。Re-sealable tabs."]),
        Kind("奶瓶", "Baby Bottle", [("宽口径PPSU奶瓶", "Wide-Neck PPSU Bottle"), ("防胀气玻璃奶瓶", "Anti-Colic Glass Bottle")],
             (79, 189), [("160ml", 0), ("240ml", 20), ("300ml", 30)], "first",
             ["附赠新生儿流速奶嘴。Comes with a newborn-flow teat.", "耐高温，可蒸汽消毒。Heat-proof, steriliser-safe."]),
        Kind("安全座椅", "Car Seat", [("ISOFIX安全座椅", "ISOFIX Car Seat"), ("360度旋转安全座椅", "360° Swivel Car Seat")],
             (1299, 2999), _COLOURS_BABY[:3], "any",
             ["0–4岁，可反向安装到15个月以上。0–4 years, rear-facing past 15 months.", "ISOFIX接口，安装有指示。ISOFIX with fit indicators."]),
        Kind("辅食", "Baby Food Maker", [("蒸煮搅拌辅食机", "Steam-and-Blend Baby Food Maker")],
             (299, 699), _COLOURS_BABY[:3], "any",
             ["蒸和打一体，300ml杯。Steams and blends in one 300 ml jar.", "刀头可拆洗。Removable blade for cleaning."]),
        Kind("背带", "Baby Carrier", [("透气婴儿背带", "Breathable Baby Carrier"), ("腰凳背带", "Hip Seat Carrier")],
             (299, 799), _COLOURS_BABY, "any",
             ["M型坐姿，护髋。Hip-healthy M position.", "网眼面料，夏天不闷。Mesh panels for summer."]),
        Kind("湿巾", "Baby Wipes", [("婴儿手口湿巾", "Hand and Mouth Baby Wipes"), ("纯水湿巾", "Water Baby Wipes")],
             (39, 69), [("80抽×3包 3 × 80 wipes", 0), ("80抽×6包 6 × 80 wipes", 40)], "first",
             ["99%纯水，无香精。99% water, no fragrance.", "带盖设计，不易干。Lidded packs stay moist."]),
    ],
    "outdoor": [
        Kind("帐篷", "Tent", [("轻量三季帐篷", "Ultralight 3-Season Tent"), ("双层防雨帐篷", "Double-Wall Rain Tent")],
             (599, 2599), [("单人 1-person", 0), ("双人 2-person", 200), ("三人 3-person", 400)], "first",
             ["双人款1.2kg，外帐防水3000mm。2-person 1.2 kg; fly rated 3000 mm.", "附地钉和风绳。Stakes and guylines included."]),
        Kind("登山鞋", "Hiking Boots", [("中帮防水登山鞋", "Waterproof Mid Hiking Boots"), ("轻量徒步鞋", "Lightweight Hiking Boots")],
             (599, 1499), [("38", 0), ("39", 0), ("40", 0), ("41", 0), ("42", 0), ("43", 0)], "any",
             ["防水膜加抓地大底。Waterproof membrane, grippy sole.", "建议买大半码。Consider half a size up."]),
        Kind("冲锋衣", "Rain Jacket", [("三层硬壳冲锋衣", "3-Layer Hardshell Rain Jacket"), ("轻量防雨冲锋衣", "Packable Rain Jacket")],
             (599, 1999), _SIZES, "any",
             ["全压胶，腋下拉链。Fully taped seams and pit zips.", "帽子可调节，能罩住头盔。Adjustable helmet-compatible hood."]),
        Kind("睡袋", "Sleeping Bag", [("羽绒睡袋", "Down Sleeping Bag"), ("保暖棉睡袋", "Synthetic Sleeping Bag")],
             (399, 1599), [("舒适温度 5°C Comfort 5°C", 0), ("舒适温度 0°C Comfort 0°C", 200), ("舒适温度 −5°C Comfort −5°C", 400)], "first",
             ["附压缩袋和储存网袋。Compression sack and storage bag included.", "按舒适温标选。Choose by the comfort rating."]),
        Kind("登山杖", "Trekking Poles", [("碳纤维登山杖", "Carbon Trekking Poles"), ("铝合金折叠登山杖", "Folding Aluminium Trekking Poles")],
             (199, 699), [("一对 Pair", 0)], "first",
             ["一对装，快锁调节。Sold as a pair, quick-lock adjustment.", "软木手柄，不打滑。Cork grips that don't slip."]),
        Kind("头灯", "Headlamp", [("400流明头灯", "400-Lumen Headlamp"), ("轻量跑步头灯", "Lightweight Running Headlamp")],
             (99, 299), _COLOURS_GEAR[2:] + _COLOURS_GEAR[:1], "any",
             ["Type-C充电，有红光模式。USB-C charging with a red mode.", "锁定功能，包里不误开。Lock mode so it never turns on in your bag."]),
        Kind("背包", "Backpack", [("徒步背包", "Trekking Backpack"), ("轻量登山包", "Ultralight Backpack")],
             (399, 1299), [("28L", 0), ("40L", 150), ("55L", 300)], "first",
             ["可调背长，附防雨罩。Adjustable back length, rain cover included.", "侧袋能单手拿水瓶。Side pockets you can reach on the move."]),
    ],
    "digital": [
        Kind("耳机", "Headphones", [("头戴式降噪耳机", "Over-Ear Noise-Cancelling Headphones"), ("轻量降噪耳机", "Lightweight ANC Headphones")],
             (699, 2999), _COLOURS_TECH[:3], "any",
             ["续航30小时，支持双设备连接。30-hour battery, multipoint.", "蛋白皮耳罩，可折叠。Soft protein-leather pads, folds flat."]),
        Kind("键盘", "Mechanical Keyboard", [("75%热插拔机械键盘", "75% Hot-Swap Mechanical Keyboard"), ("三模机械键盘", "Tri-Mode Mechanical Keyboard")],
             (299, 899), [("红轴 Red switches", 0), ("茶轴 Brown switches", 0), ("静音轴 Silent switches", 30)], "any",
             ["PBT键帽，有线、蓝牙、2.4G三模。PBT keycaps; wired, Bluetooth and 2.4 GHz.", "热插拔，换轴不用焊。Hot-swap: change switches without soldering."]),
        Kind("充电宝", "Power Bank", [("自带线充电宝", "Power Bank with Built-In Cable"), ("65W快充充电宝", "65W Fast-Charge Power Bank")],
             (99, 299), [("10000mAh", 0), ("20000mAh", 60)], "first",
             ["额定能量低于100Wh，可带上飞机。Under 100 Wh, fine in carry-on.", "Type-C双向快充。USB-C fast charging both ways."]),
        Kind("手表", "Smartwatch", [("运动智能手表", "Sport Smartwatch"), ("轻薄智能手表", "Slim Smartwatch")],
             (899, 2999), [("41mm", 0), ("45mm", 200)], "first",
             ["续航7天，支持心率和睡眠监测。7-day battery, heart rate and sleep tracking.", "附硅胶表带。Silicone strap included."]),
        Kind("音箱", "Bluetooth Speaker", [("便携蓝牙音箱", "Portable Bluetooth Speaker"), ("防水蓝牙音箱", "Waterproof Bluetooth Speaker")],
             (199, 799), _COLOURS_TECH, "any",
             ["IPX7防水，续航12小时。IPX7 waterproof, 12-hour battery.", "两台可以组立体声。Pair two for stereo."]),
        Kind("手机壳", "Phone Case", [("磁吸手机壳", "Magnetic Phone Case"), ("磨砂透明手机壳", "Frosted Clear Phone Case")],
             (49, 129), [("iPhone 15", 0), ("iPhone 15 Pro", 0), ("iPhone 15 Pro Max", 10)], "any",
             ["镜头一圈加高保护。Raised lip around the camera.", "支持磁吸充电。Works with magnetic charging."]),
        Kind("数据线", "USB-C Cable", [("编织快充数据线", "Braided USB-C Cable"), ("100W快充线", "100W USB-C Cable")],
             (29, 79), [("1m", 0), ("2m", 10)], "first",
             ["编织外皮，弯折两万次。Braided, tested to 20,000 bends.", "支持100W快充和数据传输。100 W charging and data."]),
    ],
    "food": [
        Kind("咖啡", "Drip Coffee", [("云南挂耳咖啡", "Yunnan Drip Coffee Bags"), ("中深烘挂耳咖啡", "Medium-Dark Drip Coffee Bags")],
             (39, 99), [("10袋 10 bags", 0), ("30袋 30 bags", 60)], "first",
             ["每袋10g，现磨充氮。10 g per bag, ground and nitrogen-flushed.", "92°C热水，分三次注水。Pour 92°C water in three goes."]),
        Kind("螺蛳粉", "Snail Noodles", [("柳州螺蛳粉", "Liuzhou Snail Rice Noodles")],
             (29, 59), [("3袋 3 packs", 0), ("5袋 5 packs", 20)], "first",
             ["每袋330g，配料齐全。330 g per pack, all toppings included.", "酸笋味正，辣度可调。Proper sour bamboo; add chilli to taste."]),
        Kind("牛肉干", "Beef Jerky", [("内蒙古风干牛肉干", "Inner Mongolian Air-Dried Beef Jerky"), ("麻辣牛肉干", "Sichuan Spicy Beef Jerky")],
             (49, 99), [("250g", 0), ("500g", 50)], "first",
             ["独立小包装。Individually wrapped.", "配料只有牛肉和盐。Just beef and salt."]),
        Kind("坚果", "Mixed Nuts", [("每日坚果", "Daily Mixed Nuts"), ("坚果礼盒", "Mixed Nuts Gift Box")],
             (99, 199), [("750g 30袋 30 × 25 g", 0), ("1.2kg 48袋 48 × 25 g", 60)], "first",
             ["每天一小包，不加糖。One 25 g pack a day, no added sugar.", "适合送人。A good gift."]),
        Kind("火锅", "Hotpot Base", [("重庆牛油火锅底料", "Chongqing Beef Tallow Hotpot Base"), ("麻辣火锅底料", "Sichuan Mala Hotpot Base")],
             (19, 39), [("微辣 Mild", 0), ("中辣 Medium", 0), ("特辣 Extra hot", 0)], "any",
             ["一块400g，够四个人。400 g, enough for four.", "加水即煮。Just add water."]),
        Kind("乌龙茶", "Oolong Tea", [("安溪铁观音", "Anxi Tieguanyin Oolong"), ("武夷岩茶大红袍", "Wuyi Da Hong Pao Oolong")],
             (89, 299), [("100g", 0), ("250g", 120)], "first",
             ["罐装，独立小泡袋。Tin of individually sealed portions.", "可以冲泡五六次。Good for five or six infusions."]),
        Kind("辣椒酱", "Chili Crisp", [("香辣脆油辣椒", "Crunchy Chili Crisp"), ("蒜香辣椒酱", "Garlic Chili Sauce")],
             (19, 39), [("210g", 0), ("210g×2 两瓶装 Twin pack", 20)], "first",
             ["拌面、拌饭、蘸饺子都好吃。Great on noodles, rice and dumplings.", "开封后冷藏。Refrigerate after opening."]),
    ],
    "travel": [
        Kind("行李箱", "Suitcase", [("铝框行李箱", "Aluminium-Frame Suitcase"), ("轻量登机箱", "Lightweight Carry-On Suitcase")],
             (399, 1299), [("20寸 20 in", 0), ("24寸 24 in", 100), ("28寸 28 in", 200)], "first",
             ["静音万向轮，TSA海关锁。Quiet spinner wheels, TSA lock.", "20寸可以登机。The 20-inch fits in the cabin."]),
        Kind("颈枕", "Neck Pillow", [("记忆棉颈枕", "Memory Foam Neck Pillow")],
             (59, 149), _COLOURS_BAG, "any",
             ["可收纳成小包。Packs into its own pouch.", "外套可拆洗。Removable, washable cover."]),
        Kind("收纳袋", "Packing Cubes", [("旅行收纳袋", "Packing Cubes"), ("压缩收纳袋", "Compression Packing Cubes")],
             (69, 149), [("4件套 Set of 4", 0), ("6件套 Set of 6", 40)], "first",
             ["网面可视，一眼找到衣服。Mesh tops so you see what's inside.", "双向拉链。Two-way zips."]),
        Kind("转换插头", "Travel Adapter", [("全球通转换插头", "Universal Travel Adapter")],
             (79, 159), _COLOURS_TECH[:2], "any",
             ["覆盖150多个国家，带两个USB口。150+ countries, two USB ports.", "带保险丝。Built-in fuse."]),
        Kind("洗漱包", "Toiletry Bag", [("防水洗漱包", "Waterproof Toiletry Bag"), ("可挂式洗漱包", "Hanging Toiletry Bag")],
             (59, 149), _COLOURS_BAG, "any",
             ["防水内衬，可挂起来。Waterproof lining, hangs up.", "干湿分区。Separate wet and dry pockets."]),
        Kind("护照夹", "Passport Wallet", [("RFID护照夹", "RFID Passport Wallet")],
             (49, 129), _COLOURS_BAG, "any",
             ["能放护照、登机牌和卡。Holds passport, boarding pass and cards.", "防RFID盗刷。RFID blocking."]),
    ],
    "fashion": [
        Kind("风衣", "Trench Coat", [("经典双排扣风衣", "Classic Double-Breasted Trench Coat"), ("中长款风衣", "Midi Trench Coat")],
             (599, 1299), _SIZES[:3], "any",
             ["挺括棉质面料，可拆腰带。Crisp cotton, detachable belt.", "S码衣长98cm。S is 98 cm long."]),
        Kind("牛仔裤", "Jeans", [("高腰直筒牛仔裤", "High-Rise Straight Jeans"), ("九分牛仔裤", "Ankle-Length Jeans")],
             (299, 599), [("25", 0), ("26", 0), ("27", 0), ("28", 0), ("29", 0), ("30", 0)], "any",
             ["微弹面料，深蓝色。Slight stretch, dark indigo.", "按腰围选码。Size by waist."]),
        Kind("小白鞋", "White Sneakers", [("真皮小白鞋", "Leather White Sneakers"), ("帆布小白鞋", "Canvas White Sneakers")],
             (399, 899), [("36", 0), ("37", 0), ("38", 0), ("39", 0), ("40", 0)], "any",
             ["鞋垫带足弓支撑。Arch-support insoles.", "皮面湿巾一擦就干净。Wipes clean."]),
        Kind("针织", "Knit Sweater", [("羊毛针织衫", "Wool Knit Sweater"), ("针织开衫", "Knit Cardigan")],
             (299, 799), [("燕麦 Oat", 0), ("浅灰 Light grey", 0), ("奶白 Cream", 0), ("雾蓝 Dusty blue", 0)], "any",
             ["70%羊毛，不易起球。70% wool, slow to pill.", "建议手洗平铺晾干。Hand wash, dry flat."]),
        Kind("通勤包", "Work Bag", [("13寸电脑托特包", "13-Inch Laptop Tote"), ("通勤双肩包", "Commuter Backpack")],
             (399, 1299), _COLOURS_BAG, "any",
             ["内宽35cm，能放13寸电脑。35 cm inside, fits a 13-inch laptop.", "空包重0.8kg，拉链开口。0.8 kg empty, zip top."]),
        Kind("连衣裙", "Dress", [("收腰A字连衣裙", "A-Line Midi Dress"), ("碎花连衣裙", "Floral Midi Dress")],
             (299, 899), _SIZES[:3], "any",
             ["面料不透，有内衬。Lined, not see-through.", "长度过膝。Falls below the knee."]),
        Kind("T恤", "T-Shirt", [("纯棉短袖T恤", "Cotton Crew T-Shirt"), ("宽松T恤", "Relaxed T-Shirt")],
             (99, 199), _SIZES, "any",
             ["230g重磅纯棉，不透。Heavyweight 230 g cotton, not see-through.", "洗后不变形。Keeps its shape in the wash."]),
    ],
    "home": [
        Kind("收纳", "Storage Box", [("带盖收纳箱", "Lidded Storage Box"), ("抽屉收纳盒", "Drawer Storage Box")],
             (29, 99), [("小号 Small 26×18×12cm", 0), ("中号 Medium 36×26×18cm", 20), ("大号 Large 46×32×24cm", 40)], "first",
             ["可叠放，带把手。Stackable, with handles.", "买之前先量柜子内径。Measure your shelves first."]),
        Kind("香薰", "Scented Candle", [("雪松香薰蜡烛", "Cedar Scented Candle"), ("白茶香薰蜡烛", "White Tea Scented Candle")],
             (89, 259), [("200g", 0), ("350g", 80)], "first",
             ["大豆蜡，棉芯，燃烧约45小时（200g）。Soy wax, cotton wick, about 45 hours (200 g).", "玻璃杯可以重复用。Reusable glass jar."]),
        Kind("落地灯", "Floor Lamp", [("布艺落地灯", "Linen Shade Floor Lamp"), ("可调光落地灯", "Dimmable Floor Lamp")],
             (299, 999), [("奶白 Cream", 0), ("黑色 Black", 0)], "any",
             ["2700K暖光，可调光。Warm 2700 K, dimmable.", "高1.5米。1.5 m tall."]),
        Kind("床品", "Bedding Set", [("长绒棉四件套", "Long-Staple Cotton Bedding Set"), ("天丝四件套", "Lyocell Bedding Set")],
             (399, 1299), [("1.5m床 Double", 0), ("1.8m床 King", 100)], "first",
             ["含被套、床单和两个枕套。Duvet cover, sheet and two pillowcases.", "先洗再用。Wash before first use."]),
        Kind("马克杯", "Mug", [("粗陶马克杯", "Stoneware Mug"), ("手作釉面马克杯", "Handmade Glazed Mug")],
             (49, 99), [("350ml 燕麦 Oat", 0), ("350ml 雾蓝 Mist blue", 0), ("350ml 奶白 Cream", 0)], "any",
             ["可以进洗碗机和微波炉。Dishwasher- and microwave-safe.", "每只釉色略有不同。Each glaze is a little different."]),
        Kind("抱枕", "Cushion", [("棉麻抱枕", "Linen Cushion"), ("灯芯绒抱枕", "Corduroy Cushion")],
             (69, 159), [("45×45cm 燕麦 Oat", 0), ("45×45cm 橄榄绿 Olive", 0), ("45×45cm 砖红 Terracotta", 0)], "any",
             ["含芯，外套可拆洗。Insert included, removable cover.", "隐形拉链。Hidden zip."]),
    ],
}

GENERAL = ["七天无理由退换。Seven-day no-questions returns.", "我们自己每天都在用。We use it every day ourselves.",
           "小批量生产，售完即止。Made in small batches; when it's gone, it's gone.", "顺丰包邮，下午四点前下单当天发。Free shipping; orders before 4 pm leave the same day."]


class PlannedProduct(NamedTuple):
    noun_zh: str  # what a note's title says when it is about this product ("防晒")
    noun_en: str  # the product's English name, for titles and its picture ("Sunscreen")
    title: str  # "清透防晒乳 SPF50+ PA++++ · Sheer Fluid Sunscreen SPF50+"
    description: str
    options: list[tuple[str, int]]  # (label, price in fen)


def _yuan_price(low: int, high: int, rng: random.Random) -> int:
    """A price that ends in 9 like real ones (39, 129, 2599), in yuan."""
    return int(rng.uniform(low, high) / 10) * 10 + 9


def plan_product(vertical: str, rng: random.Random, kind: Kind | None = None) -> PlannedProduct:
    """One believable product of `vertical`: a name, a description and options whose units and prices fit it."""
    kind = kind or rng.choice(KINDS[vertical])
    name_zh, name_en = rng.choice(kind.names)
    base = _yuan_price(*kind.price, rng)
    count = rng.choices([1, 2, 3, 4], weights=[25, 35, 25, 15])[0]
    count = min(count, len(kind.options))
    if kind.pick == "first":
        picked = kind.options[:count]
    else:  # any of them, listed in the kind's order (sizes 38, 39, 41 rather than 41, 38, 39)
        picked = [kind.options[i] for i in sorted(rng.sample(range(len(kind.options)), count))]
    options = [(label, max(9, base + delta) * 100) for label, delta in picked]
    description = " ".join([rng.choice(kind.about), rng.choice(GENERAL)])
    return PlannedProduct(kind.zh, kind.label, f"{name_zh} · {name_en}", description, options)


def plan_products(vertical: str, count: int, rng: random.Random) -> list[PlannedProduct]:
    """`count` products for the vertical's shop, every kind before any repeats, no title twice where avoidable."""
    kinds = KINDS[vertical]
    made, titles = [], set()
    while len(made) < count:
        for kind in rng.sample(kinds, len(kinds)):
            if len(made) >= count:
                break
            for _attempt in range(4):
                product = plan_product(vertical, rng, kind)
                if product.title not in titles:
                    break
            titles.add(product.title)
            made.append(product)
    return made


# The flat, per-vertical view of the same catalog (older callers build "{qualifier}{noun} · {qualifier} {noun}"
# titles and pick options per vertical, so these options are ones that fit every kind of that shop).
_PRODUCT_NOUNS_ZH = {"防晒": "防晒霜", "精华": "精华液", "粉底": "粉底液", "洁面": "洁面乳", "推车": "婴儿推车", "辅食": "辅食机",
                     "耳机": "降噪耳机", "键盘": "机械键盘", "手表": "智能手表", "音箱": "蓝牙音箱", "咖啡": "挂耳咖啡",
                     "坚果": "坚果礼盒", "火锅": "火锅底料", "针织": "针织衫", "收纳": "收纳箱", "香薰": "香薰蜡烛", "床品": "四件套"}
PRODUCTS = {vertical: [(_PRODUCT_NOUNS_ZH.get(kind.zh, kind.zh), kind.label) for kind in kinds]
            for vertical, kinds in KINDS.items()}
QUALIFIERS = [("经典款", "Classic"), ("日常款", "Everyday"), ("招牌", "Signature"), ("标准款", "Standard"), ("热销款", "Bestseller")]
_EDITIONS = ["经典版 Original", "限定包装 Limited edition", "礼盒装 Gift box", "简装 Plain pack"]
OPTIONS = {  # at least four each: older callers pick up to four
    "beauty": _EDITIONS, "mother_baby": [label for label, _ in _COLOURS_BABY],
    "outdoor": [label for label, _ in _COLOURS_GEAR], "digital": [label for label, _ in _COLOURS_TECH],
    "food": _EDITIONS, "travel": [label for label, _ in _COLOURS_BAG], "fashion": ["S", "M", "L", "XL"],
    "home": ["燕麦 Oat", "奶白 Cream", "雾蓝 Mist blue", "橄榄绿 Olive"],
}
DESCRIPTIONS = GENERAL + ["用料扎实，细节做得很用心。Solid materials and careful details.",
                          "适合送礼，也适合犒劳自己。A good gift, or a treat for yourself."]

# A shop waiting for the admin's review, so the approval queue is not empty.
APPLICATION = ("tea-corner", "茶角 Tea Corner", "云南古树茶，产地直发。Single-estate tea from Yunnan.")

TRACKING_PREFIXES = ["SF", "YT", "ZTO", "JD"]

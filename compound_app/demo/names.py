"""Word lists for realistic demo records in Xiaoyi's old compounds."""

from __future__ import annotations

import random

SUBDISTRICT = "新义街道"
CITY = "孝义市"

# (name, code): the ten communities of Xinyi subdistrict named in the source story.
COMMUNITIES = [
    ("大峰社区", "DF"),
    ("府中社区", "FZ"),
    ("府前社区", "FQ"),
    ("新安社区", "XA"),
    ("迎宾南社区", "YN"),
    ("迎宾北社区", "YB"),
    ("府东社区", "FD"),
    ("离柳社区", "LL"),
    ("建西社区", "JX"),
    ("绿城社区", "LC"),
]

# Work-unit housing of the planned-economy era, the typical 老旧小区 of a county town.
INSTITUTIONS = [
    "国土",
    "城建",
    "粮食局",
    "供电",
    "建行",
    "税务",
    "教育局",
    "交警队",
    "水利局",
    "机械厂",
    "化肥厂",
    "棉织厂",
    "二轻局",
    "邮电",
    "卫生局",
    "农机公司",
    "物资局",
    "供销社",
    "煤运公司",
    "医药公司",
    "文化局",
    "工商局",
    "审计局",
    "人民医院",
    "一中",
    "商业局",
    "铁路",
    "电力",
    "财政局",
    "广电",
    "焦化厂",
    "水泥厂",
    "运输公司",
    "农行",
    "工行",
    "百货公司",
    "五金公司",
    "酒厂",
    "糖业公司",
    "食品公司",
    "房管所",
    "自来水公司",
    "公路段",
    "气象局",
    "林业局",
    "畜牧局",
    "统计局",
    "民政局",
    "法院",
    "检察院",
    "公安局",
    "消防队",
    "武装部",
    "党校",
    "二中",
    "实验小学",
    "中医院",
    "妇幼保健院",
    "电信",
    "新华书店",
    "造纸厂",
    "印刷厂",
    "纺织厂",
    "陶瓷厂",
    "铸造厂",
    "农业局",
    "交通局",
    "环卫处",
    "园林处",
    "体育场",
]
SUFFIXES = ["小区", "宿舍", "家属院", "家属楼", "生活区"]
QUARTERS = ["", "东院", "西院", "南区", "北区", "一区", "二区"]
STREETS = [
    "府前街",
    "府东街",
    "新义街",
    "迎宾路",
    "崇文街",
    "振兴街",
    "胜溪路",
    "建设路",
    "贾家庄路",
    "北环路",
    "南环路",
    "中阳楼街",
    "兑镇路",
    "城隍庙街",
    "人民路",
]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)
GIVEN = (
    "建国华明丽秀英桂兰玉梅志刚振华德明国庆晓燕凤霞海涛立新文杰红霞淑珍金生永红春花宝山"
    "世平瑞芳俊峰云鹏雪梅爱民秋菊保平建平晋生润生翠兰改英二虎银锁满仓拴柱彩萍海燕亚楠"
)


def person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random, taken: set[str]) -> str:
    """A random mobile that never collides with the demo accounts (139 0000 00xx)."""
    while True:
        prefix = rng.choice(
            (
                "130",
                "131",
                "132",
                "135",
                "136",
                "137",
                "138",
                "150",
                "151",
                "152",
                "155",
                "158",
                "159",
                "176",
                "177",
                "180",
                "182",
                "186",
                "187",
                "188",
                "189",
                "199",
            )
        )
        number = prefix + f"{rng.randrange(10**8):08d}"
        if number not in taken:
            taken.add(number)
            return number

"""What the pilots' residents, committees and craftsmen write about repairs."""

from __future__ import annotations

from ..repairs.models import Category

# Descriptions of problems on the common parts: {b} a building, {u} a unit, {n} a number.
PUBLIC: dict[str, list[str]] = {
    Category.CLEANING: [
        "{b}{u}楼道里堆满了纸箱和旧家具，影响通行，也有火灾隐患",
        "{b}门口的垃圾桶满了两天没人清运，味道很大",
        "{b}{u}楼梯扶手和窗台积灰很厚，好久没擦了",
        "院内绿化带里有人倒了建筑垃圾，请安排清运",
        "{b}北侧排水沟里全是落叶和塑料袋，下雨要积水",
        "{b}{u}楼道墙上贴满了小广告，请清理",
    ],
    Category.SEPTIC: [
        "{b}东侧化粪池满溢，污水流到路面上，味道很重",
        "化粪池井盖松动，踩上去直晃，小孩经过很危险",
        "{b}后面的化粪池该清掏了，天热蚊蝇特别多",
    ],
    Category.STREET_LIGHT: [
        "院内{n}号路灯不亮，晚上回家看不清路",
        "大门口的路灯一直闪，晚上晃眼睛",
        "{b}门前路灯灯罩碎了，灯泡露在外面",
        "{b}到大门那段路的路灯坏了，晚上太黑，老人不敢出门",
    ],
    Category.SEWER: [
        "{b}{u}一楼下水管道堵塞，污水从地漏往外冒",
        "{b}{u}主下水管漏水，楼道墙面一直是湿的",
        "院内排水井堵了，下雨后{b}门口的积水没过脚面",
        "{b}{u}楼道里下水管接口裂了，一直滴水",
    ],
    Category.ROAD: [
        "院内主路坑坑洼洼，雨天积水，老人出行不方便",
        "{b}门前路面塌陷了一块，电动车差点摔倒",
        "大门口减速带松动，车一过就哐哐响",
    ],
    Category.BUILDING_DOOR: [
        "{b}{u}楼宇门闭门器坏了，门关不上，楼道里很冷",
        "{b}{u}单元门禁刷卡没反应，只能敲门让人开",
        "{b}{u}楼宇门玻璃碎了，有安全隐患",
    ],
    Category.PARKING: [
        "院内停车太乱，消防通道也被堵了，希望施划停车位",
        "{b}门前停车位标线磨得看不清了，经常有人乱停",
        "希望划出电动车集中停放区，别再停在楼道口",
    ],
    Category.CAMERA: [
        "大门口监控画面模糊，晚上什么也看不清",
        "{b}附近的监控不转了，指示灯也不亮",
        "车棚里电动车电瓶被偷了，希望车棚的监控能照到",
    ],
    Category.PLUMBING: [
        "{b}{u}楼道暖气管道漏水，地上一片水",
        "{b}{u}楼道水表井盖丢了，晚上容易踩空",
    ],
    Category.ELECTRICAL: [
        "{b}{u}三楼楼道声控灯不亮，晚上上下楼要摸黑",
        "{b}{u}楼道电表箱门坏了，里面的电线露在外面",
        "{b}{u}楼道灯开关烧坏了，有焦糊味",
    ],
    Category.OTHER: [
        "楼顶防水层破损，{b}顶层住户家里漏雨",
        "院内健身器材螺丝松动，晃得厉害",
        "{b}{u}楼道扶手松动，老人上下楼不安全",
        "小区大门道闸抬杆坏了，车辆进出要人工抬杆",
    ],
}

# Problems inside one home (reported by its residents).
HOME: dict[str, list[str]] = {
    Category.PLUMBING: [
        "家里暖气片不热，楼上楼下都热，怀疑管道堵了",
        "卫生间顶棚渗水，应该是楼上下水管漏了",
        "家里进户水管阀门漏水，关不严",
    ],
    Category.ELECTRICAL: [
        "家里入户线老化，一用电热水器就跳闸",
        "入户电表后的总闸发烫，不敢用大功率电器",
    ],
}

ASSISTED_SUFFIX = [
    "",
    "",
    "（老人独居，上门前请先联系单元代表）",
    "（老人腿脚不便，不会用手机，由单元代表代报）",
]

DONE: dict[str, list[str]] = {
    Category.CLEANING: ["已清理完毕，并张贴楼道禁止堆物提示", "已清运，垃圾桶已冲洗"],
    Category.SEPTIC: ["已联系吸污车清掏完毕", "已更换井盖并加固"],
    Category.STREET_LIGHT: ["已更换LED灯泡", "已更换灯罩和镇流器"],
    Category.SEWER: ["已疏通，试水正常", "已更换破裂的管段"],
    Category.ROAD: ["已修补路面，养护三天后通行", "已重新固定减速带"],
    Category.BUILDING_DOOR: ["已更换闭门器", "已更换门禁读卡器", "已更换钢化玻璃"],
    Category.PARKING: ["已重新施划标线"],
    Category.CAMERA: ["已清洁镜头并调整角度", "已更换摄像头电源"],
    Category.PLUMBING: ["已更换阀门，试压正常", "已疏通管道，暖气恢复"],
    Category.ELECTRICAL: ["已更换声控开关", "已更换电表箱门并整理线路"],
    Category.OTHER: ["已加固", "已修复，请大家注意安全"],
}

REJECT_HOME = "属于住户自用部分，请自行联系维修；物管会可推荐维修师傅"
REJECT = [
    "与已有的报修重复，已合并处理",
    "属供水公司管辖，已电话转告供水公司",
    "属燃气公司管辖，已转告燃气公司上门",
    "经现场查看未发现问题，如仍有问题请重新报修",
]
REOPEN = ["问题又出现了", "又堵了，没彻底修好", "这是公共部位，不是自用部分，请再看看"]
SEND_BACK = ["还是漏，没修好", "灯亮了一天又不亮了", "只清理了一半"]
CLOSE_UNANSWERED = ["住户未回复，已现场查看，修复完成", "已电话联系住户，确认修好"]
CLOSE_OWN = ["已现场验收", "物管会验收合格"]
RATING = {
    5: ["师傅很负责，修得很快", "谢谢物管会！", ""],
    4: ["修好了，就是等了几天", ""],
    3: ["时间有点长", "修得一般"],
    2: ["拖得太久了"],
}

CONTRACTORS: dict[str, list[str]] = {
    Category.SEWER: ["孝义市宏达管道疏通", "管道疏通刘师傅"],
    Category.SEPTIC: ["孝义市环卫吸污清运队"],
    Category.STREET_LIGHT: ["电工李师傅", "孝义市光明电器维修部"],
    Category.ELECTRICAL: ["电工李师傅"],
    Category.BUILDING_DOOR: ["孝义市万家安防", "锁具王师傅"],
    Category.CAMERA: ["孝义市万家安防"],
    Category.ROAD: ["孝义市路通市政工程队"],
    Category.PARKING: ["孝义市路通市政工程队"],
    Category.PLUMBING: ["水暖张师傅"],
    Category.CLEANING: ["小区保洁队"],
    Category.OTHER: ["综合维修队"],
}

# Review meetings (会诊) of a party branch: the problems raised, and decisions with the
# task they turn into (a category), a work (a work kind), or nothing.
REVIEW_PROBLEMS = [
    "{b}化粪池满溢，天热异味大，居民反映强烈",
    "院内路灯损坏{n}盏，夜间出行不便",
    "{b}下水管道老化，本月多次堵塞返水",
    "部分单元楼道堆物严重，存在消防隐患",
    "车棚电动车充电难，有人从楼上拉线充电",
    "各单元代表汇报本月收费和入户征求意见情况",
]
REVIEW_DECISIONS = [
    ("清掏{b}化粪池，本周内联系吸污车", Category.SEPTIC),
    ("更换院内损坏路灯，由支部委员负责联系电工", Category.STREET_LIGHT),
    ("疏通{b}主下水管道", Category.SEWER),
    ("组织党员志愿者清理楼道堆物，周六集中行动", Category.CLEANING),
    ("单元代表入户征求意见，下次会诊汇总研究", None),
    ("公示本月物业费收支，接受居民监督", None),
]
RESIDENTS_PROBLEMS = [
    "物业服务范围和收费标准",
    "院内治安：电动车电瓶被盗，外来人员随意进出",
    "停车乱，消防通道被占",
    "楼道卫生和垃圾清运",
]

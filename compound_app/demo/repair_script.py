"""The scripted parts of the demo's repair story, as tables the story plays.

Whoever signs in with a demo account finds their own tasks in known states (吴振华's
blocked pipe waiting for his check, 周玉梅's reports for the elderly of her stairwells,
孙德明's committee's fresh reports and overdue job, 郑晓燕's tasks in 城建小区), and the
compounds the seed names have their works (roads, doors, lights, charging piles,
pipes, the seed's cameras). Each row says who, where, what, which steps and when,
counted back from today or from the day the compound's repairs began, never a calendar
date, so the story reads the same in any year. ``repair_story`` plays every row through
the services like the other tasks and works.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..registry.models import ManagementModel
from ..repairs.models import Category, FacilityKind, Funding, Priority, WorkKind
from . import repair_texts as texts

# --- the demo accounts' own tasks -------------------------------------------------------------

# Who reports, besides a demo account named by its person's name.
CHAIR = "chair"  # whoever triages in the compound: the committee's chair, or community staff
A_RESIDENT = "a resident"  # a resident with an account who is none of the demo accounts


class Where(StrEnum):
    HOME = "home"  # inside the reporter's home
    STAIRWELL = "stairwell"  # the common parts of the reporter's unit
    YARD = "yard"  # somewhere in the compound, reported from the reporter's home
    ELDER = "elder"  # the common parts of ``unit``, for an elder there without a smartphone
    BUILDING = "building"  # the building of ``unit``


@dataclass(frozen=True)
class Mark:
    """A step of a scripted task, ``after`` hours after its report."""

    move: str  # "assign", "rate", or the name of one of ``workflow.MOVES``
    after: float
    note: str = ""
    rating: int = 0


@dataclass(frozen=True)
class Scripted:
    """A task whose every step is given, reported so long before now."""

    compound: str
    reporter: str  # a demo account's person, ``CHAIR`` or ``A_RESIDENT``
    where: Where
    category: Category
    text: str  # may name the {building} and {unit} it is in, and the elder's {surname}
    days_ago: float
    hours_ago: float = 0
    steps: tuple[Mark, ...] = ()
    contractor: str = ""  # else the compound's own people: a committee member, or staff
    assign_note: str = ""
    priority: Priority = Priority.NORMAL
    photo: bool = False
    unit: int = 0  # which of the compound's units, in order (``ELDER``, ``BUILDING``)


ELDER_SUFFIX = "（老人不会用手机，由单元代表代报）"

SCRIPTED = (
    # 吴振华: a light fixed and rated, a blocked pipe awaiting his check, a refused home job.
    Scripted(
        "新国土小区",
        "吴振华",
        Where.STAIRWELL,
        Category.ELECTRICAL,
        "1号楼1单元三楼楼道声控灯不亮，晚上上下楼要摸黑",
        62,
        steps=(
            Mark("assign", 2),
            Mark("start", 20),
            Mark("done", 26, "已更换声控灯头"),
            Mark("confirm", 30),
            Mark("rate", 31, "修得很快，感谢物管会", 5),
        ),
    ),
    Scripted(
        "新国土小区",
        "吴振华",
        Where.STAIRWELL,
        Category.SEWER,
        "1号楼1单元一楼下水管道堵塞，厨房返水，味道很大",
        2,
        2,
        steps=(Mark("assign", 1), Mark("start", 6), Mark("done", 30, "已疏通主管，试水正常")),
        contractor="孝义市宏达管道疏通",
        priority=Priority.URGENT,
        photo=True,
    ),
    Scripted(
        "新国土小区",
        "吴振华",
        Where.HOME,
        Category.PLUMBING,
        "家里暖气入户阀门关不严，一直滴水",
        40,
        steps=(Mark("reject", 6, texts.REJECT_HOME),),
    ),
    # 周玉梅 reports for the elderly of her stairwells.
    Scripted(
        "新国土小区",
        "周玉梅",
        Where.ELDER,
        Category.STREET_LIGHT,
        "{building}门前路灯不亮，{surname}大爷晚上出门遛弯看不见路" + ELDER_SUFFIX,
        20,
        steps=(
            Mark("assign", 3),
            Mark("start", 24),
            Mark("done", 48, "已更换LED灯泡"),
            Mark("confirm", 52),
            Mark("rate", 53, "老人说晚上敢出门了，谢谢", 4),
        ),
        unit=1,
    ),
    Scripted(
        "新国土小区",
        "周玉梅",
        Where.ELDER,
        Category.OTHER,
        "{building}{unit}三楼到四楼的楼道扶手松动，{surname}奶奶上下楼不安全" + ELDER_SUFFIX,
        1,
        steps=(Mark("assign", 3),),
        unit=1,
    ),
    # Waiting for 孙德明's committee: fresh reports, and one overdue job.
    Scripted(
        "新国土小区",
        A_RESIDENT,
        Where.YARD,
        Category.SEWER,
        "2号楼1单元一楼地漏返水，楼道里都是污水",
        0,
        5,
    ),
    Scripted(
        "新国土小区",
        A_RESIDENT,
        Where.YARD,
        Category.CLEANING,
        "3号楼门口的垃圾桶满了，周末没人清运",
        0,
        26,
    ),
    Scripted(
        "新国土小区",
        CHAIR,
        Where.BUILDING,
        Category.SEPTIC,
        "{building}后面的化粪池满溢，需要吸污车清掏",
        16,
        steps=(Mark("assign", 24),),
        contractor="孝义市环卫吸污清运队",
        assign_note="吸污车排期中",
        unit=-1,
    ),
    Scripted(
        "新国土小区",
        A_RESIDENT,
        Where.STAIRWELL,
        Category.CLEANING,
        "{building}{unit}楼道堆满了纸箱和旧家具",
        30,
        steps=(
            Mark("assign", 2),
            Mark("start", 24),
            Mark("done", 28, "已清理完毕"),
            Mark("confirm", 48),
            Mark("reopen", 120, "楼道又堆满了，没清理干净"),
            Mark("assign", 123),
            Mark("start", 144),
            Mark("done", 168, "已全部清运，并张贴禁止堆物提示"),
            Mark("confirm", 192),
            Mark("rate", 193, "这次彻底干净了", 4),
        ),
    ),
    # 郑晓燕 in 城建小区, run by 赵志刚 of the community.
    Scripted(
        "城建小区",
        "郑晓燕",
        Where.STAIRWELL,
        Category.BUILDING_DOOR,
        "2号楼1单元楼宇门闭门器坏了，门关不上，楼道里很冷",
        4,
        steps=(Mark("assign", 2), Mark("start", 72)),
        photo=True,
    ),
    Scripted(
        "城建小区",
        "郑晓燕",
        Where.STAIRWELL,
        Category.CLEANING,
        "2号楼1单元门口堆放了装修垃圾，影响通行",
        6,
        steps=(
            Mark("assign", 1),
            Mark("start", 24),
            Mark("done", 42, "已清运"),
            Mark("confirm", 48),
        ),
    ),
    Scripted(
        "城建小区",
        A_RESIDENT,
        Where.YARD,
        Category.OTHER,
        "希望在小区门口增设快递柜",
        12,
        steps=(Mark("reject", 24, "不属于维修范围，已转社区统一协调"),),
    ),
)


# --- works and the facility register -----------------------------------------------------------

# The marks a work's days are counted from.
START = "start"  # the day the compound's repairs began
TODAY = "today"
PLANNED = "planned"  # the work's own planned day
ROAD_DONE = "road done"  # the day the compound's road work was completed

EACH_UNIT = -1  # as many as the compound has units (a door for each)


@dataclass(frozen=True)
class Day:
    """A day ``days`` after ``mark`` (before it, if negative); with ``upto``, a day drawn
    from ``days`` up to ``upto`` (not included), counted away from the mark."""

    mark: str
    days: int
    upto: int | None = None


@dataclass(frozen=True)
class Works:
    """A work of the story: planned, started and completed on its days, if at all."""

    compound: str  # "" for a row played in every compound it suits
    kind: WorkKind
    title: str
    description: str  # may name the {compound} and how many it installs ({n})
    funding: Funding
    budget_yuan: int = 0
    yuan_each: int = 0  # and so much more for each thing it installs
    installs: int = 0  # or ``EACH_UNIT``
    location: str = ""
    planned: Day | None = None  # if not given: some days before it started
    started: Day | None = None  # if not given: some days before it was completed
    done_after: Day | None = None  # completed on some day after this one; if not given, not yet
    decision: str = ""  # the meeting decision it carries out: "camera", "road" or "sewer"
    replaces: bool = False  # the compound's old line of what it installs leaves the register


# The seed's cameras, shared out among the pilots that charge fees, paid for as the model
# pays (by whether the pilot governs itself yet); the others have only asked for them.
STORY_CAMERAS = 131  # installed in the pilots in the first half year
CAMERAS = Works(
    "",
    WorkKind.CAMERA,
    "安装监控摄像头",
    "在{compound}大门、车棚、主要路口安装高清摄像头{n}个，"
    "配硬盘录像机一台，画面接入门岗和社区网格中心。",
    Funding.FEES,
    budget_yuan=2600,
    yuan_each=1000,
    location="大门、车棚、主要路口",
    planned=Day(START, 14, 30),
    done_after=Day(PLANNED, 20),
    decision="camera",
)
CAMERA_FUNDING: dict[tuple[str, bool], Funding] = {
    (ManagementModel.CONTIGUOUS, True): Funding.FEES,
    (ManagementModel.CONTIGUOUS, False): Funding.FEES,
    (ManagementModel.PARTY_BRANCH, True): Funding.FEES,
    (ManagementModel.PARTY_BRANCH, False): Funding.GOVERNMENT,
    (ManagementModel.TRUSTEESHIP, True): Funding.GOVERNMENT,
    (ManagementModel.TRUSTEESHIP, False): Funding.COMMUNITY,
}
CAMERAS_ASKED = Works(
    "",
    WorkKind.CAMERA,
    "安装监控摄像头",
    "居民座谈会提出安装监控，正在申请老旧小区改造资金。",
    Funding.GOVERNMENT,
    budget_yuan=9600,
    planned=Day(TODAY, -10, -40),
    decision="camera",
)


@dataclass(frozen=True)
class OldFacility:
    """A register line from before the pilot, in a share of the compounds (and always in
    those named), installed on the first of a month some ``years`` from this one (a
    negative number: years ago)."""

    kind: FacilityKind
    share: float
    always: tuple[str, ...]
    count: tuple[int, int] | int  # drawn from a range (the end not included), or EACH_UNIT
    location: str
    years: tuple[int, int]  # drawn from a range (the end not included)


OLD_FACILITIES = (
    OldFacility(FacilityKind.STREET_LIGHT, 0.6, ("新国土小区",), (4, 11), "院内主路", (-20, -10)),
    OldFacility(
        FacilityKind.BUILDING_DOOR,
        0.3,
        ("城建小区", "农机公司宿舍西院", "铸造厂生活区东院"),
        EACH_UNIT,
        "各单元（原有铁门）",
        (-18, -11),
    ),
)

# The seed's other works: roads, doors, parking, lights, charging piles, pipes.
WORKS = (
    Works(
        "城建小区",
        WorkKind.ROAD,
        "院内道路硬化",
        "院内主路及楼前道路破损严重，铺设沥青路面约1800平方米，同步修整排水沟。",
        Funding.GOVERNMENT,
        budget_yuan=186000,
        planned=Day(START, 14),
        done_after=Day(START, 50),
        decision="road",
    ),
    Works(
        "城建小区",
        WorkKind.BUILDING_DOOR,
        "更换楼宇门",
        "{n}个单元更换可视对讲楼宇门。",
        Funding.GOVERNMENT,
        yuan_each=4800,
        installs=EACH_UNIT,
        location="各单元",
        done_after=Day(ROAD_DONE, 10),
        replaces=True,
    ),
    Works(
        "城建小区",
        WorkKind.PARKING,
        "施划停车位",
        "道路硬化后施划停车位36个，设电动车集中停放区。",
        Funding.FEES,
        budget_yuan=450,
        installs=36,
        location="院内主路两侧",
        done_after=Day(ROAD_DONE, 5),
    ),
    Works(
        "城建小区",
        WorkKind.CHARGING,
        "电动车充电桩",
        "车棚内安装智能充电桩6个，扫码充电。",
        Funding.COMMUNITY,
        budget_yuan=21000,
        installs=6,
        location="车棚",
        done_after=Day(START, 90),
    ),
    Works(
        "新国土小区",
        WorkKind.STREET_LIGHT,
        "院内路灯更换为LED",
        "会诊决定：更换院内老旧路灯，改为太阳能LED路灯12盏。",
        Funding.FEES,
        budget_yuan=14400,
        installs=12,
        location="院内主路、楼前",
        done_after=Day(START, 60),
        replaces=True,
    ),
    Works(
        "新国土小区",
        WorkKind.CHARGING,
        "电动车充电桩",
        "单元代表入户征求意见后，在车棚安装充电桩8个。",
        Funding.FEES,
        budget_yuan=16800,
        installs=8,
        location="车棚",
        done_after=Day(START, 100),
    ),
    Works(
        "新国土小区",
        WorkKind.SEWER,
        "院内下水管网改造",
        "主管道老化堵塞，会诊决定申请专项维修资金整体改造，已报社区审核。",
        Funding.MAINTENANCE_FUND,
        budget_yuan=68000,
        planned=Day(TODAY, -12),
        decision="sewer",
    ),
    Works(
        "人民医院小区西院",
        WorkKind.CHARGING,
        "电动车充电桩",
        "车棚安装智能充电桩{n}个，解决飞线充电问题。",
        Funding.FEES,
        yuan_each=2100,
        installs=10,
        location="车棚",
        done_after=Day(START, 70),
    ),
    Works(
        "物资局家属院一区",
        WorkKind.CHARGING,
        "电动车充电桩",
        "车棚安装智能充电桩{n}个，解决飞线充电问题。",
        Funding.COMMUNITY,
        yuan_each=2100,
        installs=12,
        location="车棚",
        done_after=Day(START, 70),
    ),
    Works(
        "百货公司宿舍",
        WorkKind.STREET_LIGHT,
        "增设路灯",
        "楼间道路增设LED路灯{n}盏。",
        Funding.FEES,
        yuan_each=1200,
        installs=6,
        location="楼间道路",
        done_after=Day(START, 40),
    ),
    Works(
        "公安局家属楼南区",
        WorkKind.STREET_LIGHT,
        "增设路灯",
        "楼间道路增设LED路灯{n}盏。",
        Funding.GOVERNMENT,
        yuan_each=1200,
        installs=8,
        location="楼间道路",
        done_after=Day(START, 40),
    ),
    Works(
        "农机公司宿舍西院",
        WorkKind.BUILDING_DOOR,
        "更换楼宇门",
        "{n}个单元的旧铁门更换为带门禁的楼宇门。",
        Funding.FEES,
        yuan_each=4200,
        installs=EACH_UNIT,
        location="各单元",
        done_after=Day(START, 60),
        replaces=True,
    ),
    Works(
        "交通局家属院南区",
        WorkKind.PARKING,
        "施划停车位",
        "院内施划停车位24个，标明消防通道。",
        Funding.FEES,
        budget_yuan=380,
        installs=24,
        location="院内",
        done_after=Day(START, 50),
    ),
    Works(
        "铸造厂生活区东院",
        WorkKind.BUILDING_DOOR,
        "更换楼宇门",
        "{n}个单元更换楼宇门，分两批施工，第一批已进场。",
        Funding.GOVERNMENT,
        yuan_each=4500,
        installs=EACH_UNIT,
        started=Day(TODAY, -5, -15),
    ),
    Works(
        "焦化厂小区",
        WorkKind.SEWER,
        "下水主管道更换",
        "会诊决定更换院内下水主管道，专项维修资金已批复，施工中。",
        Funding.MAINTENANCE_FUND,
        budget_yuan=52000,
        started=Day(TODAY, -5, -20),
        decision="sewer",
    ),
    Works(
        "机械厂生活区东院",
        WorkKind.ROAD,
        "院内道路硬化",
        "居民座谈会提出，拟申请老旧小区改造资金铺设院内道路。",
        Funding.GOVERNMENT,
        budget_yuan=120000,
        planned=Day(TODAY, 30),
        decision="road",
    ),
)

# Who is paid for the works of a kind (a local repair team for the others).
WORK_PAYEES: dict[str, list[str]] = {
    WorkKind.CAMERA: ["孝义市万家安防", "孝义市天网监控工程部"],
    WorkKind.STREET_LIGHT: ["孝义市光明电器维修部"],
    WorkKind.CHARGING: ["孝义市绿能充电设备有限公司"],
    WorkKind.BUILDING_DOOR: ["孝义市万家安防"],
    WorkKind.PARKING: ["孝义市路通市政工程队"],
    WorkKind.ROAD: ["孝义市路通市政工程队"],
}

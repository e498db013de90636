"""The demo's archives and vouchers: 绿城一片区 and 新国土小区's areas get their 管理规约,
the pilot's 一小区一方案 and a service contract as small PDFs made in code, and the
finished month's expenses get a drawn voucher photo, so an owner can tap from the
finance board through to one."""

from __future__ import annotations

import base64
import io
import random
from datetime import date, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .. import clock
from ..archive import service as archive
from ..archive.models import DocKind
from ..archive.pdf import simple_pdf
from ..auth.models import User
from ..extensions import db
from ..registry.models import Compound, ManagementArea

# (area, by the compound it holds; the chair's mobile)
ARCHIVES = (("绿城一片区", None, "13900000005"), (None, "新国土小区", "13900000007"))


def voucher_photo(seed: str, payee: str, amount_fen: int, day: date) -> str:
    """A drawn receipt (a white slip, lines of writing and a red stamp) saved as an upload;
    the same seed rewrites the same file. Returns its file name."""
    from PIL import Image, ImageDraw

    from ..uploads import upload_dir

    rng = random.Random(seed)
    image = Image.new("RGB", (360, 240), (235, 232, 225))
    d = ImageDraw.Draw(image)
    d.rectangle((20, 14, 340, 226), fill=(252, 252, 248), outline=(160, 160, 160))
    d.rectangle((36, 28, 324, 44), fill=(200, 60, 50))  # the receipt's printed head
    for row in range(6):
        y = 64 + row * 24
        d.line((40, y + 14, 320, y + 14), fill=(190, 190, 200))
        d.line((48, y + 6, 48 + rng.randrange(120, 250), y + 6), fill=(40, 50, 90), width=2)
    # A digit per ¥100 of the amount, and the day, as scribbles: enough to look like one.
    for n in range(min(amount_fen // 10_000, 9) + 1):
        d.rectangle((250 + n * 8, 200, 254 + n * 8, 212), fill=(40, 50, 90))
    d.ellipse((230, 120, 310, 200), outline=(210, 40, 40), width=4)
    d.line((250, 160, 290, 160), fill=(210, 40, 40), width=3)
    name = base64.urlsafe_b64encode(rng.randbytes(18)).decode() + ".jpg"
    image.save(upload_dir() / name, "JPEG", quality=70)
    return name


def _pdf(title: str, lines: list[str]) -> FileStorage:
    return FileStorage(io.BytesIO(simple_pdf(title, lines)), f"{title}.pdf")


def archive_story() -> None:
    """Each story area's covenant, plan and cleaning contract, uploaded by its chair."""
    today = clock.today()
    for area_name, compound_name, chair_mobile in ARCHIVES:
        if area_name is not None:
            area = db.session.scalars(
                select(ManagementArea).where(ManagementArea.name == area_name)
            ).first()
        else:
            found = db.session.scalars(select(Compound).where(Compound.name == compound_name))
            compound = found.first()
            area = compound.area if compound is not None else None
        chair = db.session.scalars(select(User).where(User.mobile == chair_mobile)).first()
        if area is None or chair is None:
            continue
        name = area_name or compound_name or area.name
        compounds = "、".join(c.name for c in area.compounds)
        pilot = next((c.pilot for c in area.compounds if c.pilot is not None), None)
        scope = (pilot.service_scope if pilot else "") or "保洁、垃圾清运、公共照明、小修小补"
        documents = [
            (
                DocKind.COVENANT,
                f"{name}管理规约",
                today - timedelta(days=300),
                "",
                None,
                [
                    f"第一条 本规约适用于{compounds}。",
                    "第二条 业主有权查阅物业服务收支、合同和会议记录。",
                    "第三条 物业费标准公示期满后，经业主表决通过执行。",
                    "第四条 公共收益归全体业主所有，单独列账。",
                ],
            ),
            (
                DocKind.PLAN,
                f"{name}一小区一方案",
                today - timedelta(days=280),
                "",
                None,
                [
                    f"服务范围：{scope}",
                    f"收费说明：{(pilot.fee_note if pilot else '') or '按户收取，按月公示'}",
                    "组织方式：物管会负责，社区指导。",
                ],
            ),
            (
                DocKind.CONTRACT,
                f"{name}保洁服务合同",
                today - timedelta(days=200),
                "孝义市洁美保洁服务有限公司",
                3_600_000,
                [
                    "甲方：物业管理委员会",
                    "乙方：孝义市洁美保洁服务有限公司",
                    "服务内容：楼道、院落每日清扫，垃圾日产日清。",
                    "合同金额：36000元/年，按月支付。",
                ],
            ),
        ]
        for n, (kind, title, dated, counterparty, amount, lines) in enumerate(documents):
            archive.create_document(
                area,
                chair,
                kind=kind,
                title=title,
                dated=dated,
                counterparty=counterparty,
                amount_fen=amount,
                storage=_pdf(title, lines),
                request_key=f"demo-document-{area.id:06d}-{n}",
            )
    db.session.commit()

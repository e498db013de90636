"""Statement files as the banks and payment apps export them, for the tests and the bench."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

WECHAT_HEADER = [
    "交易时间",
    "交易类型",
    "交易对方",
    "商品",
    "收/支",
    "金额(元)",
    "支付方式",
    "当前状态",
    "交易单号",
    "商户单号",
    "备注",
]
ALIPAY_HEADER = [
    "交易时间",
    "交易分类",
    "交易对方",
    "对方账号",
    "商品说明",
    "收/支",
    "金额",
    "收/付款方式",
    "交易状态",
    "交易订单号",
    "商家订单号",
    "备注",
]


def _csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def wechat_row(
    on: date, fen: int, who: str = "李**", note: str = "/", ref: str = "", time: str = "10:00:00"
) -> list[str]:
    direction = "收入" if fen > 0 else "支出"
    kind = "二维码收款" if fen > 0 else "转账"
    return [
        f"{on.isoformat()} {time}",
        kind,
        who,
        note,
        direction,
        f"¥{abs(fen) / 100:.2f}",
        "/",
        "已收钱" if fen > 0 else "支付成功",
        f"{ref}\t" if ref else "",
        "/",
        "/",
    ]


def wechat_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """A WeChat Pay bill export (微信支付账单明细): its metadata lines, then the table."""
    head = [
        ["微信支付账单明细"],
        ["微信昵称：[张会计]"],
        ["起始时间：[2026-06-01 00:00:00] 终止时间：[2026-06-30 23:59:59]"],
        ["导出类型：[全部]"],
        [f"共{len(rows)}笔记录"],
        ["----------------------微信支付账单明细列表--------------------"],
    ]
    return _csv([*head, WECHAT_HEADER, *rows]).encode("utf-8-sig")


def alipay_row(
    on: date, fen: int, who: str, note: str, ref: str, status: str = "交易成功"
) -> list[str]:
    return [
        f"{on.isoformat()} 09:30:00",
        "收款",
        who,
        "zhao***@qq.com",
        note,
        "收入" if fen > 0 else "支出",
        f"{abs(fen) / 100:.2f}",
        "余额",
        status,
        f"{ref}\t",
        "",
        "",
    ]


def alipay_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """An Alipay export (支付宝交易明细), GBK-encoded as Alipay writes it."""
    head = [["支付宝交易明细"], ["账号：[zhang***@163.com]"], ["起始日期：[2026-06-01]"]]
    return _csv([*head, ALIPAY_HEADER, *rows]).encode("gb18030")


BANK_HEADER = [
    "交易日期",
    "摘要",
    "收入金额",
    "支出金额",
    "余额",
    "对方户名",
    "附言",
    "流水号",
    "币种",
]


def bank_csv(rows: Sequence[Sequence[str]]) -> bytes:
    head = [["中国农业银行 账户明细"], ["账号：6228********1234", "户名：新国土小区物管会"]]
    return _csv([*head, BANK_HEADER, *rows]).encode("utf-8")


def xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

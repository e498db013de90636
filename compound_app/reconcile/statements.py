"""Reading a statement file: which layout it has, and its lines as dates and fen.

Three layouts are recognised by their header row, wherever it sits below the export's
own lines of metadata: WeChat Pay's bill export (微信支付账单明细), Alipay's (支付宝交易明细,
often GBK) and a bank statement (交易日期, 收入金额/贷方发生额, 支出金额/借方发生额, or one
signed 金额). Any other layout is read through the columns the account's keeper mapped
once (``StatementMapping``). Reading writes nothing; a line that cannot be read refuses
the whole file with its row number, so nothing half-read is ever imported.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _

from ..fields import clean_text, has_control, parse_date
from ..money import AmountError, parse_fen
from ..registry.importer import MAX_BYTES, ImportFileError, read_table

__all__ = ["MAX_BYTES", "ImportFileError"]

MAX_LINES = 20_000  # a year of a busy collection code
HEADER_SEARCH = 40  # rows of metadata an export may put above its header

# What a column holds → the headers that name it (compared after NFKC, spaces dropped).
KEYS = ("date", "time", "amount", "in", "out", "counterparty", "note", "reference", "currency")
ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("交易时间", "交易日期", "记账日期", "交易创建时间", "付款时间", "日期", "入账日期"),
    "time": ("时间", "交易时刻"),
    "amount": ("金额(元)", "金额", "交易金额", "发生额", "金额(人民币)"),
    "in": ("收入金额", "贷方发生额", "贷方金额", "存入金额", "收入(元)", "收入"),
    "out": ("支出金额", "借方发生额", "借方金额", "支取金额", "支出(元)", "支出"),
    "direction": ("收/支", "收支", "收/支类型"),
    "counterparty": ("交易对方", "对方户名", "对方名称", "对方账户名", "对方账户名称", "付款人"),
    "note": ("附言", "备注", "用途", "摘要", "商品", "商品说明", "交易附言"),
    "reference": (
        "交易单号",
        "交易订单号",
        "流水号",
        "交易流水号",
        "交易流水",
        "凭证号",
        "交易号",
    ),
    "currency": ("币种", "货币", "币别"),
    "status": ("当前状态", "交易状态"),
}
# A line whose status says the money never moved is left out.
DEAD_STATUS = ("关闭", "失败", "已撤销")
PLAIN_CURRENCY = {"", "CNY", "RMB", "人民币", "人民币元", "156"}


class Layout:
    WECHAT = "wechat"
    ALIPAY = "alipay"
    BANK = "bank"
    MAPPED = "mapped"


class UnknownLayout(Exception):
    """No header of a known layout, and no saved mapping that fits: the keeper maps the
    columns once. ``headers`` is the row the mapping form offers."""

    def __init__(self, headers: list[str]) -> None:
        super().__init__("unknown layout")
        self.headers = headers


@dataclass
class Line:
    line_no: int
    booked_on: date
    booked_time: str
    amount_fen: int  # > 0 in, < 0 out
    counterparty: str
    note: str
    reference: str
    identity: str = ""


@dataclass
class Parsed:
    layout: str
    lines: list[Line]
    doubled: list[int] = field(default_factory=list)  # rows whose reference came before
    ignored: int = 0  # lines without money in or out (zero, neutral, closed)

    @property
    def total_in(self) -> int:
        return sum(line.amount_fen for line in self.lines if line.amount_fen > 0)

    @property
    def total_out(self) -> int:
        return -sum(line.amount_fen for line in self.lines if line.amount_fen < 0)

    @property
    def first_on(self) -> date | None:
        return min((line.booked_on for line in self.lines), default=None)

    @property
    def last_on(self) -> date | None:
        return max((line.booked_on for line in self.lines), default=None)


def _norm(title: str) -> str:
    return clean_text(title).replace(" ", "").lower()


def _find(header: list[str], key: str) -> int | None:
    names = {_norm(h): i for i, h in reversed(list(enumerate(header)))}
    for alias in ALIASES[key]:
        if _norm(alias) in names:
            return names[_norm(alias)]
    return None


def detect(header: list[str]) -> tuple[str, dict[str, int]] | None:
    """The layout a header row belongs to and where each column is, or None."""
    names = {_norm(h) for h in header}
    columns = {key: i for key in ALIASES if (i := _find(header, key)) is not None}
    if "date" not in columns:
        return None
    if "收/支" in names and "交易单号" in names and "金额(元)" in names:
        layout = Layout.WECHAT
    elif "收/支" in names and ("交易订单号" in names or "交易号" in names):
        layout = Layout.ALIPAY
    elif "in" in columns or "out" in columns or "amount" in columns:
        layout = Layout.BANK
    else:
        return None
    if layout == Layout.BANK and ("in" in columns or "out" in columns):
        columns.pop("amount", None)  # a signed 金额 only where there is no in and out
    if layout in (Layout.WECHAT, Layout.ALIPAY):
        columns.pop("in", None)
        columns.pop("out", None)
        # The goods line (商品) and the remark (备注) both carry what the payer wrote.
        normed = [_norm(h) for h in header]
        goods = next((normed.index(g) for g in ("商品", "商品说明") if g in normed), None)
        remark = normed.index("备注") if "备注" in normed else None
        columns.pop("note", None)
        if goods is not None:
            columns["note"] = goods
        if remark is not None:
            columns["note2"] = remark
    if "amount" not in columns and not ("in" in columns or "out" in columns):
        return None
    return layout, columns


def _problem(line_no: int, message: str) -> ImportFileError:
    return ImportFileError(_("Row %(n)d: %(problem)s", n=line_no, problem=message))


def parse_when(text: str) -> tuple[date, str] | None:
    """A date, with a time of day where the statement gives one: 2026-06-01 10:23:45,
    2026/6/1, 20260601, 2026年6月1日."""
    s = clean_text(text)
    if not s:
        return None
    day, _sep, rest = s.replace("T", " ").partition(" ")
    if re.fullmatch(r"\d{8}", day):
        day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    found = parse_date(day)
    if found is None:
        return None
    time = _time(rest) if rest.strip() else ""
    return None if time == "!" else (found, time)


def _time(text: str) -> str:
    """A time of day as HH:MM:SS, or "" when there is none to read."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?", text.strip())
    if m is None or int(m[1]) > 23 or int(m[2]) > 59 or int(m[3] or 0) > 59:
        return "!"
    return f"{int(m[1]):02d}:{m[2]}:{m[3] or '00'}"


def parse_amount(text: str) -> int | None:
    """Signed fen from ¥100.00, -1,234.5, +20, 100.00元; None if it is not an amount."""
    s = clean_text(text).replace(" ", "")
    if not s:
        return 0
    sign = 1
    if s[0] in "+-":
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
    s = s.removeprefix("¥").removeprefix("RMB")
    if s.startswith("-"):  # ¥-12.00
        sign, s = -sign, s[1:]
    try:
        return sign * parse_fen(s, allow_zero=True)
    except AmountError:
        return None


def _cell(row: list[str], i: int | None) -> str:
    if i is None or i < 0 or i >= len(row):
        return ""
    return row[i]


def _text(value: str, limit: int) -> str:
    return "".join(ch for ch in value if not has_control(ch))[:limit]


def read_lines(table: list[list[str]], mapping: dict[str, str] | None = None) -> Parsed:
    """Find the header, then read every line below it. Raises ``ImportFileError`` for a
    file that cannot be imported (with the row), ``UnknownLayout`` for unknown headers."""
    if not any(any(cell for cell in row) for row in table):
        raise ImportFileError(_("The file is empty."))
    found: tuple[int, str, dict[str, int]] | None = None
    for i, row in enumerate(table[:HEADER_SEARCH]):
        got = detect(row)
        if got is not None:
            found = (i, *got)
            break
    if found is None and mapping:
        for i, row in enumerate(table[:HEADER_SEARCH]):
            columns = mapped_columns(row, mapping)
            if columns is not None:
                found = (i, Layout.MAPPED, columns)
                break
    if found is None:
        header = next(
            (row for row in table[:HEADER_SEARCH] if sum(1 for c in row if c) >= 3),
            next(row for row in table if any(row)),
        )
        raise UnknownLayout([h for h in header if h][:30])
    start, layout, columns = found
    lines: list[Line] = []
    ignored = 0
    for offset, row in enumerate(table[start + 1 :], start=start + 2):
        if not any(row):
            continue
        if all(not c or c.startswith(("-", "#", "=")) for c in row[1:]) and not parse_when(
            _cell(row, columns.get("date"))
        ):
            continue  # a footer line (合计, ----- 以下为空 -----)
        line = _read_row(offset, row, layout, columns)
        if line is None:
            ignored += 1
        else:
            lines.append(line)
        if len(lines) > MAX_LINES:
            raise ImportFileError(_("At most %(n)d lines per statement.", n=MAX_LINES))
    doubled = identify(lines)
    kept = [line for line in lines if line.line_no not in set(doubled)]
    return Parsed(layout, kept, doubled, ignored)


def _read_row(line_no: int, row: list[str], layout: str, columns: dict[str, int]) -> Line | None:
    currency = clean_text(_cell(row, columns.get("currency"))).upper()
    if currency not in PLAIN_CURRENCY:
        raise _problem(
            line_no,
            _(
                "the currency is %(c)s; only statements in yuan (CNY) can be imported.",
                c=currency[:10],
            ),
        )
    when = parse_when(_cell(row, columns.get("date")))
    if when is None:
        raise _problem(line_no, _("the date cannot be read."))
    booked_on, booked_time = when
    if "time" in columns and not booked_time:
        t = _time(clean_text(_cell(row, columns["time"])))
        booked_time = "" if t == "!" else t
    status = _cell(row, columns.get("status"))
    if any(word in status for word in DEAD_STATUS):
        return None
    if "amount" in columns:
        amount = parse_amount(_cell(row, columns["amount"]))
        if amount is None:
            raise _problem(line_no, _("the amount cannot be read."))
        if "direction" in columns:
            direction = clean_text(_cell(row, columns["direction"]))
            if direction in ("支出", "支"):
                amount = -abs(amount)
            elif direction in ("收入", "收"):
                amount = abs(amount)
            else:
                return None  # neither in nor out (零钱提现, 转入零钱通): not the account's money
    else:
        money_in = parse_amount(_cell(row, columns.get("in")))
        money_out = parse_amount(_cell(row, columns.get("out")))
        if money_in is None or money_out is None:
            raise _problem(line_no, _("the amount cannot be read."))
        amount = abs(money_in) - abs(money_out)
    if amount == 0:
        return None
    note = " ".join(
        part
        for part in (_cell(row, columns.get("note")), _cell(row, columns.get("note2")))
        if part and part != "/"
    )
    reference = clean_text(_cell(row, columns.get("reference")))
    if reference in ("/", "-"):
        reference = ""
    counterparty = _cell(row, columns.get("counterparty"))
    return Line(
        line_no=line_no,
        booked_on=booked_on,
        booked_time=booked_time,
        amount_fen=amount,
        counterparty=_text("" if counterparty == "/" else counterparty, 100),
        note=_text(note, 200),
        reference=_text(reference, 64),
    )


def identify(lines: list[Line]) -> list[int]:
    """Give each line its identity; return the rows whose reference came earlier in the
    file (reported and skipped)."""
    seen: set[str] = set()
    doubled: list[int] = []
    occurrences: Counter[tuple[Any, ...]] = Counter()
    for line in lines:
        if line.reference:
            line.identity = f"r:{line.reference}"
            if line.identity in seen:
                doubled.append(line.line_no)
            seen.add(line.identity)
            continue
        key = (
            line.booked_on.isoformat(),
            line.booked_time,
            line.amount_fen,
            line.counterparty,
            line.note,
        )
        occurrences[key] += 1
        text = "|".join(str(part) for part in (*key, occurrences[key]))
        line.identity = "f:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    return doubled


# --- columns mapped by hand -------------------------------------------------------------------

MAPPED_KEYS = ("date", "amount", "in", "out", "counterparty", "note", "reference", "currency")


def mapped_columns(header: list[str], mapping: dict[str, str]) -> dict[str, int] | None:
    """Where the mapped headers sit in this row, if they all do."""
    names = [_norm(h) for h in header]
    columns: dict[str, int] = {}
    for key in MAPPED_KEYS:
        wanted = mapping.get(key) or ""
        if not wanted:
            continue
        if _norm(wanted) not in names:
            return None
        columns[key] = names.index(_norm(wanted))
    if "date" not in columns or not ("amount" in columns or "in" in columns or "out" in columns):
        return None
    return columns


def read_file(filename: str, data: bytes, mapping: dict[str, str] | None = None) -> Parsed:
    """Read an uploaded statement (CSV in UTF-8 or GBK, or .xlsx)."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    return read_lines(read_table(filename, data, max_rows=MAX_LINES + HEADER_SEARCH), mapping)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_payload(lines: list[Line]) -> list[list[Any]]:
    return [
        [
            line.line_no,
            line.booked_on.isoformat(),
            line.booked_time,
            line.amount_fen,
            line.counterparty,
            line.note,
            line.reference,
            line.identity,
        ]
        for line in lines
    ]


def from_payload(payload: list[list[Any]]) -> list[Line]:
    lines = []
    for row in payload:
        no, day, time, amount, counterparty, note, reference, identity = row
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise ValueError("bad amount")
        lines.append(
            Line(
                line_no=int(no),
                booked_on=date.fromisoformat(str(day)),
                booked_time=str(time)[:8],
                amount_fen=amount,
                counterparty=str(counterparty)[:100],
                note=str(note)[:200],
                reference=str(reference)[:64],
                identity=str(identity)[:70],
            )
        )
    return lines

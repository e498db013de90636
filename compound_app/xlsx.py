"""Excel workbooks for the ledgers (台账): Chinese headers, dates as dates, no formulas."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

Sheet = tuple[str, list[str], list[list[Any]]]


def zh(kind: str, code: str) -> str:
    """A stored code in Chinese, whatever the reader's language: ledgers are filed as is."""
    from flask_babel import force_locale

    from .labels import LABELS

    text = LABELS[kind].get(code)
    if text is None:
        return code
    with force_locale("zh_CN"):
        return str(text)


def yuan(fen: int) -> float:
    # Excel shows money as numbers; the workbook is for reading and summing, the ledger
    # itself stays in integer fen.
    return round(fen / 100, 2)


def workbook(sheets: list[Sheet], width: int = 14) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for sheet in wb.worksheets:  # the empty default sheet
        wb.remove(sheet)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append(header)
        for row in rows:
            ws.append(row)
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str) and cell.data_type == "f":
                    cell.data_type = "s"  # text typed by people is never a formula
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
        for column in ws.columns:
            ws.column_dimensions[column[0].column_letter].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

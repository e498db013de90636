"""A small, valid A4 PDF made in code: the demo's archive documents and the hand-over
bundle (``transition.bundle.to_pdf``).

Text is set in the standard Chinese font STSong-Light (UniGB-UCS2-H), which PDF readers
bring with them, so the file embeds no font and stays a few kilobytes. Lines too wide for
the page are wrapped (a Chinese character is one em wide, a Latin letter or digit half
one) and run on over as many pages as they need, each numbered.
"""

from __future__ import annotations

PAGE_WIDTH, PAGE_HEIGHT = 595, 842
MARGIN = 56
TITLE_SIZE, SIZE, LEADING = 18, 12, 18
_TOP = PAGE_HEIGHT - MARGIN - TITLE_SIZE
_ROOM = (PAGE_WIDTH - 2 * MARGIN) * 2 // SIZE  # half-ems across the page
LINES_PER_PAGE = (_TOP - MARGIN) // LEADING - 2  # below the title, above the page number


def _text(line: str) -> str:
    return "<" + line.encode("utf-16-be").hex().upper() + ">"


def _width(char: str) -> int:
    """In half-ems: Latin letters, digits and ASCII punctuation are half-width."""
    return 1 if ord(char) < 128 else 2


def _wrap(line: str) -> list[str]:
    """The line cut into pieces that fit the page's width."""
    pieces, piece, used = [], "", 0
    for char in line:
        if used + _width(char) > _ROOM:
            pieces.append(piece)
            piece, used = "", 0
        piece += char
        used += _width(char)
    pieces.append(piece)
    return pieces


def _page(title: str, lines: list[str], number: int, pages: int) -> bytes:
    content = [
        "BT",
        f"/F1 {TITLE_SIZE} Tf",
        f"{MARGIN} {_TOP} Td",
        f"{_text(title)} Tj",
        f"/F1 {SIZE} Tf",
        f"0 -{LEADING} TL",
        "T*",
    ]
    for line in lines:
        content.append(f"T* {_text(line)} Tj")
    content += ["ET", "BT", f"/F1 {SIZE - 2} Tf", f"{PAGE_WIDTH // 2 - 20} {MARGIN // 2} Td"]
    if pages > 1:
        content.append(f"{_text(f'{number} / {pages}')} Tj")
    content.append("ET")
    return "\n".join(content).encode("ascii")


def simple_pdf(title: str, lines: list[str]) -> bytes:
    """A4 pages with ``title`` at the head of each and ``lines`` (BMP characters) below,
    as PDF bytes."""
    wrapped = [piece for line in lines for piece in _wrap(line)]
    chunks = [wrapped[i : i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)]
    chunks = chunks or [[]]
    first_page = 6  # objects 1-5: catalog, page tree, font, CID font, font descriptor
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(chunks)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(chunks)} >>".encode("ascii"),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [4 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>",
    ]
    for number, chunk in enumerate(chunks, start=1):
        stream = _page(title, chunk, number, len(chunks))
        content_ref = first_page + 2 * (number - 1) + 1
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, content_ref)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)

"""Receipts as a treasurer signs them: the amount in capitals, who issued it, who paid
and who received it, two copies, 作废 on a voided one, and the area's seal."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from compound_app import clock
from compound_app.committees import service as committees
from compound_app.committees.models import Background, Position
from compound_app.extensions import db
from compound_app.fees import ledger, receipts, schedules
from compound_app.fees.models import Method, Payment, ReceiptSeal
from compound_app.money import MAX_FEN, fen_in_words
from compound_app.months import add_months, this_month
from tests.factories import World, fee_schedule, first_household, user

# --- the amount in capitals (大写) ------------------------------------------------------------

KNOWN = [
    (0, "零元整"),
    (1, "壹分"),  # 0.01
    (10, "壹角整"),  # 0.10
    (15, "壹角伍分"),
    (100, "壹元整"),  # 1.00
    (105, "壹元零伍分"),
    (1000, "壹拾元整"),
    (1005, "壹拾元零伍分"),  # 10.05
    (1050, "壹拾元伍角整"),
    (10000, "壹佰元整"),  # 100.00
    (12000, "壹佰贰拾元整"),
    (12050, "壹佰贰拾元伍角整"),
    (100110, "壹仟零壹元壹角整"),  # 1001.10
    (100500, "壹仟零伍元整"),
    (168032, "壹仟陆佰捌拾元叁角贰分"),
    (1000000, "壹万元整"),  # 10000.00
    (1000500, "壹万零伍元整"),
    (1010000, "壹万零壹佰元整"),
    (1100000, "壹万壹仟元整"),
    (10000000, "壹拾万元整"),
    (12345678, "壹拾贰万叁仟肆佰伍拾陆元柒角捌分"),  # 123456.78
    (100000000, "壹佰万元整"),
    (101000000, "壹佰零壹万元整"),
    (10000000000, "壹亿元整"),
]


@pytest.mark.parametrize(("fen", "words"), KNOWN)
def test_known_amounts_in_capitals(fen: int, words: str) -> None:
    assert fen_in_words(fen) == words


_DIGIT = {ch: n for n, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
_UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def _read_back(words: str) -> int:
    """Capitals back to fen: the inverse the property test holds ``fen_in_words`` to."""
    whole, has_yuan, rest = words.partition("元")
    if not has_yuan:
        whole, rest = "", words
    total = section = digit = 0
    for ch in whole:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _UNIT:
            section += digit * _UNIT[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif ch == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {words}")
    yuan = total + section + digit
    jiao = fen = 0
    match = re.fullmatch(r"零?(?:(.)角)?(?:(.)分)?整?", rest)
    assert match, words
    if match[1]:
        jiao = _DIGIT[match[1]]
    if match[2]:
        fen = _DIGIT[match[2]]
    return yuan * 100 + jiao * 10 + fen


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=MAX_FEN) | st.integers(min_value=0, max_value=10**6))
def test_capitals_read_back_to_the_amount_and_keep_the_writing_rules(fen: int) -> None:
    words = fen_in_words(fen)
    assert _read_back(words) == fen
    assert set(words) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")
    # 整 after 元 or 角, never after 分; one 零 at a time; 零 never leads but for zero.
    assert words.endswith("整") == (fen % 10 == 0)
    assert "零零" not in words and not words.endswith("零")
    assert fen == 0 or not words.startswith("零")
    # Every ten is written with its digit: 壹拾, never a bare 拾.
    assert not re.search(r"(^|[^壹贰叁肆伍陆柒捌玖])拾", words)


# --- the receipt page ---------------------------------------------------------------------------


@pytest.fixture
def billed(world: World) -> World:
    fee_schedule(world.branch.area, start=add_months(this_month(), -2))
    schedules.catch_up(world.branch.area_id)
    db.session.commit()
    return world


def _pay(client, household, amount: str = "120", key: str = "receipts-test-key-000000001", **extra):  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "method": "cash",
        "paid_on": clock.today().isoformat(),
        "note": "",
        "payer": "",
        "key": key,
        **extra,
    }
    return client.post(f"/fees/households/{household.id}/pay", data=data)


def _page(client, payment: Payment) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/fees/payments/{payment.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_receipt_names_issuer_payer_as_given_handler_and_says_it_is_no_invoice(
    billed: World, login_as
) -> None:
    rep = login_as(billed.users["rep"])
    home = first_household(billed.branch)
    form = rep.get(f"/fees/households/{home.id}/pay").get_data(as_text=True)
    # The payer's name is never filled in from the roster (the owner is 吴振华).
    payer_input = re.search(r'<input[^>]*name="payer"[^>]*>', form)
    assert payer_input and not re.search(r'value="[^"]', payer_input[0])
    assert _pay(rep, home, "120", payer="李 桂 兰").status_code == 303
    payment = db.session.scalars(select(Payment)).one()
    assert payment.payer_name == "李 桂 兰"
    page = _page(rep, payment)
    assert "新国土小区物管会" in page  # the committee, by the name recorded for it
    assert "李 桂 兰" in page and "周玉梅" in page  # payer as given; who received it
    assert "壹佰贰拾元整" in page and "¥120.00" in page
    assert "本收据为收款凭证，不作为税务发票" in page
    assert "存根" in page and "交付" in page and "cut-line" in page
    assert page.count(payment.receipt_no) >= 2  # on both copies
    assert "作废" not in page


def test_no_payer_given_is_said_so(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    _pay(rep, first_household(billed.branch))
    payment = db.session.scalars(select(Payment)).one()
    assert payment.payer_name is None
    assert "未填写" in _page(rep, payment)


def test_a_trusteeship_area_issues_in_the_communitys_name(world: World, login_as) -> None:
    fee_schedule(world.trust.area, start=add_months(this_month(), -1))
    schedules.catch_up(world.trust.area_id)
    payment = ledger.record_payment(
        first_household(world.trust),
        amount_fen=1005,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=world.users["staff"],
        request_key="receipts-test-trust-00000001",
    ).payment
    db.session.commit()
    assert receipts.issuer(world.trust.area) == receipts.Issuer("绿城社区", committee=False)
    page = _page(login_as(world.users["staff"]), payment)
    assert "绿城社区" in page and "社区托管" in page and "壹拾元零伍分" in page
    assert "李秀兰" in page  # the staff member who received it


@pytest.mark.parametrize(
    "payer",
    ["<b>王</b>", '"><script>alert(1)</script>', "王" * 51, "张三\x07", "13912345678"],
)
def test_a_hostile_or_overlong_payer_name_is_refused(billed: World, login_as, payer: str) -> None:
    rep = login_as(billed.users["rep"])
    response = _pay(rep, first_household(billed.branch), payer=payer)
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_a_stored_payer_name_is_escaped_on_the_receipt(billed: World, login_as) -> None:
    payment = ledger.record_payment(
        first_household(billed.branch),
        amount_fen=4500,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=billed.users["rep"],
        request_key="receipts-test-html-000000001",
        payer_name="<img src=x onerror=alert(1)>",
    ).payment
    db.session.commit()
    page = _page(login_as(billed.users["committee"]), payment)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_voided_receipt_says_void_on_both_copies(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    _pay(rep, first_household(billed.branch), "30")
    payment = db.session.scalars(select(Payment)).one()
    chair = login_as(billed.users["committee"])
    assert (
        chair.post(f"/fees/payments/{payment.id}/reverse", data={"reason": "收错户了"}).status_code
        == 303
    )
    page = _page(chair, payment)
    assert page.count('class="void-stamp"') == 2
    assert page.count("收错户了") == 2
    assert (
        page.count("receipt copy-stub is-void") == 1
        and page.count("receipt copy-payer is-void") == 1
    )


# --- the seal -----------------------------------------------------------------------------------


def _png(transparent: bool = True) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (120, 120), (255, 255, 255, 0 if transparent else 255))
    ImageDraw.Draw(image).ellipse((10, 10, 110, 110), outline=(200, 0, 0, 255), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _upload(
    client,
    area_id: int,
    data: bytes | None = None,
    key: str = "seal-test-key-0000000001",
    name: str = "seal.png",
):  # type: ignore[no-untyped-def]
    form: dict[str, object] = {"key": key}
    if data is not None:
        form["seal"] = (io.BytesIO(data), name)
    return client.post(f"/fees/areas/{area_id}/seal", data=form, content_type="multipart/form-data")


def _seals() -> int:
    return db.session.scalar(select(func.count(ReceiptSeal.id))) or 0


def test_the_chair_uploads_a_seal_it_shows_on_the_payers_copy_transparent(
    billed: World, login_as
) -> None:
    from PIL import Image

    chair = login_as(billed.users["committee"])
    area_id = billed.branch.area_id
    assert chair.get(f"/fees/areas/{area_id}/seal").status_code == 200
    assert _upload(chair, area_id, _png()).status_code == 303
    assert _upload(chair, area_id, _png()).status_code == 303  # the same form twice: one seal
    seal = db.session.scalars(select(ReceiptSeal)).one()
    assert seal.uploaded_by_id == billed.users["committee"].id
    image = chair.get(f"/fees/seals/{seal.id}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    with Image.open(io.BytesIO(image.data)) as stored:
        assert stored.mode == "RGBA" and stored.getpixel((0, 0))[3] == 0  # still transparent
    rep = login_as(billed.users["rep"])
    _pay(rep, first_household(billed.branch))
    payment = db.session.scalars(select(Payment)).one()
    page = _page(rep, payment)
    # On the payer's copy only, not on the counterfoil the committee keeps.
    assert page.count(f'src="/fees/seals/{seal.id}"') == 1
    payer_copy = page[page.index("receipt copy-payer") :]
    assert f"/fees/seals/{seal.id}" in payer_copy
    # The home's resident sees the seal on their receipt too.
    assert login_as(billed.users["resident"]).get(f"/fees/seals/{seal.id}").status_code == 200


def test_uploading_again_replaces_the_seal_and_keeps_the_old_one(billed: World, login_as) -> None:
    staff = login_as(billed.users["staff"])  # staff in scope may keep it too
    area_id = billed.branch.area_id
    assert _upload(staff, area_id, _png(), key="seal-test-key-0000000001").status_code == 303
    assert _upload(staff, area_id, _png(False), key="seal-test-key-0000000002").status_code == 303
    first, second = db.session.scalars(select(ReceiptSeal).order_by(ReceiptSeal.id)).all()
    assert receipts.current_seal(area_id) == second
    page = staff.get(f"/fees/areas/{area_id}/seal").get_data(as_text=True)
    assert f"/fees/seals/{second.id}" in page and f"/fees/seals/{first.id}" in page
    assert "早先的印章" in page
    # A resident sees the seal in use on their receipts, never the earlier ones.
    resident = login_as(billed.users["resident"])
    assert resident.get(f"/fees/seals/{second.id}").status_code == 200
    assert resident.get(f"/fees/seals/{first.id}").status_code == 404
    assert staff.get(f"/fees/seals/{first.id}").status_code == 200


def _seat(world: World, position: Position):  # type: ignore[no-untyped-def]
    member = user("钱桂芳")
    committees.add_member(
        committees.committee_for_area(world.branch.area_id),
        name=member.name,
        mobile=member.mobile,
        position=position,
        background=Background.KEEN_RESIDENT,
        term_start=clock.today() - timedelta(days=10),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    db.session.commit()
    return member


def test_who_may_not_upload_the_seal(billed: World, login_as) -> None:
    area_id = billed.branch.area_id
    url = f"/fees/areas/{area_id}/seal"
    for role, status in (
        ("rep", 403),
        ("resident", 403),
        ("area_committee", 404),  # another area's chair
        ("other_staff", 404),
        ("outsider", 404),
    ):
        client = login_as(billed.users[role])
        assert client.get(url).status_code == status, role
        assert _upload(client, area_id, _png()).status_code == status, role
    # A committee member who is neither chair nor treasurer has fee rights, not the seal.
    member = login_as(_seat(billed, Position.MEMBER))
    assert _upload(member, area_id, _png()).status_code == 403
    assert _seals() == 0
    treasurer = login_as(_seat(billed, Position.TREASURER))
    assert _upload(treasurer, area_id, _png()).status_code == 303
    assert _seals() == 1


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "seal.png"),
        (b"GIF89a" + b"\x00" * 20, "seal.gif"),
        (b"", "seal.png"),
        (None, ""),
    ],
)
def test_a_bad_seal_file_is_refused(billed: World, login_as, data: bytes | None, name: str) -> None:
    chair = login_as(billed.users["committee"])
    response = _upload(chair, billed.branch.area_id, data, name=name)
    assert response.status_code == 422
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert _seals() == 0

"""Reconciliation (对账) in a real browser on a 360×740 phone: the treasurer imports a WeChat
Pay bill, confirms the proposed matches and leaves the line she cannot place; a resident
says 我已转账 and gets her receipt once the treasurer matches the transfer. Axe on every
page visited."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from compound_app.auth.models import User
from compound_app.committees import service as committees
from compound_app.committees.models import Background, Committee, Position
from compound_app.extensions import db
from compound_app.fees import ledger, proofs
from compound_app.fees.models import Method, Payment
from compound_app.reconcile.models import ReconDecision, StatementLine, TransferClaim
from compound_app.registry.models import Household, ManagementArea
from compound_app.treasury import service as treasury
from compound_app.treasury.models import AccountKind, MoneyAccount
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.browser.walk import FIRST_SCREEN
from tests.factories import World, days_ago, fee_schedule
from tests.reconcile import samples

PHONE = {"width": 360, "height": 740}


def _on_a_phone(page_factory: Any, user: User, errors: list[str]) -> Any:
    """A signed-in 360×740 phone whose console errors are collected in ``errors``."""
    page = page_factory(user, phone=True)
    page.set_viewport_size(PHONE)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page


def _treasurer_and_wechat(world: World) -> tuple[User, MoneyAccount]:
    """新国土小区's treasurer, seated beside the chair, and the committee's WeChat Pay
    collection code (微信收款码) she opened; a fee schedule in force."""
    area = world.branch.area
    fee_schedule(area, start=days_ago(70).replace(day=1))
    treasurer = factories.user("钱桂芳")
    committee = db.session.scalars(select(Committee).where(Committee.area_id == area.id)).one()
    chair_seat = committee.members[0]
    committees.add_member(
        committee,
        name=treasurer.name,
        mobile=treasurer.mobile,
        position=Position.TREASURER,
        background=Background.PARTY_MEMBER,
        term_start=chair_seat.term_start,
        term_end=chair_seat.term_end,
        actor=None,
    )
    db.session.commit()
    with current_app.test_request_context():
        account = treasury.open_account(
            area, treasurer, kind=AccountKind.WECHAT, name="物管会微信收款码"
        )
    db.session.commit()
    return treasurer, account


def _homes(world: World) -> list[Household]:
    return [h for b in world.branch.buildings for u in b.units for h in u.households]


def _room(home: Household) -> str:
    return f"{home.unit.building.name}{home.unit.name}{home.room}"


def _bill(tmp_path: Any, rows: list[list[str]]) -> str:
    path = tmp_path / "微信支付账单.csv"
    path.write_bytes(samples.wechat_csv(rows))
    return str(path)


def _open_reconciliation(page: Any, area: ManagementArea) -> None:
    """From the area's money page (资金账户) to 对账."""
    page.goto(f"/treasury/areas/{area.id}")
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    page.locator(f"main a[href$='/reconcile/areas/{area.id}']").click()
    page.wait_for_url(f"**/reconcile/areas/{area.id}")
    assert no_horizontal_scroll(page)
    assert_accessible(page)


def _import(page: Any, account: MoneyAccount, bill: str, lines: int) -> None:
    """对账 → 导入对账单 → the preview (nothing written yet) → 导入 n 笔 → back on 对账."""
    page.locator(
        f"#account-{account.id} a[href$='/reconcile/accounts/{account.id}/import']"
    ).click()
    page.wait_for_url(f"**/reconcile/accounts/{account.id}/import")
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    page.set_input_files("input[name=file]", bill)
    with page.expect_navigation():
        page.locator("main form button.primary", has_text="检查文件").click()
    preview = page.locator("#preview")
    assert f"导入 {lines} 笔" in preview.inner_text()
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    db.session.rollback()
    assert db.session.scalar(select(func.count(StatementLine.id))) == 0  # a preview only
    with page.expect_navigation():
        preview.locator("button.primary").click()
    page.wait_for_url(f"**/reconcile/areas/{account.area_id}")
    assert "对账单已导入" in page.content()


def _confirm_first_proposal(page: Any, account: MoneyAccount) -> str:
    """Tap 确认 on the first line of 待确认; return what the line was proposed to be."""
    item = page.locator(f"#account-{account.id} ul.tasks > li").first
    proposal = item.inner_text()
    button = item.locator("form[action$='/confirm'] button.primary")
    assert button.inner_text().strip() == "确认"
    assert button.bounding_box()["height"] >= 44  # a finger's size
    with page.expect_navigation():
        button.click()
    assert "已确认" in page.content()
    return proposal


def test_the_treasurer_imports_a_wechat_bill_and_confirms_three_matches(
    page_factory: Any, live_server: Any, tmp_path: Any
) -> None:
    world = live_server.world
    area = world.branch.area
    treasurer, wechat = _treasurer_and_wechat(world)
    homes = _homes(world)[:3]
    paid: list[tuple[Household, int, date]] = [
        (homes[0], 12_000, days_ago(4)),
        (homes[1], 9_000, days_ago(3)),
        (homes[2], 15_000, days_ago(2)),
    ]
    payments = []
    for n, (home, fen, on) in enumerate(paid):
        payments.append(
            ledger.record_payment(
                home,
                amount_fen=fen,
                method=Method.WECHAT,
                paid_on=on,
                collector=treasurer,
                request_key=f"browser-recon-wechat-{n:08d}",
            ).payment
        )
    db.session.commit()
    rows = [
        samples.wechat_row(on, fen, note=f"收款方备注:{_room(home)}物业费", ref=f"42000{n}")
        for n, (home, fen, on) in enumerate(paid)
    ]
    rows.append(samples.wechat_row(days_ago(1), 6_600, who="陌生人", ref="420009"))  # nobody's
    bill = _bill(tmp_path, rows)
    errors: list[str] = []

    page = _on_a_phone(page_factory, treasurer, errors)
    _open_reconciliation(page, area)
    _import(page, wechat, bill, 4)
    card = page.locator(f"#account-{wechat.id}")
    assert "待确认" in card.inner_text()
    assert no_horizontal_scroll(page)
    assert_accessible(page)

    proposed = [_confirm_first_proposal(page, wechat) for _ in range(3)]
    amounts = [f"¥{fen / 100:,.2f}" for _home, fen, _on in paid]
    assert sorted(next(a for a in amounts if a in shown) for shown in proposed) == sorted(amounts)
    assert no_horizontal_scroll(page)
    assert_accessible(page)

    # The stranger's ¥66 stays: under 未匹配的流水, nothing left to confirm.
    card = page.locator(f"#account-{wechat.id}")
    text = card.inner_text()
    assert "未匹配的流水" in text and "¥66.00" in text
    assert card.locator("form[action$='/confirm'] button.primary").count() == 0
    card.locator(f"#done-{wechat.id} summary").first.click()  # the three done, folded
    assert card.locator(f"#done-{wechat.id} a[href*='/fees/payments/']").count() == 3
    assert_accessible(page)

    db.session.rollback()
    decisions = db.session.scalars(
        select(ReconDecision).where(ReconDecision.kind == "confirm")
    ).all()
    assert len(decisions) == 3
    assert {d.payment_id for d in decisions} == {p.id for p in payments}
    assert {d.decided_by_id for d in decisions} == {treasurer.id}
    matched = {d.line_id for d in decisions}
    left = db.session.scalars(select(StatementLine).where(StatementLine.id.not_in(matched))).all()
    assert [line.amount_fen for line in left] == [6_600]
    assert db.session.scalar(select(func.count(StatementLine.id))) == 4
    assert proofs.check_totals() == []
    assert not errors, errors


def test_a_resident_says_she_transferred_and_gets_her_receipt(
    page_factory: Any, live_server: Any, tmp_path: Any
) -> None:
    world = live_server.world
    area = world.branch.area
    treasurer, wechat = _treasurer_and_wechat(world)
    home = factories.first_household(world.branch)
    on = days_ago(2)

    errors: list[str] = []
    resident = _on_a_phone(page_factory, world.users["resident"], errors)
    resident.locator(f"main a[href$='/fees/households/{home.id}']").first.click()
    resident.wait_for_url(f"**/fees/households/{home.id}")
    assert no_horizontal_scroll(resident)
    assert_accessible(resident)
    claim_link = resident.locator(f"main a[href$='/reconcile/households/{home.id}/claim']")
    assert claim_link.inner_text().strip() == "我已转账"
    claim_link.click()
    resident.wait_for_url(f"**/reconcile/households/{home.id}/claim")
    assert no_horizontal_scroll(resident)
    assert_accessible(resident)
    resident.fill("input[name=amount]", "120")
    resident.fill("input[name=paid_on]", on.isoformat())
    resident.select_option("select[name=method]", "wechat")
    resident.fill("input[name=note]", "吴振华 微信转账")
    with resident.expect_navigation():
        resident.locator("main form button.primary").dblclick()  # a double tap writes once
    resident.wait_for_url(f"**/fees/households/{home.id}*")
    # The thanks on the first screen, the claim further down the page.
    assert "谢谢" in resident.evaluate(FIRST_SCREEN)
    claims = resident.locator("#claims")
    assert "已申报，待核对" in claims.inner_text()
    assert no_horizontal_scroll(resident)
    assert_accessible(resident)
    db.session.rollback()
    claim = db.session.scalars(select(TransferClaim)).one()
    assert (claim.amount_fen, claim.method, claim.paid_on) == (12_000, "wechat", on)

    # The treasurer finds it on the WeChat bill and confirms the line as the claim.
    bill = _bill(
        tmp_path, [samples.wechat_row(on, 12_000, who="吴**", note="物业费", ref="4200100")]
    )
    page = _on_a_phone(page_factory, treasurer, errors)
    _open_reconciliation(page, area)
    assert (
        "吴振华" in page.locator("#claims").inner_text()
        or "¥120.00" in page.locator("#claims").inner_text()
    )
    _import(page, wechat, bill, 1)
    assert "居民申报" in page.locator(f"#account-{wechat.id}").inner_text()
    _confirm_first_proposal(page, wechat)
    assert "¥120.00" not in page.locator("#claims").inner_text()  # no longer waiting
    assert no_horizontal_scroll(page)
    assert_accessible(page)

    db.session.rollback()
    payment = db.session.scalars(select(Payment).where(Payment.household_id == home.id)).one()
    assert (payment.amount_fen, payment.method, payment.paid_on) == (12_000, "wechat", on)
    assert payment.receipt_no
    decision = db.session.scalars(select(ReconDecision)).one()
    assert (decision.kind, decision.claim_id, decision.payment_id) == (
        "confirm",
        claim.id,
        payment.id,
    )

    # Her page now shows the transfer checked, with its receipt.
    resident.reload()
    claims = resident.locator("#claims")
    assert "已核对" in claims.inner_text()
    receipt = claims.locator(f"a[href$='/fees/payments/{payment.id}']")
    assert payment.receipt_no in receipt.inner_text()
    assert_accessible(resident)
    receipt.click()
    resident.wait_for_url(f"**/fees/payments/{payment.id}")
    assert "壹佰贰拾元整" in resident.locator(".receipt.copy-payer").inner_text()
    assert no_horizontal_scroll(resident)
    assert_accessible(resident)
    assert proofs.check_totals() == []
    assert not errors, errors

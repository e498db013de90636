"""The reconciliation routes' cases for ``test_audit``: every change writes its audit row."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from compound_app.extensions import db
from compound_app.reconcile.models import ReconDecision, StatementImport, TransferClaim
from compound_app.treasury.models import MoneyAccount
from tests.audits.test_audit import NOT_AUDITED, Post, case, changed, one
from tests.factories import World, days_ago, fee_objects, first_household, recon_objects

NOT_AUDITED["reconcile.import_statement"] = (
    "reads the statement and previews it; writes nothing (reconcile.import_confirm imports "
    "it, audited)"
)


def _objects(w: World) -> dict[str, int]:
    ids = fee_objects(w.branch, w.users["rep"], w.users["committee"])
    return {**ids, **recon_objects(w.branch, w.users["committee"])}


def _upload(client: Any, account_id: int, text: str) -> str:
    response = client.post(
        f"/reconcile/accounts/{account_id}/import",
        data={"file": (io.BytesIO(text.encode()), "对账单.csv")},
        content_type="multipart/form-data",
    )
    return str(response.get_data(as_text=True))


@case("reconcile.import_confirm", "committee")
def _import(w: World, client: Any) -> Post:
    ids = _objects(w)
    page = _upload(
        client,
        ids["account_id"],
        "交易日期,收入金额,支出金额,对方户名,附言,流水号\n"
        f"{days_ago(1).isoformat()},88.00,,张三,1-1-101,AUDIT-1\n",
    )
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="token"', page
    )
    assert token, "the preview offers no confirmation"
    return Post(
        f"/reconcile/accounts/{ids['account_id']}/import/confirm",
        {"token": token[1]},
        lambda: [
            changed(
                one(select(StatementImport).order_by(StatementImport.id.desc()).limit(1)),
                "create",
                lines_added=1,
            )
        ],
    )


@case("reconcile.save_mapping", "committee")
def _mapping(w: World, client: Any) -> Post:
    ids = _objects(w)
    page = _upload(client, ids["account_id"], "日子,钱数,付款人\n2026-06-07,45.00,张三\n")
    headers = re.search(r'name="headers"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="headers"', page
    )
    assert headers, "no mapping form"
    fields = ["money_in", "money_out", "note", "reference", "currency"]
    return Post(
        f"/reconcile/accounts/{ids['account_id']}/mapping",
        {
            "headers": headers[1],
            "date": "日子",
            "amount": "钱数",
            "counterparty": "付款人",
            **dict.fromkeys(fields, ""),
        },
        lambda: [changed(db.session.get(MoneyAccount, ids["account_id"]), "statement_columns")],
    )


def _decision(kind: str) -> Any:
    return lambda: [
        changed(
            one(
                select(ReconDecision)
                .where(ReconDecision.kind == kind)
                .order_by(ReconDecision.id.desc())
                .limit(1)
            ),
            "create",
            kind=kind,
        )
    ]


@case("reconcile.confirm", "committee")
def _confirm(w: World, client: Any) -> Post:
    ids = _objects(w)
    return Post(
        f"/reconcile/lines/{ids['line_id']}/confirm",
        {"target": f"payment:{ids['bank_payment_id']}"},
        _decision("confirm"),
    )


@case("reconcile.reject", "committee")
def _reject(w: World, client: Any) -> Post:
    ids = _objects(w)
    return Post(
        f"/reconcile/lines/{ids['line_id']}/reject",
        {"target": f"payment:{ids['bank_payment_id']}"},
        _decision("reject"),
    )


@case("reconcile.explain", "committee")
def _explain(w: World, client: Any) -> Post:
    ids = _objects(w)
    return Post(
        f"/reconcile/lines/{ids['line_id']}/explain",
        {"explanation": "other", "reason": "退回的押金"},
        _decision("explain"),
    )


@case("reconcile.undo", "committee")
def _undo(w: World, client: Any) -> Post:
    ids = _objects(w)
    return Post(
        f"/reconcile/decisions/{ids['decision_id']}/undo", {"reason": "选错了"}, _decision("undo")
    )


@case("reconcile.claim", "resident")
def _claim(w: World, client: Any) -> Post:
    _objects(w)
    home = first_household(w.branch)
    return Post(
        f"/reconcile/households/{home.id}/claim",
        {
            "amount": "66",
            "paid_on": days_ago(1).isoformat(),
            "method": "wechat",
            "note": "微信转的",
            "key": "audit-case-claim-key-000001",
        },
        lambda: [
            changed(
                one(
                    select(TransferClaim).where(
                        TransferClaim.request_key == "audit-case-claim-key-000001"
                    )
                ),
                "create",
                amount_fen=6600,
            )
        ],
    )


@case("reconcile.reject_claim", "committee")
def _reject_claim(w: World, client: Any) -> Post:
    ids = _objects(w)
    return Post(
        f"/reconcile/claims/{ids['claim_id']}/reject",
        {"reason": "账上没有"},
        _decision("reject_claim"),
    )

"""The archive routes' cases for ``test_audit``: documents, versions, withdrawals and the
tenants setting each write their audit row."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.archive.models import Document, DocumentVersion
from compound_app.archive.pdf import simple_pdf
from tests.audits.test_audit import Post, case, changed, is_set, one
from tests.factories import World, archive_objects


class Pdf(io.BytesIO):
    """A PDF the test client may send again: closing it only rewinds it."""

    def __init__(self, name: str = "规约.pdf") -> None:
        super().__init__(simple_pdf("管理规约", ["第一条"]))
        self.name = name

    def close(self) -> None:
        self.seek(0)


@case("archive.new", "committee")
def _new(w: World, client: Any) -> Post:
    return Post(
        f"/archive/areas/{w.branch.area_id}/new",
        {
            "kind": "contract",
            "title": "保洁服务合同",
            "dated": clock.today().isoformat(),
            "counterparty": "洁美保洁公司",
            "amount": "12000",
            "key": "audit-case-document-key-0001",
            "file": Pdf(),
        },
        lambda: [
            changed(one(select(Document)), "create", kind="contract", amount_fen=1_200_000),
            changed(one(select(DocumentVersion)), "upload_version", number=1),
        ],
    )


@case("archive.new_version", "committee")
def _new_version(w: World, client: Any) -> Post:
    ids = archive_objects(w.branch, w.users["committee"])
    return Post(
        f"/archive/documents/{ids['document_id']}/versions",
        {"note": "修订", "key": "audit-case-version-key-00001", "file": Pdf("v2.pdf")},
        lambda: [
            changed(
                one(select(DocumentVersion).where(DocumentVersion.number == 2)),
                "upload_version",
                note="修订",
            )
        ],
    )


@case("archive.withdraw", "committee")
def _withdraw(w: World, client: Any) -> Post:
    ids = archive_objects(w.branch, w.users["committee"])
    return Post(
        f"/archive/documents/{ids['document_id']}/withdraw",
        {"reason": "已取代"},
        lambda: [
            changed(
                one(select(Document)),
                "withdraw_document",
                withdraw_reason="已取代",
                withdrawn_at=is_set,
            )
        ],
    )


@case("archive.tenants", "committee")
def _tenants(w: World, client: Any) -> Post:
    return Post(
        f"/archive/areas/{w.branch.area_id}/tenants",
        {"open_to_tenants": "yes"},
        lambda: [changed(w.branch.area, "archive_tenants", open_to_tenants=True)],
    )

"""An area's archive: documents, their versions, and whether tenants see it.

A document is never deleted: a new version is a new row (the old ones keep their upload
dates and uploaders), and a document taken out of the archive is withdrawn with a reason
and stays on record for the committee and staff.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import ManagementArea, _in


class DocKind(StrEnum):
    """The kinds of the archive, in the order the archive page shows them."""

    COVENANT = "covenant"  # 管理规约
    RULES = "rules"  # 议事规则
    PLAN = "plan"  # 一小区一方案, the pilot plan
    CONTRACT = "contract"  # 合同: service and income contracts
    MINUTES = "minutes"  # 会议纪要
    VOTE_RESULT = "vote_result"  # 表决结果
    NOTICE = "notice"  # 公告
    OTHER = "other"  # 其他


class FileKind(StrEnum):
    PHOTO = "photo"  # re-encoded JPEG (uploads.save_photo)
    PDF = "pdf"  # checked by its first bytes, stored under a random name


class Document(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    dated: Mapped[date]  # the document's own date (signed, adopted, held)
    # Contracts: the other party and the amount, as the contract states them.
    counterparty: Mapped[str] = mapped_column(String(100), default="")
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="")

    area: Mapped[ManagementArea] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.number.desc()"
    )

    __table_args__ = (
        CheckConstraint(_in("kind", DocKind), name="kind"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount"),
        CheckConstraint(
            "withdrawn_at IS NULL OR (withdrawn_by_id IS NOT NULL AND withdraw_reason <> '')",
            name="withdrawal",
        ),
    )

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def current(self) -> DocumentVersion | None:
        return self.versions[0] if self.versions else None


class DocumentVersion(Model):
    """One uploaded file of a document. Written once: a correction is a new version."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    number: Mapped[int]
    file_kind: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(60))  # stored name (random)
    size_bytes: Mapped[int]
    note: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        CheckConstraint(_in("file_kind", FileKind), name="file_kind"),
        CheckConstraint("number >= 1", name="number"),
    )


class ArchiveSettings(Model):
    """Whether the area opens its itemised accounts and archive to tenants
    (向租户公开收支与档案); off until the committee switches it on."""

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    open_to_tenants: Mapped[bool] = mapped_column(default=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ArchiveChangeRefused(RuntimeError):
    """A document version was about to be changed or deleted."""


append_only(DocumentVersion, error=ArchiveChangeRefused)

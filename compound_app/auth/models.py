"""Accounts, login sessions, scoped role grants and one-time invite codes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..dbtypes import UTCDateTime
from ..extensions import Model


class Role(StrEnum):
    SUBDISTRICT_ADMIN = "subdistrict_admin"
    COMMUNITY_STAFF = "community_staff"
    COMMITTEE_MEMBER = "committee_member"
    UNIT_REP = "unit_rep"
    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"  # 网格员, on a grid of a community (problems.models.Grid)


# The scope column each role is granted on.
ROLE_SCOPE = {
    Role.SUBDISTRICT_ADMIN: "subdistrict_id",
    Role.COMMUNITY_STAFF: "community_id",
    Role.COMMITTEE_MEMBER: "area_id",
    Role.UNIT_REP: "unit_id",
    Role.RESIDENT: "household_id",
    Role.GRID_WORKER: "grid_id",
}
SCOPE_COLUMNS = tuple(ROLE_SCOPE.values())


class User(UserMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    # None until the person sets a password with an invite code.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the person first signed in with a code sent to their mobile: such an
    # account works without a password (one can be set later on the account page).
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Large text (适老化): bigger letters, stronger contrast and bigger buttons on every page.
    large_text: Mapped[bool] = mapped_column(default=False, server_default=false())

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", foreign_keys="RoleGrant.user_id", order_by="RoleGrant.id"
    )

    # Set by the user loader to the login session this request runs under.
    session_token = None  # type: str | None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_enabled and (self.password_hash is not None or self.activated_at is not None)

    def get_id(self) -> str | None:  # Flask-Login stores this in the cookie
        return self.session_token


class UserSession(Model):
    """A server-side login session, so logout and password changes can really end one."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Refreshed every few minutes of use; a session idle for too long ends.
    last_seen_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=clock.now, server_default=text("CURRENT_TIMESTAMP")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # "Remember this phone" (residents only): lasts REMEMBER_LIFETIME with no idle timeout.
    remembered: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship()


class RoleGrant(Model):
    """A role on one scope object; the only source of what a user may reach."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    subdistrict_id: Mapped[int | None] = mapped_column(ForeignKey("subdistrict.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("management_area.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint(
            " OR ".join(
                f"(role = '{role.value}' AND {col} IS NOT NULL AND "
                + " AND ".join(f"{other} IS NULL" for other in SCOPE_COLUMNS if other != col)
                + ")"
                for role, col in ROLE_SCOPE.items()
            ),
            name="role_scope",
        ),
        # One representative per stairwell.
        Index(
            "uq_role_grant_unit_rep",
            "unit_id",
            unique=True,
            sqlite_where=text("role = 'unit_rep'"),
            postgresql_where=text("role = 'unit_rep'"),
        ),
        # A role is granted at most once per user and scope object.
        *(
            Index(
                f"uq_role_grant_{role.value}",
                "user_id",
                col,
                unique=True,
                sqlite_where=text(f"role = '{role.value}'"),
                postgresql_where=text(f"role = '{role.value}'"),
            )
            for role, col in ROLE_SCOPE.items()
            if role is not Role.UNIT_REP  # covered by the one-per-unit index above
        ),
    )

    @property
    def scope_id(self) -> int:
        return getattr(self, ROLE_SCOPE[Role(self.role)])


class InviteCode(Model):
    """A printable one-time code with which a resident (or a new account) sets a password."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (
        CheckConstraint("(household_id IS NULL) <> (user_id IS NULL)", name="household_or_user"),
    )


class LoginAttempt(Model):
    """Failed logins, kept in the database so every worker process sees the same count."""

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(20), index=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)


class LoginCode(Model):
    """One request for a six-digit sign-in code, sent by SMS through the outbox.

    Every request is kept, whether or not an SMS went out, so that the limits per number
    and per address count the same way for any number, and the answers are the same
    whether or not a number is known here. Only an HMAC of the code (keyed with the
    app's secret) is stored; ``code_hash`` is None where nothing was sent.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11))
    ip: Mapped[str] = mapped_column(String(45))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("tries >= 0", name="tries"),
        Index("ix_login_code_mobile_created", "mobile", "created_at"),
        Index("ix_login_code_ip_created", "ip", "created_at"),
    )

"""Where things are in the demo data, by the names a persona reads on the screen.

The walk clicks links by their address (``a[href='/fees/units/774']``): the words on the
buttons may change, the pages they open do not. These look-ups turn the names of the
story (新国土小区, 1号楼, 1单元, 102) into the ids in those addresses, and read back what
the server wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from compound_app.auth.models import User
from compound_app.extensions import db
from compound_app.notices.models import Notice
from compound_app.registry.models import (
    Building,
    Compound,
    Household,
    ManagementArea,
    Pilot,
    Unit,
)
from compound_app.votes.models import Vote


def fresh() -> None:
    """End the test's read snapshot, to see what the server has written since."""
    db.session.rollback()


def one(stmt: Any) -> Any:
    found = db.session.scalars(stmt).one_or_none()
    assert found is not None, f"the demo has no {stmt}"
    return found


def compound(name: str) -> Compound:
    return one(select(Compound).where(Compound.name == name))


def area(name: str) -> ManagementArea:
    return one(select(ManagementArea).where(ManagementArea.name == name))


def unit(compound_name: str, building: str, unit_name: str) -> Unit:
    return one(
        select(Unit)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(Compound.name == compound_name, Building.name == building, Unit.name == unit_name)
    )


def home(compound_name: str, building: str, unit_name: str, room: str) -> Household:
    return one(
        select(Household).where(
            Household.unit_id == unit(compound_name, building, unit_name).id,
            Household.room == room,
        )
    )


def user(mobile: str) -> User:
    return one(select(User).where(User.mobile == mobile))


def notice(title: str) -> Notice:
    return one(select(Notice).where(Notice.title == title))


def vote(title: str) -> Vote:
    return one(select(Vote).where(Vote.title == title))


def pilot(compound_name: str) -> Pilot:
    return one(select(Pilot).join(Compound).where(Compound.name == compound_name))


def count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def yuan(fen: int) -> str:
    """Money as the pages write it: ¥1,234.56."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def plain(fen: int) -> str:
    """Money as a person types it into a field: 1234.56."""
    return f"{fen // 100}.{fen % 100:02d}"


def first(stmt: Any) -> Any:
    """The first row the statement finds, or None."""
    return db.session.scalars(stmt.limit(1)).first()


def top_id(model: Any) -> int:
    """The highest id so far: what the walk writes afterwards has a higher one."""
    return int(db.session.scalar(select(func.max(model.id))) or 0)

"""Counting owners' votes the way Civil Code art. 278 does, in exact fractions.

Participation: owners holding at least two thirds of the exclusive area AND at least two
thirds of the owners by headcount took part. Approval: more than half of the
participating area AND more than half of the participating owners voted yes — or, for
raising the maintenance fund, rebuilding, and changing the use of common parts, at
least three quarters of both. An abstention is participation, never consent; an owner
who did not vote is neither — unless the area's 议事规则 says that owners who did not vote
are counted with the majority of those who voted (未参与表决的业主计入已表决的多数票), and
then only those who were told of the vote: each is counted, by area and by head, with the
choice that holds more than half of the votes cast on that measure (none, where no choice
does).

``outcome`` says whether the result can still change while electors have not voted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

PARTICIPATION = Fraction(2, 3)
MAJORITY = Fraction(1, 2)
SPECIAL_MAJORITY = Fraction(3, 4)


@dataclass(frozen=True)
class Cast:
    """One elector's counted choice: their exclusive area and what they chose (or None)."""

    area_dm2: int
    choice: str | None  # "yes", "no", "abstain", or None for not voted
    notified: bool = False  # told of the vote: the non-voters rule counts only them


# The 议事规则 options the tally knows (``AssemblyRules`` columns of the same name).
NON_VOTERS = "non_voters_follow_majority"


@dataclass
class Tally:
    total_area: int = 0
    total_heads: int = 0
    area: dict[str, int] = field(default_factory=lambda: {"yes": 0, "no": 0, "abstain": 0})
    heads: dict[str, int] = field(default_factory=lambda: {"yes": 0, "no": 0, "abstain": 0})
    special: bool = False
    rules: tuple[str, ...] = ()  # the 议事规则 options that applied
    # Area and owners counted with the majority by the non-voters rule, per choice.
    joined_area: dict[str, int] = field(default_factory=dict)
    joined_heads: dict[str, int] = field(default_factory=dict)

    @property
    def voted_area(self) -> int:
        return sum(self.area.values())

    @property
    def voted_heads(self) -> int:
        return sum(self.heads.values())

    # --- the four shares the law looks at ---

    @property
    def participation_area(self) -> Fraction:
        return Fraction(self.voted_area, self.total_area) if self.total_area else Fraction(0)

    @property
    def participation_heads(self) -> Fraction:
        return Fraction(self.voted_heads, self.total_heads) if self.total_heads else Fraction(0)

    @property
    def approval_area(self) -> Fraction:
        return Fraction(self.area["yes"], self.voted_area) if self.voted_area else Fraction(0)

    @property
    def approval_heads(self) -> Fraction:
        return Fraction(self.heads["yes"], self.voted_heads) if self.voted_heads else Fraction(0)

    @property
    def needed(self) -> Fraction:
        return SPECIAL_MAJORITY if self.special else MAJORITY

    @property
    def participation_met(self) -> bool:
        return (
            self.total_heads > 0
            and self.participation_area >= PARTICIPATION
            and self.participation_heads >= PARTICIPATION
        )

    def approves(self, share: Fraction) -> bool:
        """Whether a yes share of the participants is enough for this matter."""
        return share >= SPECIAL_MAJORITY if self.special else share > MAJORITY

    @property
    def approval_met(self) -> bool:
        return (
            self.voted_heads > 0
            and self.approves(self.approval_area)
            and self.approves(self.approval_heads)
        )

    @property
    def passed(self) -> bool:
        return self.participation_met and self.approval_met

    def as_record(self) -> dict[str, object]:
        """The counts as they are frozen at closing (fractions written exactly)."""
        return {
            "total_area_dm2": self.total_area,
            "total_heads": self.total_heads,
            "area_dm2": dict(self.area),
            "heads": dict(self.heads),
            "special": self.special,
            "participation_area": str(self.participation_area),
            "participation_heads": str(self.participation_heads),
            "approval_area": str(self.approval_area),
            "approval_heads": str(self.approval_heads),
            "participation_met": self.participation_met,
            "approval_met": self.approval_met,
            "passed": self.passed,
            "rules": list(self.rules),
            "joined_area_dm2": dict(self.joined_area),
            "joined_heads": dict(self.joined_heads),
        }


def from_record(record: dict[str, Any]) -> Tally:
    """The count a closed vote froze (``as_record``), as it was."""
    return Tally(
        total_area=int(record["total_area_dm2"]),
        total_heads=int(record["total_heads"]),
        area=dict(record["area_dm2"]),
        heads=dict(record["heads"]),
        special=bool(record["special"]),
        rules=tuple(record.get("rules", ())),
        joined_area=dict(record.get("joined_area_dm2", {})),
        joined_heads=dict(record.get("joined_heads", {})),
    )


def _majority(votes: dict[str, int]) -> str | None:
    """The choice holding more than half of the votes cast, if one does."""
    cast = sum(votes.values())
    return next((choice for choice, n in votes.items() if 2 * n > cast), None)


def count(casts: list[Cast], special: bool, non_voters_follow_majority: bool = False) -> Tally:
    tally = Tally(special=special, rules=(NON_VOTERS,) if non_voters_follow_majority else ())
    for cast in casts:
        tally.total_area += cast.area_dm2
        tally.total_heads += 1
        if cast.choice is not None:
            tally.area[cast.choice] += cast.area_dm2
            tally.heads[cast.choice] += 1
    if non_voters_follow_majority:
        by_area, by_heads = _majority(tally.area), _majority(tally.heads)
        told = [c for c in casts if c.choice is None and c.notified]
        if by_area is not None and told:
            tally.joined_area[by_area] = sum(c.area_dm2 for c in told)
            tally.area[by_area] += tally.joined_area[by_area]
        if by_heads is not None and told:
            tally.joined_heads[by_heads] = len(told)
            tally.heads[by_heads] += len(told)
    return tally


def outcome(casts: list[Cast], special: bool) -> bool | None:
    """The result that is certain whatever the electors who have not voted do (passed or
    not), or None while they can still change it.

    Passing grows with every yes: a yes raises participation and the yes share alike, so
    the vote can pass at all only if it passes with every remaining elector voting yes.
    It fails somewhere only if participation fails (lowest when no one else takes part)
    or approval fails (lowest when everyone else votes no). This holds under the
    non-voters rule too: those who stay away are then counted with one choice by area
    and maybe another by head, which is among the ways each measure was checked to go,
    so an outcome called certain cannot change (one the rule would settle may be called
    open: closing it early then takes a reason).
    """
    cast = [c for c in casts if c.choice is not None]
    remaining = [c for c in casts if c.choice is None]

    def everyone(choice: str) -> Tally:
        return count(cast + [Cast(c.area_dm2, choice) for c in remaining], special)

    if not everyone("yes").passed:
        return False
    if count(casts, special).participation_met and everyone("no").approval_met:
        return True
    return None


def percent(share: Fraction) -> float:
    """For display only ("61.2 %"); decisions use the fractions."""
    return float(share * 100)

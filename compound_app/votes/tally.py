"""Counting owners' votes the way Civil Code art. 278 does, in exact fractions.

Participation: owners holding at least two thirds of the exclusive area AND at least two
thirds of the owners by headcount took part. Approval: more than half of the
participating area AND more than half of the participating owners voted yes — or, for
raising the maintenance fund, rebuilding, and changing the use of common parts, at
least three quarters of both. An abstention is participation, never consent; an owner
who did not vote is neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

PARTICIPATION = Fraction(2, 3)
MAJORITY = Fraction(1, 2)
SPECIAL_MAJORITY = Fraction(3, 4)


@dataclass(frozen=True)
class Cast:
    """One elector's counted choice: their exclusive area and what they chose (or None)."""

    area_dm2: int
    choice: str | None  # "yes", "no", "abstain", or None for not voted


@dataclass
class Tally:
    total_area: int = 0
    total_heads: int = 0
    area: dict[str, int] = field(default_factory=lambda: {"yes": 0, "no": 0, "abstain": 0})
    heads: dict[str, int] = field(default_factory=lambda: {"yes": 0, "no": 0, "abstain": 0})
    special: bool = False

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
        }


def count(casts: list[Cast], special: bool) -> Tally:
    tally = Tally(special=special)
    for cast in casts:
        tally.total_area += cast.area_dm2
        tally.total_heads += 1
        if cast.choice is not None:
            tally.area[cast.choice] += cast.area_dm2
            tally.heads[cast.choice] += 1
    return tally


def percent(share: Fraction) -> float:
    """For display only ("61.2 %"); decisions use the fractions."""
    return float(share * 100)

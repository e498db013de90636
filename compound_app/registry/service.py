"""Rules of the organisation tree and of the three management models."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..auth.models import Role, RoleGrant, User
from ..errors import RuleError
from ..extensions import db
from ..templating import fmt_date
from .models import (
    Community,
    Compound,
    ManagementArea,
    ManagementModel,
    ModelChange,
    PartyOrganisation,
    PartyOrgKind,
    Subdistrict,
)
from .roster import Coverage

# A contiguous area groups 3–5 compounds; 2 or 6 are allowed with a warning.
CONTIGUOUS_GOOD = range(3, 6)
CONTIGUOUS_ALLOWED = range(2, 7)


# --- communities, compounds and areas ---------------------------------------------------


def next_area_code(community: Community) -> str:
    taken = set(
        db.session.scalars(
            select(ManagementArea.code).where(ManagementArea.community_id == community.id)
        )
    )
    n = len(taken) + 1
    while f"{community.code}{n:02d}" in taken:
        n += 1
    return f"{community.code}{n:02d}"


def create_community(subdistrict: Subdistrict, name: str, code: str) -> Community:
    if db.session.scalar(
        select(Community.id).where(
            Community.subdistrict_id == subdistrict.id, Community.name == name
        )
    ):
        raise RuleError(_("A community of that name already exists."), "name")
    if db.session.scalar(select(Community.id).where(Community.code == code)):
        raise RuleError(_("This code is already used by another community."), "code")
    community = Community(subdistrict_id=subdistrict.id, name=name, code=code)
    db.session.add(community)
    audit.record("create", community)
    return community


def create_compound(community: Community, name: str, address: str = "") -> Compound:
    if db.session.scalar(
        select(Compound.id).where(Compound.community_id == community.id, Compound.name == name)
    ):
        raise RuleError(_("This community already has a compound of that name."), "name")
    area = ManagementArea(community_id=community.id, name=name, code=next_area_code(community))
    db.session.add(area)
    db.session.flush()
    audit.record("create", area)
    compound = Compound(
        community_id=community.id,
        area_id=area.id,
        name=name,
        address=address,
        model=ManagementModel.UNMANAGED,
    )
    db.session.add(compound)
    audit.record("create", compound)
    return compound


def area_size_warning(area: ManagementArea, size: int | None = None) -> str | None:
    size = len(area.compounds) if size is None else size
    if not any(c.model == ManagementModel.CONTIGUOUS for c in area.compounds):
        return None
    if size in CONTIGUOUS_GOOD:
        return None
    return _("A contiguous area normally groups 3 to 5 compounds; this one has %(n)d.", n=size)


def _record_model(
    compound: Compound, to_model: ManagementModel, effective_on: date, reason: str
) -> None:
    if compound.model == to_model:
        return
    before = audit.snapshot(compound)
    db.session.add(
        ModelChange(
            compound_id=compound.id,
            from_model=compound.model,
            to_model=to_model,
            effective_on=effective_on,
            reason=reason,
            changed_by_id=_actor_id(),
        )
    )
    compound.model = to_model
    compound.model_since = effective_on
    audit.record("model_change", compound, before)


def change_model(
    compound: Compound, to_model: ManagementModel, effective_on: date, reason: str
) -> None:
    """Change a compound's model, dated; contiguity is set up through areas instead."""
    if to_model == compound.model:
        raise RuleError(_("The compound already uses this model."), "model")
    if to_model == ManagementModel.CONTIGUOUS:
        raise RuleError(
            _("To manage compounds contiguously, group them into one area on the community page."),
            "model",
        )
    if compound.model == ManagementModel.CONTIGUOUS and len(compound.area.compounds) > 1:
        raise RuleError(
            _("Take the compound out of its contiguous area first (on the area page)."), "model"
        )
    last = db.session.scalar(
        select(func.max(ModelChange.effective_on)).where(ModelChange.compound_id == compound.id)
    )
    if last is not None and effective_on < last:
        raise RuleError(
            _("The date cannot be before the last change (%(d)s).", d=fmt_date(last)),
            "effective_on",
        )
    _record_model(compound, to_model, effective_on, reason)


def eligible_for_area(community: Community) -> list[Compound]:
    """Compounds of the community that are not yet part of a multi-compound area."""
    alone = (
        select(Compound.area_id)
        .where(Compound.community_id == community.id)
        .group_by(Compound.area_id)
        .having(func.count(Compound.id) == 1)
    )
    return list(
        db.session.scalars(
            select(Compound)
            .where(Compound.community_id == community.id, Compound.area_id.in_(alone))
            .order_by(Compound.name)
        )
    )


def form_contiguous_area(
    community: Community, compounds: list[Compound], name: str, effective_on: date
) -> ManagementArea:
    if len(compounds) not in CONTIGUOUS_ALLOWED:
        raise RuleError(
            _("Choose between 2 and 6 compounds (3 to 5 is the usual size)."), "compounds"
        )
    for compound in compounds:
        if compound.community_id != community.id:
            raise RuleError(_("All compounds must belong to this community."), "compounds")
        if len(compound.area.compounds) > 1:
            raise RuleError(
                _("%(name)s already belongs to a contiguous area.", name=compound.name),
                "compounds",
            )
    area = ManagementArea(community_id=community.id, name=name, code=next_area_code(community))
    db.session.add(area)
    db.session.flush()
    audit.record("create", area)
    for compound in compounds:
        _move(compound, area)
        _record_model(compound, ManagementModel.CONTIGUOUS, effective_on, name)
    return area


def add_to_area(area: ManagementArea, compound: Compound, effective_on: date) -> None:
    if compound.community_id != area.community_id:
        raise RuleError(_("The compound belongs to another community."), "compound")
    if compound.area_id == area.id or len(compound.area.compounds) > 1:
        raise RuleError(
            _("%(name)s already belongs to a contiguous area.", name=compound.name), "compound"
        )
    if len(area.compounds) + 1 not in CONTIGUOUS_ALLOWED:
        raise RuleError(_("A contiguous area can have at most 6 compounds."), "compound")
    _move(compound, area)
    _record_model(compound, ManagementModel.CONTIGUOUS, effective_on, area.name)


def remove_from_area(compound: Compound, effective_on: date) -> ManagementArea:
    """The compound leaves its contiguous area for an area of its own, unmanaged again."""
    area = compound.area
    if len(area.compounds) <= 2:
        raise RuleError(
            _("A contiguous area needs at least 2 compounds; this one would keep only one.")
        )
    community = compound.community
    own = ManagementArea(
        community_id=community.id, name=compound.name, code=next_area_code(community)
    )
    db.session.add(own)
    db.session.flush()
    audit.record("create", own)
    _move(compound, own)
    _record_model(compound, ManagementModel.UNMANAGED, effective_on, area.name)
    return own


def _move(compound: Compound, area: ManagementArea) -> None:
    from ..fees.ledger import has_fee_records

    if has_fee_records(compound):
        # Its bills, payments and receipts belong to the area that issued them.
        raise RuleError(
            _(
                "%(name)s already has fee records in its management area, so it cannot move "
                "to another area.",
                name=compound.name,
            ),
            "compound",
        )
    before = audit.snapshot(compound)
    compound.area = area  # the back-reference also takes it out of the old area's list
    audit.record("move_area", compound, before)


def set_party_organisation(
    compound: Compound,
    kind: PartyOrgKind,
    name: str,
    secretary_name: str,
    member_count: int,
    founded_on: date | None,
) -> PartyOrganisation:
    org = compound.party_organisation
    before = audit.snapshot(org) if org else None
    if org is None:
        org = PartyOrganisation(compound_id=compound.id)
        db.session.add(org)
        compound.party_organisation = org
    org.kind, org.name, org.secretary_name = kind, name, secretary_name
    org.member_count, org.founded_on = member_count, founded_on
    audit.record("update" if before else "create", org, before)
    return org


# --- the compound page ----------------------------------------------------------------------


def model_checks(compound: Compound, coverage: Coverage, community_staff: list[User]) -> list[str]:
    """What the compound's model expects but the records do not yet show."""
    problems: list[str] = []
    org = compound.party_organisation
    match compound.model:
        case ManagementModel.CONTIGUOUS:
            warning = area_size_warning(compound.area)
            if warning:
                problems.append(warning)
        case ManagementModel.PARTY_BRANCH:
            if org is None or org.kind != PartyOrgKind.BRANCH:
                problems.append(_("A branch-managed compound needs its party branch recorded."))
            if not coverage.complete:
                problems.append(
                    _(
                        "Every unit should have a representative: %(c)d of %(t)d have one.",
                        c=coverage.covered,
                        t=coverage.total,
                    )
                )
        case ManagementModel.TRUSTEESHIP:
            if org is None or org.kind != PartyOrgKind.GROUP:
                problems.append(_("A trusteeship compound needs its party group recorded."))
            if not community_staff:
                problems.append(_("The community has no staff account to manage this compound."))
    return problems


def community_staff(community_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.COMMUNITY_STAFF, RoleGrant.community_id == community_id)
            .order_by(User.name)
        )
    )


def _actor_id() -> int | None:
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None

"""A management area's property committee (物管会): its members, positions and terms."""

from __future__ import annotations

from datetime import date

from flask import flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..forms import form_status, submit
from ..htmx import redirect_after_post, render
from ..registry.models import ManagementArea, Subdistrict
from ..templating import fmt_date
from . import bp, service
from .forms import ChairForm, CommitteeForm, EndTermForm, MemberForm, MemberTermsForm, RulesForm
from .models import Background, ChairAppointment, Committee, CommitteeMember, MemberKind, Position


def _findings(area: ManagementArea, committee: Committee | None) -> list[service.Finding]:
    """The make-up's findings, for the committee and staff only (residents see none)."""
    if committee is None or not access.can(Action.REVIEW_MAKEUP, area):
        return []
    rules = service.rules_for(area.community.subdistrict_id)
    return service.makeup_findings(committee, rules)


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id)
    committee = service.committee_for_area(area.id)
    form = CommitteeForm(formdata=None, name=_("%(area)s property committee", area=area.name))
    form.formed_on.data = clock.today()
    return render(
        "committees/area.html",
        area=area,
        committee=committee,
        form=form,
        is_current=service.is_current,
        show_contacts=access.can(Action.VIEW_ROSTER, area),
        findings=_findings(area, committee),
    )


@bp.post("/areas/<int:area_id>")
def create(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE)
    form = CommitteeForm()
    done = submit(form, lambda: service.create_committee(area, form.name.data, form.formed_on.data))
    if done.ok:
        flash(_("Committee created. Now add its members."), "success")
        return redirect_after_post(url_for(".area", area_id=area.id))
    return render(
        "committees/area.html",
        area=area,
        committee=service.committee_for_area(area.id),
        form=form,
        is_current=service.is_current,
        show_contacts=True,
        findings=[],
        status=form_status(form),
    )


@bp.route("/areas/<int:area_id>/members/new", methods=["GET", "POST"])
def new_member(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE)
    committee = service.committee_for_area(area.id)
    if committee is None:
        flash(_("Create the committee first."), "info")
        return redirect_after_post(url_for(".area", area_id=area.id))
    form = MemberForm()
    if request.method == "GET":
        form.term_start.data = clock.today()
        form.term_end.data = date(clock.today().year + 3, clock.today().month, 1)
        form.position.data = Position.MEMBER
        form.kind.data = MemberKind.OWNER
    done = submit(
        form,
        lambda: service.add_member(
            committee,
            name=form.name.data,
            mobile=form.mobile.data,
            position=Position(form.position.data),
            background=Background(form.background.data),
            term_start=form.term_start.data,
            term_end=form.term_end.data,
            actor=viewkit.user(),
            kind=MemberKind(form.kind.data),
        ),
    )
    if done.ok:
        flash(_("%(name)s joined the committee.", name=form.name.data), "success")
        return redirect_after_post(url_for(".area", area_id=area.id))
    return render(
        "committees/member_form.html", area=area, form=form, member=None, status=form_status(form)
    )


def _member(member_id: int) -> CommitteeMember:
    return access.get_or_404(CommitteeMember, member_id, Action.MANAGE)


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
def edit_member(member_id: int) -> Response:
    member = _member(member_id)
    area = member.committee.area
    form = MemberTermsForm(obj=member)
    done = submit(
        form,
        lambda: service.update_member(
            member,
            position=Position(form.position.data),
            background=Background(form.background.data),
            term_start=form.term_start.data,
            term_end=form.term_end.data,
            kind=MemberKind(form.kind.data),
        ),
    )
    if done.ok:
        flash(_("%(name)s saved.", name=member.user.name), "success")
        return redirect_after_post(url_for(".area", area_id=area.id))
    return render(
        "committees/member_form.html",
        area=area,
        form=form,
        member=member,
        end_form=EndTermForm(formdata=None, ended_on=clock.today()),
        status=form_status(form),
    )


@bp.post("/members/<int:member_id>/end")
def end_member(member_id: int) -> Response:
    member = _member(member_id)
    area = member.committee.area
    end_form = EndTermForm()
    done = submit(end_form, lambda: service.end_membership(member, end_form.ended_on.data))
    if done.ok:
        flash(
            _(
                "%(name)s's seat ends on %(date)s.",
                name=member.user.name,
                date=fmt_date(member.term_end),
            ),
            "success",
        )
        return redirect_after_post(url_for(".area", area_id=area.id))
    # The member's page again, the date kept and the reason next to it.
    return render(
        "committees/member_form.html",
        area=area,
        form=MemberTermsForm(formdata=None, obj=member),
        member=member,
        end_form=end_form,
        status=422,
    )


@bp.post("/members/<int:member_id>/remove")
def remove_member(member_id: int) -> Response:
    member = _member(member_id)
    area, name = member.committee.area, member.user.name
    try:
        service.remove_member(member)
        db.session.commit()
    except RuleError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect_after_post(url_for(".edit_member", member_id=member_id))
    flash(_("%(name)s was removed from the committee.", name=name), "success")
    return redirect_after_post(url_for(".area", area_id=area.id))


@bp.route("/areas/<int:area_id>/chair", methods=["GET", "POST"])
def chair(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE)
    committee = service.committee_for_area(area.id)
    if committee is None:
        flash(_("Create the committee first."), "info")
        return redirect_after_post(url_for(".area", area_id=area.id))
    form = ChairForm(obj=committee)
    if request.method == "GET" and not committee.chair_appointed:
        form.chair_appointed.data = ChairAppointment.NAMED
    done = submit(
        form,
        lambda: service.record_chair_appointment(
            committee,
            ChairAppointment(form.chair_appointed.data),
            form.chair_appointed_by.data,
            form.chair_appointed_on.data,
        ),
    )
    if done.ok:
        flash(_("How the chair was appointed is recorded."), "success")
        return redirect_after_post(url_for(".area", area_id=area.id))
    return render(
        "committees/chair.html",
        area=area,
        committee=committee,
        form=form,
        status=form_status(form),
    )


@bp.route("/rules/<int:subdistrict_id>", methods=["GET", "POST"])
def rules(subdistrict_id: int) -> Response:
    subdistrict = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    current = service.rules_for(subdistrict.id)
    form = RulesForm(obj=current)
    done = submit(
        form,
        lambda: service.save_rules(
            subdistrict.id,
            min_members=form.min_members.data,
            max_members=form.max_members.data,
            odd_members=bool(form.odd_members.data),
            owners_rule=bool(form.owners_rule.data),
            owners_pct=form.owners_pct.data,
            chair_appointment=ChairAppointment(form.chair_appointment.data),
            max_term_years=form.max_term_years.data,
        ),
    )
    if done.ok:
        flash(_("Saved. Committee pages now check these rules."), "success")
        return redirect_after_post(url_for(".rules", subdistrict_id=subdistrict.id))
    return render(
        "committees/rules.html",
        subdistrict=subdistrict,
        form=form,
        status=form_status(form),
    )

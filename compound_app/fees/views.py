"""The fee pages of a management area: its overview, and its fee schedules."""

from __future__ import annotations

from typing import Any

from flask import flash, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..archive import service as archive
from ..errors import RuleError
from ..extensions import db
from ..forms import form_status, submit
from ..htmx import redirect_after_post, render
from ..months import month_of
from ..registry.models import ManagementArea
from ..templating import fmt_date, fmt_month
from . import bp, cash, ledger, reports, schedules
from .forms import ApproveForm, ItemForm, MonthForm, TermsForm, ThresholdForm
from .models import (
    ApprovalHow,
    Basis,
    Cycle,
    FeeItem,
    FeeSchedule,
    ScheduleStatus,
    ThresholdChange,
)

# --- the area's fee overview -----------------------------------------------------------------


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id)
    manages = access.can(Action.MANAGE_FEES, area)
    context: dict[str, Any] = {
        "area": area,
        "manages": manages,
        "collects": access.collects_in(area),
        "active": schedules.active_schedule(area.id),
        "pending": schedules.pending_schedule(area.id) if manages else None,
        "months": reports.area_months(area.id, 6),
        "rate": reports.rate,
    }
    if manages:
        context["positions"] = cash.positions(area.id)
        context["bills_form"] = MonthForm(formdata=None, month=month_of(clock.today()))
        context["threshold_form"] = ThresholdForm(
            formdata=None, threshold=schedules.settings_of(area.id).approval_threshold_fen
        )
        change = schedules.pending_threshold(area.id)
        context["threshold_change"] = change
        context["threshold_needs_second"] = schedules.needs_confirmation(area.id)
        context["may_confirm_threshold"] = change is not None and schedules.may_confirm_threshold(
            change, viewkit.user(), access.can(Action.OVERSEE, area)
        )
        context["schedules"] = schedules.schedules_of(area.id)
        context["recent"] = reports.recent_payments(area.id, limit=10)
    return render("fees/area.html", **context)


@bp.post("/areas/<int:area_id>/bills")
def bills(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    form = MonthForm()
    here = url_for(".area", area_id=area.id)
    if not form.validate_on_submit():
        flash(form.month.errors[0] if form.month.errors else _("Please try again."), "error")
        return redirect_after_post(here)
    if form.month.data > month_of(clock.today()):
        flash(_("Bills are issued when their month has begun."), "error")
        return redirect_after_post(here)
    schedule = ledger.schedule_for_month(area.id, form.month.data)
    if schedule is None:
        flash(
            _("No fee schedule is in force for %(month)s.", month=fmt_month(form.month.data)),
            "error",
        )
        return redirect_after_post(here)
    period = ledger.period_start(schedule, form.month.data)
    issued = ledger.generate_bills(area.id, period)
    db.session.commit()
    if issued:
        return viewkit.done(
            _("%(n)d bills issued for %(month)s.", n=issued, month=fmt_month(period)), here
        )
    flash(_("The bills for %(month)s were already issued.", month=fmt_month(period)), "info")
    return redirect_after_post(here)


@bp.post("/areas/<int:area_id>/threshold")
def threshold(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    form = ThresholdForm()
    here = url_for(".area", area_id=area.id)
    staff = access.can(Action.OVERSEE, area)
    done = submit(
        form,
        lambda: schedules.propose_threshold(area, form.threshold.data, viewkit.user(), staff=staff),
    )
    if done.ok:
        if isinstance(done.result, ThresholdChange):
            return viewkit.done(
                _("Proposed. It takes effect when a second committee member confirms it."), here
            )
        return viewkit.done(_("Saved."), here)
    errors = form.threshold.errors or form.form_errors
    flash(errors[0] if errors else _("Please try again."), "error")
    return redirect_after_post(here)


@bp.post("/threshold-changes/<int:change_id>/confirm")
def confirm_threshold(change_id: int) -> Response:
    change = access.get_or_404(ThresholdChange, change_id, Action.MANAGE_FEES)
    staff = access.can(Action.OVERSEE, change)
    return viewkit.act(
        lambda: schedules.confirm_threshold(change, viewkit.user(), staff=staff),
        url_for(".area", area_id=change.area_id),
        _("Confirmed: the new threshold is in force."),
    )


# --- schedules --------------------------------------------------------------------------------


@bp.post("/areas/<int:area_id>/schedules")
def new_schedule(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE_FEES)
    try:
        schedule = schedules.new_draft(area, viewkit.user())
        db.session.commit()
    except RuleError as err:
        return viewkit.refused(err, url_for(".area", area_id=area.id))
    return viewkit.done(
        _("Version %(n)d drafted. Set its terms and items, then publish it.", n=schedule.version),
        url_for(".schedule", schedule_id=schedule.id),
    )


def _schedule(schedule_id: int, action: Action = Action.VIEW) -> FeeSchedule:
    schedule = access.get_or_404(FeeSchedule, schedule_id, action)
    if schedule.status == ScheduleStatus.DRAFT and not access.can(Action.MANAGE_FEES, schedule):
        access.deny()  # drafts are the committee's until published
    return schedule


def _schedule_page(schedule: FeeSchedule, status: int = 200, **forms: Any) -> Response:
    manages = access.can(Action.MANAGE_FEES, schedule)
    draft = schedule.status == ScheduleStatus.DRAFT
    context: dict[str, Any] = {
        "schedule": schedule,
        "area": schedule.area,
        "manages": manages,
        "warning": schedules.start_warning(schedule),
        "publicity_ends": schedules.publicity_ends(schedule),
        # The 公示 notice it posted, where residents comment (notices take the comments).
        "publicity_notice": archive.schedule_notice(schedule),
        "Basis": Basis,
    }
    if manages and draft:
        context["terms_form"] = forms.get("terms_form") or TermsForm(
            formdata=None,
            cycle=schedule.cycle,
            start_month=schedule.start_month,
            vacant_percent=schedule.vacant_percent,
            publicity_days=schedule.publicity_days,
        )
        context["item_form"] = forms.get("item_form") or ItemForm(
            formdata=None, basis=Basis.PER_HOUSEHOLD
        )
    if manages and draft:
        context["min_publicity_days"] = schedules.min_publicity_days(schedule.area_id)
    if manages and schedule.status == ScheduleStatus.PUBLISHED:
        context["approve_form"] = forms.get("approve_form") or ApproveForm(
            formdata=None,
            approved_on=clock.today(),
            how=ApprovalHow.OWNERS_VOTE,
            staff=access.can(Action.OVERSEE, schedule.area),
        )
        _vote_choices(context["approve_form"], schedule)
    return render("fees/schedule.html", status=status, **context)


@bp.get("/schedules/<int:schedule_id>")
def schedule(schedule_id: int) -> Response:
    return _schedule_page(_schedule(schedule_id))


@bp.post("/schedules/<int:schedule_id>/terms")
def terms(schedule_id: int) -> Response:
    schedule = _schedule(schedule_id, Action.MANAGE_FEES)
    form = TermsForm()
    done = submit(
        form,
        lambda: schedules.update_terms(
            schedule,
            cycle=Cycle(form.cycle.data),
            start_month=form.start_month.data,
            vacant_percent=form.vacant_percent.data,
            publicity_days=form.publicity_days.data,
        ),
    )
    if done.ok:
        return viewkit.done(_("Saved."), url_for(".schedule", schedule_id=schedule.id))
    return _schedule_page(schedule, form_status(form), terms_form=form)


@bp.post("/schedules/<int:schedule_id>/items")
def add_item(schedule_id: int) -> Response:
    schedule = _schedule(schedule_id, Action.MANAGE_FEES)
    form = ItemForm()
    done = submit(
        form,
        lambda: schedules.add_item(
            schedule,
            name=form.name.data,
            scope=form.scope.data,
            basis=Basis(form.basis.data),
            rate_fen=form.rate.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _("%(name)s added.", name=form.name.data),
            url_for(".schedule", schedule_id=schedule.id, _anchor="items"),
        )
    return _schedule_page(schedule, form_status(form), item_form=form)


@bp.post("/items/<int:item_id>/delete")
def delete_item(item_id: int) -> Response:
    item = access.get_or_404(FeeItem, item_id, Action.MANAGE_FEES)
    here = url_for(".schedule", schedule_id=item.schedule_id, _anchor="items")
    message = _("%(name)s removed.", name=item.name)
    return viewkit.act(lambda: schedules.remove_item(item), here, message)


@bp.post("/schedules/<int:schedule_id>/publish")
def publish(schedule_id: int) -> Response:
    schedule = _schedule(schedule_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: schedules.publish(schedule),
        url_for(".schedule", schedule_id=schedule.id),
        _("Published on the notice board for residents' comments."),
    )


@bp.post("/schedules/<int:schedule_id>/withdraw")
def withdraw(schedule_id: int) -> Response:
    schedule = _schedule(schedule_id, Action.MANAGE_FEES)
    return viewkit.act(
        lambda: schedules.withdraw(schedule),
        url_for(".schedule", schedule_id=schedule.id),
        _("Withdrawn to draft."),
    )


@bp.post("/schedules/<int:schedule_id>/approve")
def approve(schedule_id: int) -> Response:
    schedule = _schedule(schedule_id, Action.MANAGE_FEES)
    staff = access.can(Action.OVERSEE, schedule.area)
    form = ApproveForm(staff=staff)
    _vote_choices(form, schedule)
    done = submit(
        form,
        lambda: schedules.approve(
            schedule,
            how=ApprovalHow(form.how.data),
            approved_on=form.approved_on.data,
            note=form.note.data,
            actor=viewkit.user(),
            staff=staff,
            vote_id=form.vote_id.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _(
                "Version %(n)d is in force; %(bills)d bills issued.",
                n=schedule.version,
                bills=done.result or 0,
            ),
            url_for(".schedule", schedule_id=schedule.id),
        )
    return _schedule_page(schedule, form_status(form), approve_form=form)


def _vote_choices(form: ApproveForm, schedule: FeeSchedule) -> None:
    from ..votes.service import passed_votes

    form.vote_id.choices = [(None, _("None"))] + [
        (v.id, f"{v.title} ({fmt_date(v.closed_at)})")
        for v in passed_votes(schedule.area_id)
        if schedules.may_decide(schedule, v) is None
    ]

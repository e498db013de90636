"""Oversight pages for community and subdistrict staff: the dashboard, each pilot, reports."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, make_response, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..committees import service as committees
from ..errors import RuleError
from ..extensions import db
from ..fields import whole_number
from ..forms import form_status, refuse, submit
from ..htmx import redirect_after_post, render
from ..registry.models import Community, Compound, ManagementModel, Pilot, PilotStage
from . import bp, dashboard, lists, pilots
from .checklist import checklist, passes, settings_for
from .export import pilot_ledger_xlsx
from .facts import window
from .forms import (
    CertifyForm,
    MilestoneDoneForm,
    MilestoneForm,
    PlanForm,
    SelectPilotForm,
    SettingsForm,
    StageForm,
)
from .models import Milestone

# --- the dashboard ----------------------------------------------------------------------------


def _filters() -> dashboard.Filters:
    args = request.args
    sort = args.get("sort", "name")
    return dashboard.Filters(
        community=whole_number(args.get("community")),
        model=args.get("model", "") if args.get("model") in pilots.PILOT_MODELS else "",
        stage=args.get("stage", "") if args.get("stage") in set(PilotStage) else "",
        sort=sort if sort in dashboard.SORTS else "name",
        descending=args.get("dir") == "desc",
    )


def _selectable(p: access.Principal) -> list[Compound]:
    """Unmanaged compounds that are not pilots yet, for the subdistrict admin's choice."""
    if not access.can(Action.ADMINISTER, p=p):
        return []
    return list(
        db.session.scalars(
            select(Compound)
            .where(
                access.compound_filter(p),
                Compound.model == ManagementModel.UNMANAGED,
                ~Compound.pilot.has(),
            )
            .order_by(Compound.name)
        )
    )


def _dashboard_page(select_form: SelectPilotForm | None = None, status: int = 200) -> Response:
    p = access.require_staff()
    wanted = _filters()
    board = dashboard.build(wanted, p)
    selectable = _selectable(p)
    lists_scope, staff_communities = dashboard.lists_scope(p)
    if selectable and select_form is None:
        select_form = SelectPilotForm(
            formdata=None, selected_on=clock.today(), model=ManagementModel.CONTIGUOUS
        )
    return render(
        "oversight/dashboard.html",
        "oversight/_pilot_swap.html",
        target="pilot-table",
        status=status,
        # A column heading re-sorted the table: the filter form's order follows it.
        sort_oob=request.headers.get("HX-Trigger") != "pilot-filters",
        board=board,
        wanted=wanted,
        communities=sorted({r.facts.community for r in board.rows}, key=lambda c: c.name),
        stages=list(PilotStage),
        models=list(pilots.PILOT_MODELS),
        selectable=selectable,
        select_form=select_form if selectable else None,
        subdistrict_id=dashboard.subdistrict_of(p),
        lists_totals=lists.total(lists.by_community(lists_scope).values()),
        lists_communities=staff_communities,
    )


@bp.get("/")
def index() -> Response:
    return _dashboard_page()


@bp.post("/pilots")
def select_pilot() -> Response:
    access.require_admin()
    form = SelectPilotForm()
    if not form.validate_on_submit():
        return _dashboard_page(form, form_status(form))
    compound = access.find(Compound, form.compound_id.data, Action.OVERSEE)
    if compound is None:
        refuse(form, RuleError(_("Choose a compound from the list."), "compound_id"))
        return _dashboard_page(form, 422)
    done = submit(
        form,
        lambda: pilots.select_pilot(
            compound, form.model.data, form.selected_on.data, viewkit.user()
        ),
    )
    if done.ok:
        flash(_("%(name)s is now a pilot.", name=compound.name), "success")
        return redirect_after_post(url_for(".pilot", pilot_id=done.result.id))
    return _dashboard_page(form, form_status(form))


# --- one pilot --------------------------------------------------------------------------------


def _pilot(pilot_id: int, action: Action = Action.VIEW) -> Pilot:
    return access.get_or_404(Pilot, pilot_id, action)


def _pilot_page(pilot: Pilot, status: int = 200, **forms: Any) -> Response:
    settings = settings_for(pilot.compound.community.subdistrict_id)
    rate, open_, year = dashboard.trends(pilot)
    # The checklist's months are the last of the trend's twelve: one read serves both.
    facts = replace(year, months={m: year.months[m] for m in window(settings.window_months)})
    checks = checklist(facts, settings)
    manages = access.can(Action.MANAGE, pilot.compound)
    problem_trend = lists.trend(pilot.compound_id)
    committee = committees.committee_for_area(pilot.compound.area_id)
    context: dict[str, Any] = {
        "committee_findings": committees.makeup_findings(
            committee, committees.rules_for(pilot.compound.community.subdistrict_id)
        )
        if committee is not None
        else [],
        "lists_figures": lists.of_compound(pilot.compound_id),
        "problem_trend": [
            dashboard.series([float(v) for v in values], problem_trend.months)
            for values in (problem_trend.filed, problem_trend.resolved, problem_trend.missed)
        ],
        "pilot": pilot,
        "compound": pilot.compound,
        "facts": facts,
        "checks": checks,
        "passes": passes(checks),
        "settings": settings,
        "rate": rate,
        "open_": open_,
        "history": pilots.history(pilot),
        "milestones": pilots.milestones(pilot),
        "certifications": pilots.certifications(pilot),
        "manages": manages,
        "today": clock.today(),
    }
    if manages:
        stages = [s.value for s in pilots.next_stages(pilot)]
        context["stage_form"] = forms.get("stage_form") or StageForm(
            formdata=None, stages=stages, on=clock.today()
        )
        context["stage_form"].to.choices = [
            c for c in context["stage_form"].to.choices if c[0] in stages
        ]
        context["plan_form"] = forms.get("plan_form") or PlanForm(
            formdata=None,
            model=pilot.model,
            organisation=pilot.organisation,
            service_scope=pilot.service_scope,
            fee_note=pilot.fee_note,
        )
        context["milestone_form"] = forms.get("milestone_form") or MilestoneForm(formdata=None)
        context["done_form"] = MilestoneDoneForm(formdata=None, done_on=clock.today())
        from ..votes.service import passed_votes

        context["votes"] = passed_votes(pilot.compound.area_id)
        context["certify_form"] = forms.get("certify_form") or CertifyForm(
            formdata=None, on=clock.today()
        )
    return render("oversight/pilot.html", status=status, **context)


@bp.get("/pilots/<int:pilot_id>")
def pilot(pilot_id: int) -> Response:
    return _pilot_page(_pilot(pilot_id))


def _back(pilot: Pilot, message: str) -> Response:
    flash(message, "success")
    return redirect_after_post(url_for(".pilot", pilot_id=pilot.id))


@bp.post("/pilots/<int:pilot_id>/stage")
def stage(pilot_id: int) -> Response:
    pilot = _pilot(pilot_id, Action.MANAGE)
    form = StageForm(stages=[s.value for s in pilots.next_stages(pilot)])
    done = submit(
        form,
        lambda: pilots.change_stage(
            pilot, form.to.data, form.on.data, form.note.data or "", viewkit.user()
        ),
    )
    if done.ok:
        return _back(pilot, _("Stage saved."))
    return _pilot_page(pilot, form_status(form), stage_form=form)


@bp.post("/pilots/<int:pilot_id>/plan")
def plan(pilot_id: int) -> Response:
    pilot = _pilot(pilot_id, Action.MANAGE)
    form = PlanForm()
    done = submit(
        form,
        lambda: pilots.update_plan(
            pilot,
            pilots.Plan(
                model=form.model.data,
                service_scope=form.service_scope.data or "",
                fee_note=form.fee_note.data or "",
                organisation=form.organisation.data,
            ),
        ),
    )
    if done.ok:
        return _back(pilot, _("Plan saved."))
    return _pilot_page(pilot, form_status(form), plan_form=form)


@bp.post("/pilots/<int:pilot_id>/milestones")
def add_milestone(pilot_id: int) -> Response:
    pilot = _pilot(pilot_id, Action.MANAGE)
    form = MilestoneForm()
    done = submit(form, lambda: pilots.add_milestone(pilot, form.title.data, form.due_on.data))
    if done.ok:
        return _back(pilot, _("Milestone added."))
    return _pilot_page(pilot, form_status(form), milestone_form=form)


@bp.post("/milestones/<int:milestone_id>/done")
def milestone_done(milestone_id: int) -> Response:
    milestone = access.get_or_404(Milestone, milestone_id, Action.MANAGE)
    pilot = milestone.pilot
    form = MilestoneDoneForm()
    done = submit(
        form,
        lambda: pilots.complete_milestone(
            milestone, form.done_on.data, form.note.data or "", form.vote_id.data
        ),
    )
    if done.ok:
        return _back(pilot, _("Milestone reached."))
    problem = (
        form.done_on.errors or form.note.errors or form.vote_id.errors or form.form_errors or [""]
    )[0]
    flash(problem or _("Please try again."), "error")
    return redirect_after_post(url_for(".pilot", pilot_id=pilot.id))


@bp.post("/compounds/<int:compound_id>/certify")
def certify(compound_id: int) -> Response:
    access.require_staff()
    compound = access.get_or_404(Compound, compound_id, Action.MANAGE)
    form = CertifyForm()
    done = submit(
        form,
        lambda: pilots.certify(
            compound.pilot, viewkit.user(), form.on.data, form.override_reason.data or ""
        ),
    )
    if done.ok and compound.pilot is not None:
        return _back(compound.pilot, _("%(name)s is certified self-governing.", name=compound.name))
    if compound.pilot is None:
        flash((form.form_errors or [_("Only a pilot can be certified.")])[0], "error")
        return redirect_after_post(url_for("registry.compound", compound_id=compound.id))
    return _pilot_page(compound.pilot, form_status(form), certify_form=form)


# --- reports and the ledger -------------------------------------------------------------------


@bp.get("/pilots/<int:pilot_id>/report")
def pilot_report(pilot_id: int) -> Response:
    pilot = _pilot(pilot_id)
    settings = settings_for(pilot.compound.community.subdistrict_id)
    rate, open_, year = dashboard.trends(pilot)
    facts = replace(year, months={m: year.months[m] for m in window(settings.window_months)})
    checks = checklist(facts, settings)
    return render(
        "oversight/pilot_report.html",
        pilot=pilot,
        facts=facts,
        checks=checks,
        passes=passes(checks),
        rate=rate,
        open_=open_,
        history=pilots.history(pilot),
        milestones=pilots.milestones(pilot),
        today=clock.today(),
    )


@bp.get("/communities/<int:community_id>/report")
def community_report(community_id: int) -> Response:
    p = access.require_staff()
    community = access.get_or_404(Community, community_id)
    board = dashboard.build(dashboard.Filters(community=community.id), p)
    return render(
        "oversight/community_report.html",
        community=community,
        board=board,
        summary=dashboard.summarise(board.shown),
        today=clock.today(),
    )


@bp.get("/ledger.xlsx")
def ledger() -> Response:
    p = access.require_staff()
    board = dashboard.build(_filters(), p)
    response = make_response(pilot_ledger_xlsx(board))
    response.headers["Content-Type"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=pilot-ledger-{clock.today():%Y%m%d}.xlsx"
    )
    return response


# --- thresholds -------------------------------------------------------------------------------


@bp.route("/subdistricts/<int:subdistrict_id>/settings", methods=["GET", "POST"])
def settings(subdistrict_id: int) -> Response:
    from ..registry.models import Subdistrict

    subdistrict = access.get_or_404(Subdistrict, subdistrict_id, Action.MANAGE)
    current = settings_for(subdistrict.id)
    form = SettingsForm(
        data={
            "rep_coverage_pct": current.rep_coverage_pct,
            "collection_pct": current.collection_pct,
            "repairs_in_target_pct": current.repairs_in_target_pct,
            "window_months": current.window_months,
            "overdue_rule": current.overdue_rule,
            "overdue_days": current.overdue_days,
            "min_publicity_days": current.min_publicity_days,
        }
    )
    if request.method == "POST":
        done = submit(
            form,
            lambda: pilots.save_settings(
                subdistrict.id,
                rep_coverage_pct=form.rep_coverage_pct.data,
                collection_pct=form.collection_pct.data,
                repairs_in_target_pct=form.repairs_in_target_pct.data,
                window_months=form.window_months.data,
                overdue_rule=bool(form.overdue_rule.data),
                overdue_days=form.overdue_days.data,
                min_publicity_days=form.min_publicity_days.data,
            ),
        )
        if done.ok:
            flash(_("Saved. The checklist now uses these thresholds."), "success")
            return redirect_after_post(url_for(".settings", subdistrict_id=subdistrict.id))
        return render(
            "oversight/settings.html",
            status=form_status(form),
            subdistrict=subdistrict,
            form=form,
        )
    return render("oversight/settings.html", subdistrict=subdistrict, form=form)

"""Consultation and vote pages: put a question, answer it, vote, count, publish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..forms import form_status, ids_prefixed, submit
from ..htmx import redirect_after_post, render
from ..public import posters
from ..public.models import LinkKind
from ..registry.models import Building, Compound, ManagementArea, Subdistrict, Unit
from ..security import accepts_uploads
from ..uploads import send_upload
from . import bp, consultations, procedure, service
from .forms import (
    AnnounceForm,
    AnswerForm,
    AssemblyRulesForm,
    BallotForm,
    CloseForm,
    ConsultationForm,
    CorrectionForm,
    PaperBallotForm,
    TellerForm,
    VoidBallotForm,
    VoteForm,
    VoteRulesForm,
)
from .models import Ballot, BallotChannel, Consultation, ScopeKind, Teller, Vote, VoteStatus
from .tally import MAJORITY, PARTICIPATION, SPECIAL_MAJORITY, percent


def _compounds(area: ManagementArea) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in sorted(area.compounds, key=lambda c: c.name)]


def _vote_scopes(area: ManagementArea) -> list[tuple[str, str]]:
    """A vote's scopes: those of a consultation, and chosen compounds where the area has
    several."""
    found = _scopes(area)
    if len(area.compounds) > 1:
        found.insert(1, (f"compounds:{area.id}", _("Chosen compounds of %(name)s", name=area.name)))
    return found


def _scopes(area: ManagementArea) -> list[tuple[str, str]]:
    """The area, its compounds, buildings and units, as "kind:id" choices."""
    found = [(f"area:{area.id}", _("The whole area: %(name)s", name=area.name))]
    rows = db.session.execute(
        select(Compound, Building, Unit)
        .join(Building, Building.compound_id == Compound.id)
        .join(Unit, Unit.building_id == Building.id)
        .where(Compound.area_id == area.id)
        .order_by(Compound.name, Building.sort_key, Unit.sort_key)
    ).all()
    seen: set[str] = set()
    for compound, building, unit in rows:
        for key, text in (
            (f"compound:{compound.id}", compound.name),
            (f"building:{building.id}", f"{compound.name} {building.name}"),
            (f"unit:{unit.id}", f"{compound.name} {building.name} {unit.name}"),
        ):
            if key not in seen:
                seen.add(key)
                found.append((key, text))
    return found


def _scope(
    area: ManagementArea, value: str | None, compounds: list[int] | None = None
) -> service.Scope:
    kind, _sep, ident = (value or "").partition(":")
    if kind == ScopeKind.COMPOUNDS and compounds is not None:
        if ident != str(area.id):
            raise RuleError(_("Choose who is asked."), "scope")
        return service.chosen_compounds(area, compounds)
    scope = service.resolve_scope(kind, int(ident) if ident.isdigit() else None)
    if scope.area.id != area.id:
        raise RuleError(_("Choose who is asked."), "scope")
    return scope


# --- the list ------------------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    p = access.principal()
    if p.is_anonymous:
        abort(404)
    areas = db.session.scalars(
        select(ManagementArea)
        .where(ManagementArea.id.in_(select(Compound.area_id).where(access.compound_filter(p))))
        .order_by(ManagementArea.name)
    ).all()
    running = [a for a in areas if access.can(Action.CONSULT, a, p)]
    run_ids = {a.id for a in running}
    return render(
        "votes/index.html",
        running=running,
        votes=service.votes_of(run_ids) if run_ids else [],
        consultations=consultations.consultations_of(run_ids) if run_ids else [],
        my_votes=[
            *(v for v in service.announced_for(p) if access.can(Action.VIEW, v, p)),
            *(v for v in service.voter_votes(p) if v.status != VoteStatus.DRAFT),
        ],
        my_consultations=consultations.concerning(p),
        # A tenant or family member is told why no owners' vote asks for them.
        non_owner=bool(service.non_owner_homes(viewkit.user(), p)),
    )


@bp.get("/start")
def start() -> Response:
    """Where the area chooser on the list leads: a new vote or consultation for that area."""
    from ..fields import whole_number

    area = _run_area(whole_number(request.args.get("area")) or 0)
    if request.args.get("kind") == "vote":
        return redirect_after_post(url_for(".new_vote", area_id=area.id))
    return redirect_after_post(url_for(".new_consultation", area_id=area.id))


# --- votes ------------------------------------------------------------------------------------


def _run_area(area_id: int) -> ManagementArea:
    return access.get_or_404(ManagementArea, area_id, Action.CONSULT)


def _vote_form_page(area: ManagementArea, form: VoteForm, status: int = 200) -> Response:
    return render(
        "votes/new_vote.html",
        status=status,
        area=area,
        form=form,
        rules=service.vote_rules(area.community.subdistrict_id),
    )


@bp.route("/areas/<int:area_id>/new", methods=["GET", "POST"])
def new_vote(area_id: int) -> Response:
    area = _run_area(area_id)
    scopes, compounds = _vote_scopes(area), _compounds(area)
    if request.method == "GET":
        rules = service.vote_rules(area.community.subdistrict_id)
        form = VoteForm(
            formdata=None,
            scopes=scopes,
            compounds=compounds,
            closes_on=clock.today() + timedelta(days=rules.announce_days + 14),
        )
        return _vote_form_page(area, form)
    form = VoteForm(scopes=scopes, compounds=compounds)
    done = submit(
        form,
        lambda: service.create_vote(
            _scope(area, form.scope.data, form.compounds.data or []),
            form.matter.data,
            form.title.data,
            form.text.data,
            form.closes_on.data,
            viewkit.user(),
        ),
    )
    if done.ok:
        return viewkit.done(
            _(
                "Vote drafted. Check it, then announce it: it opens when the announcement "
                "period ends."
            ),
            _here(done.result),
        )
    return _vote_form_page(area, form, form_status(form))


def _vote(vote_id: int) -> tuple[Vote, bool]:
    """The vote and whether the user runs it; 404 unless they run it or are asked."""
    vote = access.get_or_404(Vote, vote_id)
    return vote, access.can(Action.CONSULT, vote)


def _vote_context(vote: Vote, runs: bool, **forms: Any) -> dict[str, Any]:
    p = access.principal()
    user = viewkit.user()
    rules = service.rules_of(vote)
    context: dict[str, Any] = {
        "vote": vote,
        "runs": runs,
        "rules": rules,
        "tellers": service.tellers_of(vote),
        "missing": service.tellers_missing(vote),
        "non_voters_rule": service.follows_majority(vote),
        "compounds": service.compounds_of(vote) if vote.scope_kind == ScopeKind.COMPOUNDS else [],
        "today": clock.today(),
    }
    if runs and vote.status != VoteStatus.CLOSED:
        context["teller_form"] = forms.get("teller_form") or TellerForm(
            formdata=None, owners=procedure.teller_choices(vote)
        )
    if vote.status == VoteStatus.DRAFT:
        if runs and not vote.announced:
            opens_on = procedure.earliest_opening(vote)
            context["announce_form"] = forms.get("announce_form") or AnnounceForm(
                formdata=None, opens_on=opens_on, closes_on=max(vote.closes_on, opens_on)
            )
        return context
    tally = service.tally(vote)
    lines = service.homes(vote)
    accepting = vote.status == VoteStatus.OPEN and clock.today() <= vote.closes_on
    elector = service.elector_for_user(vote, user)
    mine = service.latest_ballots(vote).get(elector.id) if elector else None
    paper_homes = service.paper_homes(lines, runs, p)
    voidable = (
        [line for line in lines if line.channel == BallotChannel.PAPER]
        if runs and accepting
        else []
    )
    # A tenant or family member of a home in the vote: told that owners alone vote.
    non_owner = elector is None and bool(
        service.non_owner_homes(user, p) & {line.household_id for line in lines}
    )
    context.update(
        tally=tally,
        lines=lines,
        shares=_shares(tally),
        accepting=accepting,
        elector=elector,
        mine=mine,
        why_not=None
        if elector or not p.resident_households
        else service.why_not_elector(vote, user, p),
        non_owner=non_owner,
        # Two forms with a "choice" each: their ids apart, so each label names its own.
        ballot_form=ids_prefixed(
            forms.get("ballot_form")
            or BallotForm(formdata=None, choice=mine.choice if mine else None),
            "ballot",
        ),
        paper_form=ids_prefixed(forms.get("paper_form") or PaperBallotForm(formdata=None), "paper"),
        paper_homes=paper_homes,
        voidable=voidable,
        correction_form=ids_prefixed(
            forms.get("correction_form") or CorrectionForm(formdata=None), "correct"
        ),
        corrections=procedure.corrections_of(vote) if runs else [],
        close_form=forms.get("close_form") or CloseForm(formdata=None),
        certain=service.certain_outcome(vote) if runs and vote.status == VoteStatus.OPEN else None,
        to_visit=service.not_voted_by_unit(
            [line for line in lines if runs or line.unit_id in p.rep_units]
        ),
    )
    return context


def _shares(tally: Any) -> list[dict[str, Any]]:
    needed = SPECIAL_MAJORITY if tally.special else MAJORITY
    return [
        {
            "name": _("Participation by area"),
            "value": percent(tally.participation_area),
            "needed": percent(PARTICIPATION),
            "met": tally.participation_area >= PARTICIPATION,
            "strict": False,
        },
        {
            "name": _("Participation by owners"),
            "value": percent(tally.participation_heads),
            "needed": percent(PARTICIPATION),
            "met": tally.participation_heads >= PARTICIPATION,
            "strict": False,
        },
        {
            "name": _("Yes by participating area"),
            "value": percent(tally.approval_area),
            "needed": percent(needed),
            "met": tally.approves(tally.approval_area) and tally.voted_heads > 0,
            "strict": not tally.special,
        },
        {
            "name": _("Yes by participating owners"),
            "value": percent(tally.approval_heads),
            "needed": percent(needed),
            "met": tally.approves(tally.approval_heads) and tally.voted_heads > 0,
            "strict": not tally.special,
        },
    ]


@bp.get("/<int:vote_id>")
def vote(vote_id: int) -> Response:
    vote, runs = _vote(vote_id)
    return render("votes/vote.html", **_vote_context(vote, runs))


@bp.get("/<int:vote_id>/tally")
def live_tally(vote_id: int) -> Response:
    vote, runs = _vote(vote_id)
    return render("votes/_tally.html", **_vote_context(vote, runs))


def _vote_again(vote: Vote, runs: bool, **forms: Any) -> Response:
    """The vote's page with a refused form's errors next to its fields."""
    form = next(iter(forms.values()))
    return render(
        "votes/vote.html", status=form_status(form) or 422, **_vote_context(vote, runs, **forms)
    )


def _here(vote: Vote) -> str:
    return url_for(".vote", vote_id=vote.id)


@bp.post("/<int:vote_id>/open")
def open_vote(vote_id: int) -> Response:
    vote = access.get_or_404(Vote, vote_id, Action.CONSULT)
    return viewkit.act(
        lambda: service.open_vote(vote, viewkit.user()), _here(vote), _("The vote is open.")
    )


@bp.post("/<int:vote_id>/close")
def close_vote(vote_id: int) -> Response:
    vote = access.get_or_404(Vote, vote_id, Action.CONSULT)
    form = CloseForm()
    if submit(form, lambda: service.close_vote(vote, viewkit.user(), form.reason.data or "")).ok:
        return viewkit.done(_("The vote is closed and counted."), _here(vote))
    return _vote_again(vote, True, close_form=form)


@bp.post("/<int:vote_id>/ballot")
def ballot(vote_id: int) -> Response:
    vote, runs = _vote(vote_id)
    form = BallotForm()
    if submit(form, lambda: service.cast_online(vote, viewkit.user(), form.choice.data)).ok:
        return viewkit.done(
            _("Your vote is counted. You may change it until the vote closes."), _here(vote)
        )
    return _vote_again(vote, runs, ballot_form=form)


@bp.post("/<int:vote_id>/paper")
@accepts_uploads
def paper(vote_id: int) -> Response:
    vote, runs = _vote(vote_id)
    form = PaperBallotForm()
    entered = submit(
        form,
        lambda: service.enter_paper(
            vote,
            form.household_id.data,
            form.choice.data,
            request.files.get("photo"),
            viewkit.user(),
        ),
    )
    if entered.ok:
        return viewkit.done(_("Paper ballot entered."), _here(vote))
    return _vote_again(vote, runs, paper_form=form)


@bp.post("/ballots/<int:ballot_id>/void")
def void_ballot(ballot_id: int) -> Response:
    """The committee voids a paper ballot entered by mistake; the home may vote again."""
    found = access.get_or_404(Ballot, ballot_id, Action.CONSULT)
    vote = access.get_or_404(Vote, found.vote_id, Action.CONSULT)
    form = VoidBallotForm()
    voided = submit(form, lambda: service.void_paper(found, form.reason.data, viewkit.user()))
    if voided.ok:
        return viewkit.done(
            _("The paper ballot is void and no longer counts; the home may vote again."),
            _here(vote),
        )
    errors = form.reason.errors or form.form_errors or [_("Please try again.")]
    flash(errors[0], "error")
    return redirect_after_post(_here(vote))


@bp.get("/<int:vote_id>/notice")
def notice(vote_id: int) -> Response:
    vote, _runs = _vote(vote_id)
    if vote.status != VoteStatus.CLOSED:
        abort(404)
    return render(
        "votes/notice.html",
        vote=vote,
        tally=service.tally(vote),
        lines=service.homes(vote),
        tellers=service.tellers_of(vote),
        public=posters.poster(LinkKind.VOTE_RESULT, vote.id),
    )


@bp.get("/ballots/<int:ballot_id>/photo")
def ballot_photo(ballot_id: int) -> Response:
    found = access.get_or_404(Ballot, ballot_id)
    if found.channel != BallotChannel.PAPER or found.photo is None:
        abort(404)
    return send_upload(found.photo, f"ballot-{found.id}.jpg")


# --- the procedure: rules, announcement, tellers, corrections -------------------------------


@bp.route("/subdistricts/<int:subdistrict_id>/rules", methods=["GET", "POST"])
def vote_rules(subdistrict_id: int) -> Response:
    """The subdistrict admin sets how long votes are announced and how many tellers count."""
    subdistrict = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    current = service.vote_rules(subdistrict.id)
    form = VoteRulesForm(
        data={
            "announce_days": current.announce_days,
            "scrutineers": current.scrutineers,
            "counters": current.counters,
        }
    )
    if request.method == "POST":
        done = submit(
            form,
            lambda: procedure.save_vote_rules(
                subdistrict,
                announce_days=form.announce_days.data,
                scrutineers=form.scrutineers.data,
                counters=form.counters.data,
            ),
        )
        if done.ok:
            return viewkit.done(
                _("Saved. Votes announced from now on follow these rules."),
                url_for(".vote_rules", subdistrict_id=subdistrict.id),
            )
    return render("votes/rules.html", status=form_status(form), subdistrict=subdistrict, form=form)


@bp.route("/areas/<int:area_id>/assembly-rules", methods=["GET", "POST"])
def assembly_rules(area_id: int) -> Response:
    """The committee records the options of its area's 议事规则."""
    area = access.get_or_404(ManagementArea, area_id, Action.CONSULT)
    current = procedure.assembly_rules(area)
    form = AssemblyRulesForm(
        data={"non_voters_follow_majority": current.non_voters_follow_majority}
    )
    if request.method == "POST":
        done = submit(
            form,
            lambda: procedure.save_assembly_rules(area, bool(form.non_voters_follow_majority.data)),
        )
        if done.ok:
            return viewkit.done(
                _("Saved. Votes announced from now on are counted by these rules."),
                url_for(".assembly_rules", area_id=area.id),
            )
    return render(
        "votes/assembly_rules.html",
        status=form_status(form),
        area=area,
        form=form,
        votes=service.votes_of([area.id]),
    )


@bp.post("/<int:vote_id>/announce")
def announce(vote_id: int) -> Response:
    vote = access.get_or_404(Vote, vote_id, Action.CONSULT)
    form = AnnounceForm()
    announced = submit(
        form,
        lambda: procedure.announce(vote, form.opens_on.data, form.closes_on.data, viewkit.user()),
    )
    if announced.ok:
        return viewkit.done(
            _("The vote is announced: its notice is posted and the community's staff are told."),
            _here(vote),
        )
    return _vote_again(vote, True, announce_form=form)


@bp.post("/<int:vote_id>/tellers")
def record_teller(vote_id: int) -> Response:
    vote = access.get_or_404(Vote, vote_id, Action.CONSULT)
    form = TellerForm(owners=procedure.teller_choices(vote))
    done = submit(
        form,
        lambda: procedure.record_teller(
            vote, form.role.data, form.occupant_id.data, viewkit.user()
        ),
    )
    if done.ok:
        return viewkit.done(_("The teller is recorded."), _here(vote))
    return _vote_again(vote, True, teller_form=form)


@bp.post("/tellers/<int:teller_id>/remove")
def remove_teller(teller_id: int) -> Response:
    teller = access.get_or_404(Teller, teller_id, Action.CONSULT)
    vote = access.get_or_404(Vote, teller.vote_id, Action.CONSULT)
    return viewkit.act(
        lambda: procedure.remove_teller(teller, viewkit.user()),
        _here(vote),
        _("The teller is removed."),
    )


def _ballot_of(vote: Vote, ballot_id: int | None) -> Ballot:
    found = access.find(Ballot, ballot_id, Action.CONSULT)
    if found is None or found.vote_id != vote.id:
        raise RuleError(_("Choose one of this vote's paper ballots."), "ballot_id")
    return found


@bp.post("/<int:vote_id>/correct")
@accepts_uploads
def correct(vote_id: int) -> Response:
    """A second person supersedes a wrongly entered paper ballot with a new one."""
    vote = access.get_or_404(Vote, vote_id, Action.CONSULT)
    form = CorrectionForm()

    def change() -> Any:
        return procedure.correct_paper(
            _ballot_of(vote, form.ballot_id.data),
            form.choice.data,
            form.reason.data or "",
            request.files.get("photo"),
            viewkit.user(),
        )

    if submit(form, change).ok:
        return viewkit.done(
            _("The ballot is corrected: both stay on record, the correction counts."), _here(vote)
        )
    return _vote_again(vote, True, correction_form=form)


# --- consultations --------------------------------------------------------------------------------


@bp.route("/areas/<int:area_id>/consultations/new", methods=["GET", "POST"])
def new_consultation(area_id: int) -> Response:
    area = _run_area(area_id)
    if request.method == "GET":
        form = ConsultationForm(
            formdata=None,
            scopes=_scopes(area),
            closes_on=clock.today(),
            options="\n".join([_("Agree"), _("Disagree")]),
        )
        return render("votes/new_consultation.html", area=area, form=form)
    form = ConsultationForm(scopes=_scopes(area))
    done = submit(
        form,
        lambda: consultations.create_consultation(
            _scope(area, form.scope.data),
            form.title.data,
            form.text.data,
            list(form.options.lines),
            form.closes_on.data,
            viewkit.user(),
        ),
    )
    if done.ok:
        return viewkit.done(
            _("The consultation is open."),
            url_for(".consultation", consultation_id=done.result.id),
        )
    return render("votes/new_consultation.html", status=form_status(form), area=area, form=form)


def _consultation(consultation_id: int) -> tuple[Consultation, bool]:
    found = access.get_or_404(Consultation, consultation_id)
    return found, access.can(Action.CONSULT, found)


def _consultation_page(found: Consultation, runs: bool, status: int = 200, **forms: Any):  # type: ignore[no-untyped-def]
    p = access.principal()
    rows = db.session.execute(service.households_in(found.scope_kind, found.scope_id)).all()
    homes = [
        (home, service.room(unit, building, compound, home))
        for home, unit, building, compound in rows
        if home.id in p.resident_households or unit.id in p.rep_units or runs
    ]
    mine = consultations.answers_for(found, {h.id for h, _label in homes})
    return render(
        "votes/consultation.html",
        status=status,
        consultation=found,
        runs=runs,
        open_=consultations.is_open(found),
        summary=consultations.summary(found),
        homes=homes,
        mine=mine,
        own=p.resident_households,
        form=forms.get("form") or AnswerForm(formdata=None, options=found.options),
    )


@bp.get("/consultations/<int:consultation_id>")
def consultation(consultation_id: int) -> Response:
    found, runs = _consultation(consultation_id)
    return _consultation_page(found, runs)


@bp.post("/consultations/<int:consultation_id>/answer")
def answer(consultation_id: int) -> Response:
    found, runs = _consultation(consultation_id)
    form = AnswerForm(options=found.options)
    done = submit(
        form,
        lambda: consultations.answer(
            found,
            form.household_id.data,
            form.option.data,
            form.comment.data or "",
            viewkit.user(),
            access.principal(),
            form.resident_name.data or "",
        ),
    )
    if done.ok:
        return viewkit.done(
            _("Thank you: the answer is recorded."),
            url_for(".consultation", consultation_id=found.id),
        )
    return _consultation_page(found, runs, form_status(form), form=form)


@bp.post("/consultations/<int:consultation_id>/close")
def close_consultation(consultation_id: int) -> Response:
    found = access.get_or_404(Consultation, consultation_id, Action.CONSULT)
    return viewkit.act(
        lambda: consultations.close_consultation(found),
        url_for(".consultation", consultation_id=found.id),
        _("The consultation is closed; residents see its outcome."),
    )

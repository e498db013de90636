"""The transition routes' cases for ``test_audit``: every step writes its audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.committees.models import CommitteeMember
from compound_app.extensions import db
from compound_app.transition import service as transition
from compound_app.transition.models import Transition, TransitionPerson, TransitionStep
from tests.audits.test_audit import Post, case, changed, one
from tests.factories import (
    CREDIT_CODE,
    ELECTED,
    PREPARATION,
    World,
    days_ago,
    passed_vote,
    transition_objects,
)


def _rows(people: list[tuple[str, str]]) -> dict[str, str]:
    data: dict[str, str] = {}
    for n, (name, role) in enumerate(people, start=1):
        data[f"person_{n}"], data[f"role_{n}"] = name, role
    return data


def _here(w: World) -> str:
    return f"/transition/areas/{w.branch.area_id}"


def _step(kind: str) -> TransitionStep:
    return one(select(TransitionStep).where(TransitionStep.kind == kind))


@case("transition.start", "committee")
def _start(w: World, client: Any) -> Post:
    return Post(
        f"{_here(w)}/start",
        {"target": "owners_committee", "started_on": days_ago(30).isoformat()},
        lambda: [
            changed(
                one(select(Transition)),
                "start_transition",
                target="owners_committee",
                stage="started",
            )
        ],
    )


@case("transition.preparation", "committee")
def _preparation(w: World, client: Any) -> Post:
    transition.start(w.branch.area, "owners_committee", days_ago(30), w.users["committee"])
    db.session.commit()
    return Post(
        f"{_here(w)}/preparation",
        {**_rows(PREPARATION), "happened_on": days_ago(20).isoformat(), "note": "街道牵头"},
        lambda: [
            changed(_step("prepared"), "transition_prepared", note="街道牵头"),
            changed(one(select(Transition)), "update", stage="prepared"),
            changed(
                one(select(TransitionPerson).where(TransitionPerson.name == "王主任")),
                "create",
                role="subdistrict",
            ),
        ],
    )


@case("transition.assembly", "committee")
def _assembly(w: World, client: Any) -> Post:
    found = transition.start(w.branch.area, "owners_committee", days_ago(30), w.users["committee"])
    transition.form_preparation(found, days_ago(20), PREPARATION, w.users["committee"])
    vote = passed_vote(w.branch.area, "committee", w.users["committee"])
    db.session.commit()
    return Post(
        f"{_here(w)}/assembly",
        {"vote": str(vote.id), "happened_on": days_ago(10).isoformat(), "note": ""},
        lambda: [
            changed(_step("assembly"), "transition_assembly", vote_id=vote.id),
            changed(one(select(Transition)), "update", stage="assembly"),
        ],
    )


@case("transition.elected", "committee")
def _elected(w: World, client: Any) -> Post:
    transition_objects(w.branch, w.users["committee"], "assembly")
    return Post(
        f"{_here(w)}/elected",
        {**_rows(ELECTED), "happened_on": clock.today().isoformat(), "note": ""},
        lambda: [
            changed(_step("elected"), "transition_elected"),
            changed(one(select(Transition)), "update", stage="elected"),
            changed(
                one(select(TransitionPerson).where(TransitionPerson.name == "周建国")),
                "create",
                role="chair",
            ),
        ],
    )


@case("transition.company", "committee")
def _company(w: World, client: Any) -> Post:
    found = transition.start(w.branch.area, "property_company", days_ago(30), w.users["committee"])
    transition.form_preparation(found, days_ago(20), PREPARATION, w.users["committee"])
    vote = passed_vote(w.branch.area, "manager", w.users["committee"], "选聘物业")
    transition.hold_assembly(found, vote, days_ago(10), w.users["committee"])
    db.session.commit()
    return Post(
        f"{_here(w)}/company",
        {
            "company_name": "北京安居物业服务有限公司",
            "credit_code": CREDIT_CODE,
            "contract_from": days_ago(-1).isoformat(),
            "contract_to": days_ago(-366).isoformat(),
            "happened_on": clock.today().isoformat(),
            "note": "",
        },
        lambda: [
            changed(_step("elected"), "transition_elected", credit_code=CREDIT_CODE),
            changed(one(select(Transition)), "update", stage="elected"),
        ],
    )


@case("transition.filing", "staff")
def _filing(w: World, client: Any) -> Post:
    transition_objects(w.branch, w.users["committee"], "elected")
    return Post(
        f"{_here(w)}/filing",
        {"filing_no": "备字第7号", "happened_on": clock.today().isoformat(), "note": ""},
        lambda: [
            changed(_step("filed"), "transition_filed", filing_no="备字第7号"),
            changed(one(select(Transition)), "update", stage="filed"),
        ],
    )


@case("transition.handover", "staff")
def _handover(w: World, client: Any) -> Post:
    transition_objects(w.branch, w.users["committee"], "filed")
    chair = one(select(CommitteeMember).where(CommitteeMember.user_id == w.users["committee"].id))
    last_day = days_ago(-10)
    return Post(
        f"{_here(w)}/handover",
        {
            "handed_to": "新国土小区业主委员会",
            "happened_on": clock.today().isoformat(),
            "rights_end_on": last_day.isoformat(),
            "signed_old": "孙德明",
            "signed_new": "周建国",
            "note": "",
        },
        lambda: [
            changed(
                _step("handed_over"), "transition_handed_over", rights_end_on=last_day.isoformat()
            ),
            changed(one(select(Transition)), "update", stage="handed_over"),
            changed(chair, "end_term", term_end=last_day.isoformat()),
        ],
    )

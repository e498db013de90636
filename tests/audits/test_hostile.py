"""Hostile input on every form, as every role: no 5xx, no unescaped echo, nothing written on error.

Every route of ``app.url_map`` that accepts POST must be listed in ``FORMS``, so a new
route cannot escape this file. Field names and kinds are read from the form classes, so
a field added to a form is attacked the day it is added, and a request that processes a
form this file does not know about fails the deterministic test.

Each request is checked the same way (``Harness.send``):

- the status is below 500;
- no sent value holding ``<`` plus a letter comes back unescaped, neither in the answer
  nor on the page a redirect leads to (where stored values and flashes show up);
- a redirect goes to a path on this site;
- an error (status >= 400, a flashed error, or the import preview, which never writes)
  leaves every table but ``login_attempt`` and ``user_session`` exactly as it was;
- a success stores only clean text: no control characters, ASCII mobiles, within the
  column's length (SQLite would store anything; PostgreSQL would answer 500).

The tests using this machinery: a deterministic one with the nastiest fixed payloads for
every route × role (failures reproduce without shrinking), a Hypothesis one per route,
and one for the query strings (search boxes, filters, paging) of every page.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from sqlalchemy import String, Table, Text, cast, delete, event, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.core import UnboundField

from compound_app import PUBLIC_ENDPOINTS, clock
from compound_app.archive.forms import DocumentForm, TenantsForm, VersionForm
from compound_app.archive.forms import WithdrawForm as ArchiveWithdrawForm
from compound_app.auth.forms import (
    ActivateForm,
    ChangePasswordForm,
    CodeForm,
    CodeRequestForm,
    ConsentForm,
    LoginForm,
)
from compound_app.auth.models import LoginAttempt, Role, RoleGrant, User
from compound_app.auth.service import grant, hash_password
from compound_app.committees import service as committees
from compound_app.committees.forms import (
    ChairForm,
    CommitteeForm,
    EndTermForm,
    MemberForm,
    MemberTermsForm,
    RulesForm,
)
from compound_app.committees.models import Background, Position
from compound_app.extensions import db
from compound_app.fees.forms import (
    AdjustForm,
    ApproveForm,
    ConfirmForm,
    ExpenseForm,
    HandoverForm,
    ItemForm,
    MonthForm,
    PaymentForm,
    ReliefForm,
    ReverseForm,
    SealForm,
    TermsForm,
    ThresholdForm,
)
from compound_app.fields import (
    AreaField,
    CountField,
    DateField,
    IdField,
    LabelField,
    MobileField,
    MoneyField,
    MonthField,
    NameField,
    RequestKeyField,
    TextField,
    VersionField,
    clean_text,
)
from compound_app.forms import AppForm
from compound_app.income.forms import ContractForm, EndForm, ReceiptForm, ReverseIncomeForm
from compound_app.labels import LABELS
from compound_app.messages.forms import SmsChoicesForm
from compound_app.notices.forms import CommentForm, NoticeForm, TellForm, WithdrawForm
from compound_app.oversight.forms import (
    CertifyForm,
    MilestoneDoneForm,
    MilestoneForm,
    PlanForm,
    SelectPilotForm,
    SettingsForm,
    StageForm,
)
from compound_app.people.forms import GrantForm, PersonForm
from compound_app.problems.forms import (
    CoverForm,
    DeadlinesForm,
    FromAnswerForm,
    GridForm,
    GridWorkerForm,
    HotlineConfirmForm,
    HotlineUploadForm,
    KindChangeForm,
    KindForm,
    LevelForm,
    ProblemForm,
    RepairForm,
)
from compound_app.problems.forms import MoveForm as ProblemMoveForm
from compound_app.problems.forms import RateForm as ProblemRateForm
from compound_app.problems.models import Problem
from compound_app.public import service as public_links
from compound_app.public.forms import RevokeForm
from compound_app.public.models import LinkKind
from compound_app.registry import importer, roster
from compound_app.registry.forms import (
    AddToAreaForm,
    AreaForm,
    BuildingForm,
    CommunityForm,
    CompoundForm,
    DatedForm,
    HouseholdForm,
    ImportForm,
    ModelForm,
    OccupantForm,
    PartyOrgForm,
    RepresentativeForm,
    UnitForm,
)
from compound_app.registry.models import Compound, Household, Occupant, Relation, Unit
from compound_app.repairs.forms import (
    AssignForm,
    FacilityForm,
    LinkExpenseForm,
    MeetingForm,
    MoveForm,
    RateForm,
    RemoveFacilityForm,
    ReportForm,
    TargetsForm,
    WorkForm,
    WorkPhotoForm,
    WorkStepForm,
)
from compound_app.votes.forms import (
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
from compound_app.votes.models import Vote
from tests.audits.test_routes_access import _url
from tests.conftest import PG_URL, Template
from tests.factories import (
    ELECTED,
    PASSWORD,
    PREPARATION,
    World,
    archive_objects,
    days_ago,
    fee_objects,
    first_unit,
    fund_objects,
    income_objects,
    load_world,
    notice_objects,
    pilot_vote_objects,
    problem_objects,
    recon_objects,
    rectify_objects,
    repair_objects,
    transition_objects,
    user,
)

ROLES = [
    "admin",
    "staff",
    "other_staff",
    "committee",
    "area_committee",
    "rep",
    "resident",
    "tenant",
    "outsider",
]
ANONYMOUS = "anonymous"  # only on the routes open to signed-out visitors

# Endpoint → the form class it processes, or {field: kind} for values a view reads itself.
from compound_app.fund.forms import (  # noqa: E402
    ApplicationForm,
    BalanceForm,
    DisburseForm,
)
from compound_app.fund.forms import PaymentForm as WorkPaymentForm  # noqa: E402
from compound_app.fund.forms import VoteForm as FundVoteForm  # noqa: E402
from compound_app.reconcile.forms import (  # noqa: E402
    ClaimForm,
    ExplainForm,
    MappingForm,
    MatchForm,
    UploadForm,
)
from compound_app.reconcile.forms import ReasonForm as ReconReasonForm  # noqa: E402
from compound_app.rectify.forms import (  # noqa: E402
    AgreementForm,
    CompleteForm,
    FinishForm,
    HoursForm,
    InspectionForm,
    ItemEditForm,
    ItemPickForm,
    NoteForm,
    PartyForm,
    ProjectForm,
    ResultForm,
    VerifyForm,
    VolunteerForm,
)
from compound_app.rectify.forms import ItemForm as InspectionItemForm  # noqa: E402
from compound_app.transition.forms import (  # noqa: E402
    AssemblyForm,
    CompanyForm,
    ElectedForm,
    FilingForm,
    PreparationForm,
    StartForm,
)
from compound_app.transition.forms import HandoverForm as TransitionHandoverForm  # noqa: E402
from compound_app.treasury.forms import AccountForm, MovementForm, ReasonForm  # noqa: E402

FORMS: dict[str, type[FlaskForm] | dict[str, str]] = {
    "auth.login": LoginForm,
    "auth.activate": ActivateForm,
    "auth.password": ChangePasswordForm,
    "auth.language": {"lang": "lang", "next": "next"},
    "auth.text_size": {"size": "select", "next": "next"},
    "auth.logout": {},
    # --- signin: sign-in codes, the account page ---
    "auth.code_request": CodeRequestForm,
    "auth.code_enter": CodeForm,
    "auth.account": ConsentForm,
    # --- end signin ---
    "committees.create": CommitteeForm,
    "committees.new_member": MemberForm,
    "committees.edit_member": MemberTermsForm,
    "committees.end_member": EndTermForm,
    "committees.remove_member": {},
    "committees.chair": ChairForm,
    "committees.rules": RulesForm,
    "people.new": PersonForm,
    "people.add_grant": GrantForm,
    "people.revoke": {},
    "people.activation": {},
    "people.set_enabled": {"enabled": "flag"},
    "registry.new_community": CommunityForm,
    "registry.new_compound": CompoundForm,
    "registry.new_area": AreaForm,
    "registry.add_to_area": AddToAreaForm,
    "registry.remove_from_area": DatedForm,
    "registry.change_model": ModelForm,
    "registry.party": PartyOrgForm,
    "registry.new_building": BuildingForm,
    "registry.new_unit": UnitForm,
    "registry.new_household": HouseholdForm,
    "registry.edit_household": HouseholdForm,
    "registry.add_occupant": OccupantForm,
    "registry.edit_occupant": OccupantForm,
    "registry.delete_occupant": {},
    "registry.invite": {},
    "registry.representative": RepresentativeForm,
    "registry.remove_representative": {},
    "registry.import_roster": ImportForm,
    # The view validates an ImportForm for its CSRF token only.
    "registry.import_confirm": {"token": "token", "file": "file"},
    "fees.new_schedule": {},
    "fees.terms": TermsForm,
    "fees.add_item": ItemForm,
    "fees.delete_item": {},
    "fees.publish": {},
    "fees.withdraw": {},
    "fees.approve": ApproveForm,
    "fees.bills": MonthForm,
    "fees.threshold": ThresholdForm,
    "fees.confirm_threshold": {},
    "fees.pay": PaymentForm,
    "fees.reverse": ReverseForm,
    "fees.relief": ReliefForm,
    "fees.clear_relief": {},
    "fees.hand_over": HandoverForm,
    "fees.confirm": ConfirmForm,
    "fees.new_expense": ExpenseForm,
    "fees.approve_expense": {},
    "fees.void_expense": ReverseForm,
    "fees.adjust": AdjustForm,
    "fees.publish_board": MonthForm,
    "fees.upload_seal": SealForm,
    # --- common-part income ---
    "income.new_contract": ContractForm,
    "income.end_contract": EndForm,
    "income.receive": ReceiptForm,
    "income.reverse": ReverseIncomeForm,
    "treasury.open_account": AccountForm,
    "treasury.close_account": {},
    "treasury.record_movement": MovementForm,
    "treasury.approve_movement": {},
    "treasury.reverse_movement": ReasonForm,
    # --- reconciliation ---
    "reconcile.import_statement": UploadForm,
    # The confirmation carries the preview's signed lines; forged ones are refused.
    "reconcile.import_confirm": {"token": "string"},
    "reconcile.save_mapping": MappingForm,
    "reconcile.confirm": MatchForm,
    "reconcile.reject": MatchForm,
    "reconcile.explain": ExplainForm,
    "reconcile.undo": ReconReasonForm,
    "reconcile.claim": ClaimForm,
    "reconcile.reject_claim": ReconReasonForm,
    "repairs.create": ReportForm,
    "repairs.move": MoveForm,
    "repairs.assign": AssignForm,
    "repairs.rate": RateForm,
    "repairs.targets": TargetsForm,
    "repairs.new_work": WorkForm,
    "repairs.work_step": WorkStepForm,
    "repairs.work_expense": LinkExpenseForm,
    "repairs.work_photos": WorkPhotoForm,
    "repairs.add_facility": FacilityForm,
    "repairs.remove_facility": RemoveFacilityForm,
    "repairs.new_meeting": MeetingForm,
    "oversight.select_pilot": SelectPilotForm,
    "oversight.stage": StageForm,
    "oversight.plan": PlanForm,
    "oversight.add_milestone": MilestoneForm,
    "oversight.milestone_done": MilestoneDoneForm,
    "oversight.certify": CertifyForm,
    "oversight.settings": SettingsForm,
    "votes.new_vote": VoteForm,
    "votes.open_vote": {},
    "votes.close_vote": CloseForm,
    "votes.announce": AnnounceForm,
    "votes.record_teller": TellerForm,
    "votes.remove_teller": {},
    "votes.correct": CorrectionForm,
    "votes.vote_rules": VoteRulesForm,
    "votes.assembly_rules": AssemblyRulesForm,
    "votes.ballot": BallotForm,
    "votes.paper": PaperBallotForm,
    "votes.void_ballot": VoidBallotForm,
    "votes.new_consultation": ConsultationForm,
    "votes.answer": AnswerForm,
    "votes.close_consultation": {},
    # --- public links ---
    "public.revoke": RevokeForm,
    # --- end public links ---
    # --- messages ---
    "messages.open_message": {},
    "messages.read_all": {},
    "messages.sms_choices": SmsChoicesForm,
    "messages.retry": {},
    # --- notices ---
    "notices.new": NoticeForm,
    "notices.withdraw": WithdrawForm,
    "notices.comment": CommentForm,
    "notices.ack": {},
    "notices.told": TellForm,
    # --- archive ---
    "archive.new": DocumentForm,
    "archive.new_version": VersionForm,
    "archive.withdraw": ArchiveWithdrawForm,
    "archive.tenants": TenantsForm,
    # --- end archive ---
    # --- the maintenance fund ---
    "fund.record_balance": BalanceForm,
    "fund.new_application": ApplicationForm,
    "fund.put_to_vote": FundVoteForm,
    "fund.settle": {},
    "fund.disburse": DisburseForm,
    "fund.close": {},
    "fund.work_payment": WorkPaymentForm,
    # --- end the maintenance fund ---
    # --- problems (问题清单) ---
    "problems.create": ProblemForm,
    "problems.community_new": ProblemForm,
    "problems.set_level": LevelForm,
    "problems.move": ProblemMoveForm,
    "problems.rate": ProblemRateForm,
    "problems.to_repair": RepairForm,
    "problems.from_answer": FromAnswerForm,
    "problems.hotline_import": HotlineUploadForm,
    # The confirmation carries the preview's signed tickets; forged ones are refused.
    "problems.hotline_confirm": HotlineConfirmForm,
    "problems.settings": DeadlinesForm,
    "problems.add_kind": KindForm,
    "problems.change_kind": KindChangeForm,
    "problems.grids": GridForm,
    "problems.grid": CoverForm,
    "problems.grid_worker": GridWorkerForm,
    # --- end problems ---
    # --- rectification and inspections ---
    "rectify.create": ProjectForm,
    "rectify.note": NoteForm,
    "rectify.complete": CompleteForm,
    "rectify.verify": VerifyForm,
    "rectify.party": PartyForm,
    "rectify.agreement": AgreementForm,
    "rectify.volunteer": VolunteerForm,
    "rectify.hours": HoursForm,
    "rectify.add_item": InspectionItemForm,
    "rectify.edit_item": ItemEditForm,
    "rectify.retire_item": ItemPickForm,
    "rectify.move_item": ItemPickForm,
    "rectify.start_inspection": InspectionForm,
    "rectify.record": ResultForm,
    "rectify.finish": FinishForm,
    # --- end rectification and inspections ---
    # --- the transition to an owners' committee or a property company ---
    "transition.start": StartForm,
    "transition.preparation": PreparationForm,
    "transition.assembly": AssemblyForm,
    "transition.elected": ElectedForm,
    "transition.company": CompanyForm,
    "transition.filing": FilingForm,
    "transition.handover": TransitionHandoverForm,
    # --- end the transition ---
}
# Reading and planning an import writes nothing, whatever the answer.
WRITES_NOTHING = {"registry.import_roster", "reconcile.import_statement", "problems.hotline_import"}
# Routes that, when they succeed, change who is signed in or with which password.
SESSION_ROUTES = {"auth.logout", "auth.password", "auth.activate", "auth.login"}
# Rows these tables gain on a refused request are the point (rate limit, sign-in).
UNCHECKED_TABLES = {"login_attempt", "user_session"}
# --- signin: a code signs in; a wrong code's try is counted on its request (login_code) ---
SESSION_ROUTES |= {"auth.code_enter"}
UNCHECKED_TABLES |= {"login_code"}
# --- end signin ---
# Text columns that hold hashes or machine values, not what a person typed.
MACHINE_COLUMNS = {"password_hash", "token_hash", "code_hash", "user_agent", "ip"}

# Most specific first: NameField is a StringField too.
KINDS: list[tuple[type, str]] = [
    (RequestKeyField, "key"),
    (MoneyField, "money"),
    (MonthField, "month"),
    (NameField, "name"),
    (MobileField, "mobile"),
    (LabelField, "label"),
    (TextField, "text"),
    (AreaField, "area"),
    (DateField, "date"),
    (CountField, "count"),
    (SelectMultipleField, "multi"),
    (SelectField, "select"),
    (PasswordField, "password"),
    (BooleanField, "flag"),  # signin: "remember this phone", consent
    (MultipleFileField, "photos"),
    (FileField, "file"),
    (IdField, "id"),
    (VersionField, "version"),
    (StringField, "string"),
]


def _kind(field_class: type) -> str:
    for cls, kind in KINDS:
        if issubclass(field_class, cls):
            return kind
    raise AssertionError(f"no hostile values for fields of type {field_class.__name__}")


def form_fields(form_class: type[FlaskForm]) -> dict[str, str]:
    return {
        name: _kind(value.field_class)
        for name in dir(form_class)
        if isinstance(value := getattr(form_class, name), UnboundField)
    }


def fields_of(endpoint: str) -> dict[str, str]:
    spec = FORMS[endpoint]
    return dict(spec) if isinstance(spec, dict) else form_fields(spec)


# --- values ---------------------------------------------------------------------------------


class Omit:
    """The field is left out of the request entirely."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT = Omit()


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str = "名册.csv"
    content_type: str = "text/csv"
    cells: tuple[str, ...] = ()  # the text inside, for the echo check

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data)} bytes, {self.data[:40]!r})"


@dataclass(frozen=True)
class Token:
    """An import confirmation token, made at send time for the role's compound and user."""

    kind: str  # own | other_compound | other_user | forged | truncated


SQL = [
    "' OR 1=1 --",
    "1; DROP TABLE compound",
    '\'; DELETE FROM "user"; --',
    '1\' UNION SELECT password_hash FROM "user" --',
    "%",
    "_%_",
    "\\",
    "%00",
]
# Each of these is distinctive: none occurs in a page the app renders by itself.
HTML = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "'><iframe src=javascript:alert(1)>",
    "</textarea><b>xss</b>",
    "<a href=javascript:alert(1)>x</a>",
]
TEMPLATE_LIKE = ["javascript:alert(1)", "{{7*7}}", "{% raw %}", "%(name)s", "%s%n", "${7*7}"]
CONTROL = ["\x00", "a\x00b", "\x07", "\x1b[2J", "\r\n", "\t", "\x7f", "\x85", "\u2028", "\x0b"]
UNICODE = [
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\u200d",
    "\ufeff",
    "\u2066",
    "😀",
    "👨‍👩‍👧",
    "𝟙𝟚𝟛",
    "Ａ",
    "ﷺ",
    "\U000e0041",  # tag character
    "\ufffd",
    "\uffff",  # non-character
    "\U0010ffff",
    "e\u0301" * 30,  # combining marks
]
NUMBERS = [
    "9" * 400,
    "9" * 5000,
    "-1",
    "0",
    "-0",
    "1e309",
    "-1e309",
    "1e3",
    "NaN",
    "nan",
    "Infinity",
    "0x10",
    "0b1",
    "1_000",
    "１２３",
    "٣٤",
    "1391234567٣",  # a mobile ending in an Arabic-Indic digit
    "፩",  # a digit Python's int() refuses
    "²",
    "0.001",
    "12.345",
    "1,2",
    "1.2.3",
    "+5",
    "00000000000000000001",
    str(2**63),
    str(-(2**63) - 1),
    "2026-02-30",
    "2026-13-01",
    "0000-01-01",
    "9999-12-31",
    "2026-06-01T00:00",
]
WRONG = ["", " ", "null", "None", "undefined", "true", "[]", "{}", "0" * 20]
PIECES = SQL + HTML + TEMPLATE_LIKE + CONTROL + UNICODE + NUMBERS + WRONG


def long_text(piece: str) -> str:
    return (piece * (10_000 // max(1, len(piece)) + 1))[:10_000]


def valid_values(world: World) -> dict[str, list[Any]]:
    """Values each field accepts, so one hostile field reaches the code behind it.

    Keyed by field name where the name decides (select choices), else by kind.
    """
    compounds = [world.unmanaged, world.trust, world.branch, *world.contiguous, world.elsewhere]
    ids = [str(c.id) for c in compounds]
    return {
        # by kind
        "name": ["张三", "阿依古丽·买买提", "Li Lei"],
        "mobile": ["13912340001", "139 1234 0002", "+8613912340003"],
        "label": ["9号楼", "301", "A-1202"],
        "text": ["和平路8号", "居民会议决定"],
        "area": ["68.5", "１２０", "72m²"],
        "date": ["2026-06-01", "2026年6月1日", "2030/1/1"],
        "count": ["3", "0", "12"],
        "select": [code for labels in LABELS.values() for code in labels],
        "multi": [ids[:2], ids[:3], ids[0]],
        "password": [PASSWORD, "another horse 43"],
        "string": ["ZZ", "ABCD2345", "XY"],
        "lang": ["en", "zh_CN"],
        "next": ["/registry/compounds", "/"],
        "flag": ["1", "0"],
        "token": [Token("own")],
        "key": ["hostile-form-key-0000000001", "hostile-form-key-0000000002"],
        "money": ["45", "１２.５", "¥0.50", "1,200"],
        "month": ["2026-11", "2026年10月", "2026/9"],
        "file": [valid_csv()],
        "photos": [valid_photo()],
        "id": [""],  # none chosen; ids that fit each role are endpoint-specific below
        "version": ["1"],
        # by field name
        "model": [str(m) for m in LABELS["model"]],
        "occupancy": [str(o) for o in LABELS["occupancy"]],
        "relation": [str(r) for r in LABELS["relation"]],
        "position": ["member", "vice_chair", "chair", "treasurer"],
        "background": [str(b) for b in LABELS["background"]],
        "kind": [str(k) for k in LABELS["party_org"]],
        "grant": [
            f"{Role.COMMUNITY_STAFF}:{world.community.id}",
            f"{Role.COMMUNITY_STAFF}:{world.other_community.id}",
            f"{Role.SUBDISTRICT_ADMIN}:{world.subdistrict.id}",
        ],
        "compound": ids,
        "term_end": ["2030/1/1", "2029-12-31"],
        "method": [str(m) for m in LABELS["method"]],
        "cycle": [str(c) for c in LABELS["cycle"]],
        "basis": [str(b) for b in LABELS["basis"]],
        "how": [str(h) for h in LABELS["approval"]],
        "category": ["service:保洁", "repair:", "other:"],
        "size": ["large", "standard"],  # the large-text switch
        "new_password": ["another horse 43", PASSWORD],
        "confirm": ["another horse 43", PASSWORD],
        # by endpoint and field name, where the same name means another list
        "repairs.create:category": ["plumbing", "street_light"],
        "repairs.create:place": ["public", "home"],
        "repairs.create:priority": ["normal", "urgent"],
        "repairs.move:move": ["reject", "start", "done", "confirm", "close", "reopen"],
        "repairs.assign:kind": ["contractor", "member", "staff"],
        "repairs.assign:category": ["road", "plumbing"],
        "repairs.assign:priority": ["urgent", "normal"],
        "repairs.new_work:kind": ["camera", "road"],
        "repairs.new_work:funding": ["fees", "government"],
        "repairs.work_photos:stage": ["before", "after"],
        "repairs.add_facility:kind": ["camera", "charging_pile"],
        "repairs.new_meeting:kind": ["residents", "review"],
        "oversight.select_pilot:model": ["contiguous", "party_branch"],
        "oversight.stage:to": ["consulting", "paused", "organised"],
        "oversight.plan:model": ["trusteeship", "contiguous"],
        "oversight.plan:organisation": ["committee", "branch", "group"],
        "votes.new_vote:scope": [
            f"compound:{world.branch.id}",
            f"area:{world.branch.area_id}",
            f"compound:{world.trust.id}",
        ],
        "votes.new_vote:matter": ["manager", "raise_fund"],
        "votes.new_consultation:scope": [
            f"compound:{world.branch.id}",
            f"compound:{world.trust.id}",
        ],
        "votes.new_consultation:options": ["同意\n不同意", "是\n否\n再议"],
        "votes.ballot:choice": ["yes", "no", "abstain"],
        "votes.paper:choice": ["yes", "no"],
        "votes.paper:photo": [valid_photo()],
        "votes.correct:choice": ["yes", "abstain"],
        "votes.correct:photo": [valid_photo()],
        "votes.record_teller:role": ["scrutineer", "counter"],
        "votes.new_vote:compounds": [str(world.branch.id)],
        "votes.announce:opens_on": ["2029-12-01"],
        "votes.announce:closes_on": ["2030-01-01"],
        "fees.upload_seal:seal": [valid_photo()],
        "votes.answer:option": ["同意", "不同意"],
        # --- signin ---
        "auth.code_enter:code": ["123456", "１２３４５６"],
        "consent_how": ["paper", "in_person", ""],
        # --- end signin ---
        # --- notices ---
        "notices.new:scope": [
            f"compound:{world.trust.id}",
            f"compound:{world.branch.id}",
            f"unit:{first_unit(world.branch).id}",
            f"area:{world.contiguous_area.id}",
        ],
        "notices.new:kind": ["notice", "urgent", "event", "publicity"],
        # --- archive ---
        "archive.new:kind": ["covenant", "contract", "minutes"],
        "archive.new:file": [valid_pdf()],
        "archive.new_version:file": [valid_pdf()],
        "archive.tenants:open_to_tenants": ["yes", "no"],
        # --- end archive ---
        "notices.new:publish_on": ["", "2030-01-01"],
        "notices.new:publish_time": ["08:00", "19:00"],
        "notices.new:expires_on": ["", "2030-12-31"],
        "notices.new:comments_until": ["2030-01-01", ""],
        "notices.new:body": ["明天停水。\n\n- 请储水", "周六活动"],
        "notices.told:how": ["in_person", "phone"],
        "notices.told:back": ["notice", "rounds"],
        # --- common-part income ---
        "income.new_contract:kind": ["parking", "charging"],
        "income.new_contract:total": ["1200"],
        "income.new_contract:starts_on": ["2026-05-01"],
        "income.new_contract:ends_on": ["2027-04-30"],
        "income.new_contract:instalments": ["2026-06-01 1200", "2026-06-01 600\n2026-09-01 600"],
        "income.receive:source": ["kind:donation", "kind:subsidy"],
        "income.receive:received_on": ["2026-06-01"],
        "income.end_contract:ended_on": ["2026-06-01"],
        # --- reconciliation ---
        "reconcile.claim:method": ["bank", "wechat"],
        "reconcile.claim:paid_on": ["2026-06-10"],
        "reconcile.claim:photo": [valid_photo()],
        "reconcile.explain:explanation": ["bank_fee", "other"],
        "reconcile.confirm:target": ["payment:1", "claim:1"],
        "reconcile.reject:target": ["payment:1", "claim:1"],
        "reconcile.import_statement:file": [valid_statement()],
        # --- the maintenance fund ---
        "fund.record_balance:photo": [valid_photo()],
        "fund.record_balance:building": [""],
        "fund.new_application:units": [
            [str(u.id) for u in world.branch.buildings[0].units],
            [str(first_unit(world.trust).id)],
        ],
        "fund.new_application:work": [""],
        "fund.new_application:kind": ["road", "other"],
        "fund.new_application:split": ["area", "equal"],
        "fund.put_to_vote:closes_on": ["2030-01-01"],
        "fund.put_to_vote:opens_on": ["2029-12-01"],
        "fund.disburse:photo": [valid_photo()],
        "fund.disburse:amount": ["10", "1,000"],
        "fund.work_payment:photo": [valid_photo()],
        "fund.work_payment:payer": ["common_income", "government"],
        # --- problems ---
        "problems.create:kind": ["default:sanitation", "default:safety"],
        "problems.create:source": ["complaint", "suggestion", "assisted"],
        "problems.create:severity": ["normal", "urgent"],
        "problems.create:photos": [valid_photo()],
        "problems.community_new:kind": ["default:safety"],
        "problems.community_new:source": ["survey", "hotline"],
        "problems.community_new:severity": ["normal"],
        "problems.community_new:photos": [valid_photo()],
        "problems.set_level:level": ["community", "committee", "cadre"],
        "problems.move:move": ["reply", "fix", "escalate", "decline", "verify", "reopen"],
        "problems.move:photos": [valid_photo()],
        "problems.to_repair:category": ["plumbing", "electrical"],
        "problems.from_answer:kind": ["default:safety"],
        "problems.hotline_import:file": [valid_hotline(world)],
        "problems.change_kind:change": ["rename", "up", "down", "retire", "restore"],
        "problems.grids:buildings": [[]],
        "problems.grid:buildings": [[]],
        "problems.grid_worker:mobile": [user("网格员").mobile],
        # --- end problems ---
        # --- rectification and inspections ---
        "rectify.create:problems": [
            [str(i)]
            for i in db.session.scalars(
                select(Problem.id)
                .where(Problem.compound_id.in_([world.branch.id, world.trust.id]))
                .order_by(Problem.id.desc())
                .limit(2)
            )
        ]
        or [[""]],
        "rectify.create:kind": ["livelihood", "dispute"],
        "rectify.create:level": ["compound", "community"],
        "rectify.create:work": [""],
        "rectify.create:owner": [""],
        "rectify.create:due_on": ["2030-01-01"],
        "rectify.note:photos": [valid_photo()],
        "rectify.complete:photos": [valid_photo()],
        "rectify.verify:verdict": ["accept", "reject"],
        "rectify.verify:rating": ["", "5"],
        "rectify.agreement:photo": [valid_photo()],
        "rectify.hours:volunteer": [""],
        "rectify.hours:on": ["2026-06-01"],
        "rectify.move_item:direction": ["up", "down"],
        "rectify.record:passed": ["passed", "failed"],
        "rectify.record:photo": [valid_photo()],
        # --- the committee's make-up ---
        "committees.new_member:kind": [str(k) for k in LABELS["member_kind"]],
        "committees.edit_member:kind": [str(k) for k in LABELS["member_kind"]],
        "chair_appointed": [str(c) for c in LABELS["chair_appointment"]],
        "chair_appointment": [str(c) for c in LABELS["chair_appointment"]],
        "committees.chair:chair_appointed_on": ["", "2026-06-01"],
        "committees.rules:min_members": ["5", "3"],
        "committees.rules:max_members": ["11", "9"],
        "committees.rules:owners_pct": ["50", "60"],
        "committees.rules:max_term_years": ["3", "5"],
        # --- end the committee's make-up ---
        # --- the transition ---
        "transition.start:target": ["owners_committee", "property_company"],
        # Steps are recorded on a day not before the step they follow (the vote closed today).
        **{
            f"transition.{endpoint}:happened_on": [clock.today().isoformat()]
            for endpoint in ("preparation", "assembly", "elected", "company", "filing", "handover")
        },
        "transition.handover:rights_end_on": [clock.today().isoformat()],
        "transition.assembly:vote": [
            str(i)
            for i in db.session.scalars(
                select(Vote.id).where(Vote.matter == "committee").order_by(Vote.id)
            )
        ]
        or [""],
        "transition.company:credit_code": ["91350100M000100Y43", "91110000100000000R"],
        **{
            f"transition.{endpoint}:{field}_{n}": [value]
            for endpoint, rows in (
                ("preparation", PREPARATION),
                ("elected", ELECTED),
            )
            for n, row in enumerate(rows, start=1)
            for field, value in zip(("person", "role"), row, strict=True)
        },
        **{
            f"transition.{endpoint}:{field}_{n}": [""]
            for endpoint in ("preparation", "elected")
            for field in ("person", "role")
            for n in range(6, 12)
        },
        # --- end the transition ---
    }


def valid_for(valid: dict[str, list[Any]], name: str, kind: str, endpoint: str = "") -> list[Any]:
    return valid.get(f"{endpoint}:{name}") or valid.get(name) or valid[kind]


HEADER = [title for title, _aliases in importer.COLUMNS.values()]


def csv_upload(rows: list[list[str]], encoding: str = "utf-8-sig", raw: bool = False) -> Upload:
    if raw:
        text = "\n".join(",".join(row) for row in rows)
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        text = buffer.getvalue()
    cells = tuple(cell for row in rows for cell in row)
    return Upload(text.encode(encoding, errors="replace"), "名册.csv", "text/csv", cells)


def xlsx_upload(rows: list[list[str]]) -> Upload:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook()
    clean = [[ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row] for row in rows]
    for row in clean:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return Upload(
        buffer.getvalue(),
        "名册.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        tuple(cell for row in clean for cell in row),
    )


def valid_csv() -> Upload:
    return csv_upload([HEADER, ["7号楼", "1单元", "101", "68.5", "自住", "张秀英", "", "业主"]])


def image_upload(fmt: str = "JPEG", size: tuple[int, int] = (16, 12), mode: str = "RGB") -> Upload:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, fmt)
    return Upload(buffer.getvalue(), f"photo.{fmt.lower()}", f"image/{fmt.lower()}")


def valid_statement() -> Upload:
    """A bank statement of one line (the reconciliation import)."""
    return csv_upload(
        [
            ["交易日期", "摘要", "收入金额", "支出金额", "对方户名", "附言", "流水号"],
            ["2026-06-10", "转账", "120.00", "", "张三", "7-1-101", "HOSTILE-1"],
        ]
    )


def valid_photo() -> Upload:
    return image_upload()


def valid_hotline(world: World) -> Upload:
    """A 12345 export of one ticket (the problems' hotline import)."""
    from compound_app.problems.hotline import COLUMNS

    return xlsx_upload(
        [
            list(COLUMNS),
            ["GD9", "2026-06-10 09:30", "张三", "", world.community.name, "", "安全隐患", "噪音"],
        ]
    )


def valid_pdf() -> Upload:
    from compound_app.archive.pdf import simple_pdf

    return Upload(simple_pdf("管理规约", ["第一条"]), "规约.pdf", "application/pdf")


# --- the fixed payloads of the deterministic test --------------------------------------------

NASTIEST: list[Any] = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "a\x00b",
    "\u202e\u200b😀",
    "9" * 400,
    "9" * 5000,  # more digits than int() converts
    "1e309",
    "１２３",
    "1391234567٣",  # a mobile ending in an Arabic-Indic digit
    "፩",  # a digit int() refuses
    long_text("<b>x</b>"),
    ["1", "<script>alert(1)</script>"],
    Upload(b"<b>x</b>", "x.txt", "text/plain"),  # a file where text belongs
    OMIT,
]
# A choice from a list is either one of its options or refused: fewer payloads suffice.
NASTY_CHOICES: list[Any] = [
    '"><img src=x onerror=alert(1)>',
    "a\x00b",
    "9" * 5000,
    ["1", "<script>alert(1)</script>"],
    OMIT,
]
NASTY_FILES: list[Any] = [
    Upload(b"\x00\xff\xfe garbage \x89PNG", "名册.csv"),
    Upload(b"PK\x03\x04" + b"\x00" * 64, "名册.xlsx"),
    Upload(b"MZ\x90\x00 not a spreadsheet", "evil.exe", "application/x-msdownload"),
    Upload(b"", "empty.csv"),
    Upload(b"a,b\n", ""),
    Upload("楼栋,单元\n1号楼,1单元\n".encode(), "../../etc/passwd"),
    Upload(b"\xd5\xc5\xc8\xfd,\xff\xfe\n", "gbk-or-not.csv"),
    Upload(b'"unterminated,\n"', "bad.csv"),
    Upload(b"x" * (4 * 1024 * 1024 + 10), "big.csv"),
    csv_upload([HEADER, *[["1号楼", "1单元", str(n), "50", "", "", "", ""] for n in range(5003)]]),
    csv_upload([HEADER, [*HTML[:4], "9" * 5000, "<b>x</b>", "٣٤٥٦٧٨٩٠١٢٣", "业主"]]),
    csv_upload([HEADER, ["1号楼", "1单元", "፩", "68.5", "自住", "", "", ""]]),
    csv_upload([HEADER, ["1号楼", "1单元", "101", "9" * 5000, "自住", "", "", ""]]),
    csv_upload([HEADER, ["<script>alert(1)</script>", "1单元", "101", "1e309", "", "", "", ""]]),
    csv_upload([["<script>alert(1)</script>", "a"], ["b", "c"]]),
    csv_upload([HEADER, ["1号楼", "1单元", "101", "68.5", "自住", "张三", "1391234567٣", "业主"]]),
    xlsx_upload([HEADER, [*HTML[:4], "NaN", '"><img src=x onerror=alert(1)>', "", "租户"]]),
    "not a file at all",
    OMIT,
]
NASTY_PHOTOS: list[Any] = [
    Upload(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "x.jpg", "image/jpeg"),
    Upload(b"<html><script>alert(1)</script></html>", "x.jpg", "image/jpeg"),
    Upload(b"\xff\xd8\xff\xe0 cut short", "x.jpg", "image/jpeg"),
    Upload(b"GIF89a\x01\x00\x01\x00 broken", "x.gif", "image/gif"),
    Upload(b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024), "big.jpg", "image/jpeg"),
    image_upload("PNG", (9000, 9000), "1"),  # a decompression bomb: 81 megapixels
    image_upload("TIFF"),  # a real image of a kind not accepted
    [image_upload() for _ in range(7)],  # one more than a task takes
    [image_upload(), Upload(b"<svg/>", "<b>x</b>.jpg")],  # one bad one spoils them all
    *NASTY_FILES[:6],
    "not a file at all",
    OMIT,
]
NASTY_TOKENS: list[Any] = [
    Token("other_compound"),
    Token("other_user"),
    Token("forged"),
    Token("truncated"),
    "<script>alert(1)</script>",
    "a\x00b",
    long_text("x"),
    OMIT,
]


# --- the harness ----------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.records.append(text)


TAG = re.compile(r"<[A-Za-z]")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:150] + f"…({len(text)} chars)"


class Scope:
    """The objects a role's URLs point at: a compound and a unit (with its first home)."""

    def __init__(self, compound: Compound, unit: Unit) -> None:
        self.ids: dict[str, object] = {
            "compound_id": compound.id,
            "community_id": compound.community_id,
            "building_id": unit.building_id,
            "unit_id": unit.id,
            "household_id": unit.households[0].id,
            "ext": "csv",
        }


class Harness:
    """Clients signed in as every role, URLs filled with objects in each role's scope."""

    def __init__(self, app: Flask, world: World, login_as: Any, build: bool = True) -> None:
        self.app, self.world, self._login_as = app, world, login_as
        self.rules = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint != "static"}
        self.clients: dict[str, Any] = {}
        self.tables = [t for t in db.metadata.sorted_tables if t.name not in UNCHECKED_TABLES]
        self.snapshot_query = _snapshot_query(self.tables, db.engine.dialect.name)
        # The last snapshot stays true until a statement may have written to a checked
        # table: most requests are refused and write nothing, and need no new snapshot.
        self.state: dict[str, str | None] | None = None
        self.dirty = True
        self.snapshots = 0
        event.listen(db.engine, "before_cursor_execute", self._watch)
        self.log = _Collect()
        app.logger.addHandler(self.log)
        self.probed: dict[str, dict[str, int]] = {}
        self.made: dict[str, int] = {}  # messages: rows made once per role (args)
        self.requests = 0
        self.statuses: dict[int, int] = {}
        self.writes = 0  # requests that changed something: proof the forms were processed
        # Form classes each route processed (filled while ``recording``, see the test).
        self.forms_seen: dict[str, set[type]] = {}
        self.recording: set[type] | None = None
        if build:
            self._build(world)

    def _build(self, world: World) -> None:
        """Objects of every area in each role's scope; their ids go into the scopes."""
        w = world
        branch = w.branch
        # A unit without the rep in it, so staff replacing its representative leave the
        # "rep" role its seat.
        spare = branch.buildings[0].units[1]
        self.scopes = {
            "admin": Scope(w.trust, first_unit(w.trust)),
            "staff": Scope(branch, spare),
            "other_staff": Scope(w.elsewhere, first_unit(w.elsewhere)),
            "committee": Scope(branch, spare),
            "area_committee": Scope(w.contiguous[0], first_unit(w.contiguous[0])),
            "rep": Scope(branch, first_unit(branch)),
            "resident": Scope(branch, first_unit(branch)),
            "tenant": Scope(w.trust, first_unit(w.trust)),
            "outsider": Scope(branch, first_unit(branch)),
            ANONYMOUS: Scope(branch, first_unit(branch)),
        }
        # People the staff may manage, who are none of the roles above.
        self.victims = {
            w.community.id: self._victim("甲方", branch.buildings[1].units[0].households[0]),
            w.other_community.id: self._victim("乙方", first_unit(w.elsewhere).households[0]),
        }
        self.victims[0] = self.victims[w.community.id]
        # A plain member in every committee (ending a term must not unseat a role).
        committees.create_committee(w.elsewhere.area, "供电家属院物管会", days_ago(165))
        db.session.flush()
        self.members: dict[int, int] = {}
        for area in (branch.area, w.contiguous_area, w.elsewhere.area):
            committee = committees.committee_for_area(area.id)
            member_user = user("委员")
            self.members[area.id] = committees.add_member(
                committee,
                name=member_user.name,
                mobile=member_user.mobile,
                position=Position.MEMBER,
                background=Background.KEEN_RESIDENT,
                term_start=days_ago(165),
                term_end=days_ago(-930),
                actor=None,
            ).id
        self.members[0] = self.members[branch.area_id]
        db.session.commit()
        # A schedule, a payment, a hand-over and an expense in every role's area.
        fees = {
            branch.id: fee_objects(branch, w.users["rep"], w.users["committee"]),
            w.trust.id: fee_objects(w.trust, w.users["admin"], w.users["staff"]),
            w.elsewhere.id: fee_objects(
                w.elsewhere, w.users["other_staff"], w.users["other_staff"]
            ),
            w.contiguous[0].id: fee_objects(
                w.contiguous[0], w.users["area_committee"], w.users["area_committee"]
            ),
        }
        for scope in self.scopes.values():
            scope.ids.update(fees[scope.ids["compound_id"]])
        # A contract with a receipt in every role's area (common-part income).
        income = {
            branch.id: income_objects(branch, w.users["committee"]),
            w.trust.id: income_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: income_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: income_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(income[scope.ids["compound_id"]])
        # A reported task with a photo, a work, a facility and a meeting in every compound.
        repairs = {
            branch.id: repair_objects(branch, w.users["resident"], w.users["committee"]),
            w.trust.id: repair_objects(w.trust, w.users["tenant"], w.users["staff"]),
            w.elsewhere.id: repair_objects(
                w.elsewhere, w.users["other_staff"], w.users["other_staff"]
            ),
            w.contiguous[0].id: repair_objects(
                w.contiguous[0], w.users["area_committee"], w.users["area_committee"]
            ),
        }
        for scope in self.scopes.values():
            scope.ids.update(repairs[scope.ids["compound_id"]])
        # Each compound a pilot with a milestone, an open vote with a ballot, a consultation.
        asked = {
            branch.id: pilot_vote_objects(branch, w.users["committee"]),
            w.trust.id: pilot_vote_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: pilot_vote_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: pilot_vote_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(asked[scope.ids["compound_id"]])
        # --- public links: the posters every scope's pages print already have their link,
        # so showing them (the works board, a stairwell's arrears notice) writes nothing ---
        for scope in self.scopes.values():
            public_links.link_for(LinkKind.WORKS_BOARD, scope.ids["compound_id"])
            public_links.link_for(LinkKind.ARREARS, scope.ids["unit_id"])
        db.session.commit()
        # --- end public links ---
        # --- notices: a 公示 with a photo in every compound ---
        told = {
            branch.id: notice_objects(branch, w.users["committee"]),
            w.trust.id: notice_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: notice_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: notice_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(told[scope.ids["compound_id"]])
        # --- archive: a covenant in every area, and an expense with a voucher ---
        kept = {
            branch.id: archive_objects(branch, w.users["committee"]),
            w.trust.id: archive_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: archive_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: archive_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(kept[scope.ids["compound_id"]])
        # --- reconciliation: a statement with a line, a bank fee explained, a claim ---
        reconciled = {
            branch.id: recon_objects(branch, w.users["committee"]),
            w.trust.id: recon_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: recon_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: recon_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(reconciled[scope.ids["compound_id"]])
        # --- the maintenance fund: a statement, an application paid out, a paid work ---
        funds = {
            branch.id: fund_objects(branch, w.users["committee"]),
            w.trust.id: fund_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: fund_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: fund_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(funds[scope.ids["compound_id"]])
        # --- problems: a problem with a photo, a grid, a kind and an answer in every scope ---
        listed = {
            branch.id: problem_objects(branch, w.users["committee"]),
            w.trust.id: problem_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: problem_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: problem_objects(w.contiguous[0], w.users["area_committee"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(listed[scope.ids["compound_id"]])
        # --- rectification: a project with a photo, an open problem, a visit recorded ---
        rectified = {
            branch.id: rectify_objects(branch, w.users["staff"]),
            w.trust.id: rectify_objects(w.trust, w.users["staff"]),
            w.elsewhere.id: rectify_objects(w.elsewhere, w.users["other_staff"]),
            w.contiguous[0].id: rectify_objects(w.contiguous[0], w.users["staff"]),
        }
        for scope in self.scopes.values():
            scope.ids.update(rectified[scope.ids["compound_id"]])
        # --- the transition: every area's at its first assembly, whose vote passed ---
        transition_objects(branch, w.users["committee"])
        transition_objects(w.trust, w.users["staff"])
        transition_objects(w.elsewhere, w.users["other_staff"])
        transition_objects(w.contiguous[0], w.users["area_committee"])
        self.valid = valid_values(world)

    def close(self) -> None:
        event.remove(db.engine, "before_cursor_execute", self._watch)
        self.app.logger.removeHandler(self.log)

    def _watch(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.dirty and writes_checked_table(statement):
            self.dirty = True

    def _victim(self, name: str, household: Household) -> tuple[int, int]:
        u = user(name, resident=household.id)
        roster.add_occupant(household, name, u.mobile, Relation.OWNER).user_id = u.id
        db.session.commit()
        return u.id, household.id

    # --- clients and URLs -------------------------------------------------------------

    def roles(self, endpoint: str) -> list[str]:
        return [*ROLES, ANONYMOUS] if endpoint in PUBLIC_ENDPOINTS else list(ROLES)

    def client(self, role: str) -> Any:
        if role not in self.clients:
            if role == ANONYMOUS:
                self.clients[role] = self.app.test_client()
            else:
                u = self.world.users[role]
                # A changed password or a disabled account would keep the role out.
                u.password_hash, u.is_enabled = hash_password(PASSWORD), True
                db.session.execute(delete(LoginAttempt))
                self.clients[role] = self._login_as(u)
        return self.clients[role]

    def args(self, role: str, endpoint: str) -> dict[str, object]:
        """URL arguments in the role's scope; what earlier requests may have moved or
        deleted (area membership, occupants, grants) is looked up afresh."""
        scope = self.scopes[role]
        wanted = set(self.rules[endpoint].arguments)
        args: dict[str, object] = dict(scope.ids)
        if "occupant_id" in wanted:
            args["occupant_id"] = self._occupant(scope.ids["household_id"])
        # --- public links: the scope's works board, live (made again after a revoke) ---
        if wanted & {"token", "link_id"}:
            link = public_links.link_for(LinkKind.WORKS_BOARD, scope.ids["compound_id"])
            args["token"], args["link_id"] = link.token, link.id
        # --- end public links ---
        # --- messages: the role's own message, a failed SMS to someone in its scope ---
        if "message_id" in wanted:
            args["message_id"] = self._own_message(role)
        if "outbox_id" in wanted:
            args["outbox_id"] = self._failed_sms(role, scope.ids["household_id"])
        if "grant_id" in wanted or "user_id" in wanted:
            victim, home = self.victims.get(scope.ids["community_id"], self.victims[0])
            args["user_id"], args["grant_id"] = victim, self._victim_grant(victim, home)
        if wanted & {"area_id", "member_id"}:
            area_id = db.session.scalar(
                select(Compound.area_id).where(Compound.id == scope.ids["compound_id"])
            )
            args["area_id"] = area_id
            args["member_id"] = self.members.get(area_id, self.members[0])
        if endpoint in ("registry.add_to_area", "registry.remove_from_area") and role in (
            "admin",
            "staff",
            "committee",
            "area_committee",
        ):
            # The contiguous area (and its last compound), so the form is processed for real.
            args["area_id"] = self.world.contiguous_area.id
            args["compound_id"] = db.session.scalar(
                select(func.max(Compound.id)).where(Compound.area_id == args["area_id"])
            )
        return args

    def _own_message(self, role: str) -> int:
        from compound_app.messages.models import Kind
        from compound_app.messages.service import notify

        key = f"message:{role}"
        if key not in self.made:
            (message,) = notify([self.world.users[role]], Kind.NOTICE, "通知", "/")
            db.session.commit()
            self.made[key] = message.id
        return self.made[key]

    def _failed_sms(self, role: str, household_id: int) -> int:
        from compound_app.messages.models import OutboxStatus
        from compound_app.messages.service import enqueue_sms

        key = f"sms:{role}"
        if key not in self.made:
            mobile = db.session.scalar(
                select(func.min(Occupant.mobile)).where(Occupant.household_id == household_id)
            )
            row = enqueue_sms(mobile or self.world.users[role].mobile, "repair", {"title": "维修"})
            row.status = OutboxStatus.FAILED
            db.session.commit()
            self.made[key] = row.id
        return self.made[key]

    def _occupant(self, household_id: int) -> int:
        found = db.session.scalar(
            select(func.min(Occupant.id)).where(Occupant.household_id == household_id)
        )
        if found is None:  # deleted by an earlier request: the route needs one
            household = db.session.get(Household, household_id)
            found = roster.add_occupant(household, "补录住户", None, Relation.FAMILY)
            db.session.flush()
            found = found.id
        return found

    def _victim_grant(self, victim: int, home: int) -> int:
        found = db.session.scalar(
            select(RoleGrant.id).where(RoleGrant.user_id == victim, RoleGrant.role == Role.RESIDENT)
        )
        if found is None:  # revoked by an earlier request
            row = grant(db.session.get(User, victim), Role.RESIDENT, home)
            db.session.flush()
            found = row.id
        return found

    def url(self, role: str, endpoint: str) -> str:
        return _url(self.rules[endpoint], self.args(role, endpoint))

    def token(self, role: str, kind: str) -> str:
        uid = self.world.users[role].id if role in self.world.users else 0
        cid = self.scopes[role].ids["compound_id"]
        if kind == "other_compound":
            cid = (
                self.world.elsewhere.id if cid != self.world.elsewhere.id else self.world.branch.id
            )
        elif kind == "other_user":
            uid = self.world.users["outsider"].id
        rows = [importer.Row(line=2, building="7号楼", unit="1单元", room="909", area_dm2=6850)]
        payload = {"c": cid, "u": uid, "rows": importer.rows_to_payload(rows)}
        key = self.app.config["SECRET_KEY"] if kind != "forged" else "not-the-key-0123456789"
        token = URLSafeSerializer(key, salt="roster-import").dumps(payload)
        return token[:-5] if kind == "truncated" else token

    # --- one request, every check -----------------------------------------------------

    def snapshot(self) -> dict[str, str | None]:
        """Every checked table as JSON text (see ``_snapshot_query``), read again only when
        a statement since the last reading may have written to one of them."""
        if self.dirty or self.state is None:
            self.dirty = False
            self.state = dict(db.session.execute(self.snapshot_query).one()._mapping)
            self.snapshots += 1
        return self.state

    def _encode(self, role: str, fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        data: dict[str, Any] = {}
        sent: list[str] = []

        def one(value: Any) -> Any:
            if isinstance(value, Token):
                value = self.token(role, value.kind)
            if isinstance(value, Upload):
                sent.extend((value.filename, *value.cells))
                return (io.BytesIO(value.data), value.filename, value.content_type)
            sent.append(value)
            return value

        for name, value in fields.items():
            if value is OMIT:
                continue
            if isinstance(value, list):
                flat = [x for v in value for x in (v if isinstance(v, list) else [v])]
                data[name] = [one(v) for v in flat]
            else:
                data[name] = one(value)
        return data, sent

    def send(
        self,
        role: str,
        endpoint: str,
        fields: dict[str, Any],
        *,
        htmx: str | None = None,
        raw_body: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> int:
        """POST ``fields`` to ``endpoint`` as ``role``, check everything; return the status."""
        client = self.client(role)
        url = self.url(role, endpoint)
        data, sent = self._encode(role, fields)
        db.session.execute(delete(LoginAttempt))  # keep the rate limit from hiding the forms
        before = self.snapshot()
        if htmx:
            htmx = htmx.format(**self.args(role, endpoint))
        headers = {"HX-Request": "true", "HX-Target": htmx} if htmx else {}
        self.log.records.clear()
        self.recording = self.forms_seen.setdefault(endpoint, set())
        if raw_body is not None:
            response = client.post(url, data=raw_body, headers=headers, content_type=content_type)
        else:
            response = client.post(url, data=data, headers=headers)
        self.recording = None
        self.requests += 1
        where = f"{role} POST {url} {_short(fields)}{' htmx→' + htmx if htmx else ''}"
        status = response.status_code
        assert status < 500, f"{where} → {status}\n" + "\n".join(self.log.records)
        # Nobody else writes during this test: a constraint the database had to enforce
        # (answered 409) is a check the form or the service is missing.
        assert status != 409, f"{where} → 409\n" + "\n".join(self.log.records)
        _check_escaped(response.get_data(as_text=True), sent, where)
        after = self.snapshot()
        location = response.headers.get("HX-Redirect") or response.headers.get("Location")
        if location:
            _check_local(location, where)
        follow = (
            location is not None
            and not location.startswith("/auth/login")
            and status in (204, 302, 303)
        )
        # Flashes stay for the page the redirect leads to, which shows (and drops) them.
        flashes = self._flashes(client, clear=not follow)
        refused = (
            status >= 400 or any(cat == "error" for cat, _ in flashes) or endpoint in WRITES_NOTHING
        )
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if refused:
            _check_unchanged(before, after, f"{where} → {status} {flashes}")
        elif after != before:
            self.writes += 1
            _check_clean(self.tables, before, after, where)
        if follow:
            page = client.get(location)
            assert page.status_code < 500, f"{where} → {location} → {page.status_code}"
            _check_escaped(page.get_data(as_text=True), sent, f"{where} → {location}")
            self._flashes(client, clear=True)
        if endpoint == "auth.logout" or (endpoint in SESSION_ROUTES and status == 303):
            self.clients.pop(role, None)  # sign in again (or stay out), with the known password
        return status

    def _flashes(self, client: Any, clear: bool = False) -> list[tuple[str, str]]:
        with client.session_transaction() as session:
            return session.pop("_flashes", []) if clear else list(session.get("_flashes", []))

    def get(self, role: str, endpoint: str, query: dict[str, Any]) -> int:
        """GET ``endpoint`` with a hostile query string as ``role``; it must write nothing."""
        client = self.client(role)
        url = self.url(role, endpoint)
        before = self.snapshot()
        self.log.records.clear()
        response = client.get(url, query_string=query)
        self.requests += 1
        where = f"{role} GET {url} {_short(query)}"
        assert response.status_code < 500, f"{where} → {response.status_code}\n" + "\n".join(
            self.log.records
        )
        sent = [
            v for value in query.values() for v in (value if isinstance(value, list) else [value])
        ]
        if response.mimetype.startswith("text/"):  # a spreadsheet echoes nothing to a browser
            _check_escaped(response.get_data(as_text=True), sent, where)
        location = response.headers.get("HX-Redirect") or response.headers.get("Location")
        if location:
            _check_local(location, where)
        _check_unchanged(before, self.snapshot(), where)
        self._flashes(client, clear=True)
        return response.status_code

    def probe(self, endpoint: str) -> dict[str, int]:
        """Each role's answer to an empty POST: who gets past the access check."""
        if endpoint not in self.probed:
            self.probed[endpoint] = {
                role: self.send(role, endpoint, {}) for role in self.roles(endpoint)
            }
        return self.probed[endpoint]

    def admitted(self, endpoint: str) -> list[str]:
        answers = self.probe(endpoint)
        return [role for role, status in answers.items() if status not in (302, 403, 404)]


def _check_escaped(body: str, sent: list[str], where: str) -> None:
    for value in sent:
        if not isinstance(value, str) or not TAG.search(value):
            continue
        for form in {value, clean_text(value)}:
            if TAG.search(form):
                assert form not in body, f"{where}: {_short(form)} echoed unescaped"
        for piece in HTML:
            if piece in value:
                assert piece not in body, f"{where}: {piece!r} echoed unescaped"


def _check_local(location: str, where: str) -> None:
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, f"{where}: redirect off-site to {location!r}"
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), (where, location)
    assert not any(ord(ch) < 32 for ch in location), (where, location)


# The tables a statement writes to. Anything else that looks like a write (a trigger, a
# statement this does not parse) counts as a write to a checked table.
WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE|MERGE|TRUNCATE|ALTER|DROP|CREATE)\b", re.I)
TARGET = re.compile(
    r"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?\s", re.I
)
LOCKING = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b(\s+OF\s+[\w\", ]+)?", re.I)


def writes_checked_table(statement: str) -> bool:
    statement = LOCKING.sub(" ", statement)
    if not WRITE.search(statement):
        return False
    targets = TARGET.findall(statement + " ")
    writes = len(WRITE.findall(statement))
    if len(targets) < writes:  # a write this does not understand: assume the worst
        return True
    return any(name.lower() not in UNCHECKED_TABLES for name in targets)


def _snapshot_query(tables: list[Table], dialect: str) -> Any:
    """One statement that returns every row of every table, a JSON array per table.

    Thirty queries per request (before and after) were half the run time on PostgreSQL.
    The append-only audit log is summed up by its count and last id.
    """
    columns = []
    for t in tables:
        key = list(t.primary_key.columns)
        if dialect == "postgresql":
            if t.name == "audit_log":
                agg = func.json_build_array(func.count(), func.max(t.c.id))
            else:
                agg = func.json_agg(aggregate_order_by(func.json_build_array(*t.c), *key))
            query = select(cast(agg, Text))
        elif t.name == "audit_log":
            query = select(func.json_array(func.count(), func.max(t.c.id)))
        else:
            rows = select(t).order_by(*key).subquery()
            query = select(func.json_group_array(func.json_array(*rows.c)))
        columns.append(query.scalar_subquery().label(t.name))
    return select(*columns)


def _rows(snapshot: dict[str, str | None], name: str) -> list[tuple[Any, ...]]:
    # JSON columns (a published board's figures) come back as objects: kept as text here.
    return [
        tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for v in row)
        for row in json.loads(snapshot[name] or "[]")
    ]


def _check_unchanged(before: dict[str, Any], after: dict[str, Any], where: str) -> None:
    changed = {
        name: (len(_rows(before, name)), len(_rows(after, name)))
        for name in after
        if after[name] != before[name]
    }
    assert not changed, f"{where}: refused, yet wrote to {changed} (rows before, after)"


MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _check_clean(tables: list[Table], before: dict, after: dict, where: str) -> None:
    """Whatever a successful request stored is clean text that fits its column."""
    for table in tables:
        if table.name == "audit_log" or after[table.name] == before[table.name]:
            continue
        old = set(_rows(before, table.name))
        for row in _rows(after, table.name):
            if row in old:
                continue
            for column, value in zip(table.columns, row, strict=True):
                if not isinstance(value, str) or column.name in MACHINE_COLUMNS:
                    continue
                what = f"{where}: {table.name}.{column.name} = {_short(value)}"
                assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value), what
                if isinstance(column.type, String) and column.type.length:
                    assert len(value) <= column.type.length, what
                if column.name == "mobile":
                    assert MOBILE.fullmatch(value), what


# SQLite: the harness's objects are built by the first test of a worker; its database
# file, uploads and ids are kept, and every later test starts from a copy of them.
_BUILT: dict[str, Any] = {}


def _database_file(app: Flask) -> Path:
    return Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


def _built_harness(
    app: Flask, world: World, login_as: Any, world_ids: dict[str, Any], cache: Path
) -> Harness:
    path, uploads = _database_file(app), Path(app.instance_path) / "uploads"
    if not _BUILT:
        h = Harness(app, world, login_as)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the last connection to close folds the WAL into the file
        keep = cache
        shutil.copyfile(path, keep / "harness.db")
        if uploads.exists():
            shutil.copytree(uploads, keep / "uploads")
        _BUILT.update(
            folder=keep,
            scopes={role: dict(scope.ids) for role, scope in h.scopes.items()},
            victims=dict(h.victims),
            members=dict(h.members),
        )
    else:
        db.session.remove()
        db.engine.dispose()
        keep = _BUILT["folder"]
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)
        shutil.copyfile(keep / "harness.db", path)
        if (keep / "uploads").exists():
            shutil.copytree(keep / "uploads", uploads, dirs_exist_ok=True)
        h = Harness(app, world, login_as, build=False)
        h.scopes = {}
        for role, ids in _BUILT["scopes"].items():
            scope = Scope.__new__(Scope)
            scope.ids = dict(ids)
            h.scopes[role] = scope
        h.victims, h.members = dict(_BUILT["victims"]), dict(_BUILT["members"])
    h.world = load_world(world_ids)
    h.valid = valid_values(h.world)
    return h


@pytest.fixture
def harness(
    app: Flask,
    world: World,
    login_as: Any,
    database_template: Template,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    if PG_URL:
        h = Harness(app, world, login_as)
    else:
        cache = _BUILT.get("folder") or tmp_path_factory.mktemp("harness")
        h = _built_harness(app, world, login_as, database_template.world_ids, cache)
    yield h
    h.close()


# --- coverage -------------------------------------------------------------------------------


def test_every_post_route_is_attacked(app: Flask) -> None:
    posts = {r.endpoint for r in app.url_map.iter_rules() if r.methods and "POST" in r.methods}
    assert posts == set(FORMS), (
        f"add to FORMS: {sorted(posts - set(FORMS))}; gone: {sorted(set(FORMS) - posts)}"
    )
    for endpoint, spec in FORMS.items():
        # AppForm keeps uploads and JSON values away from text fields.
        assert isinstance(spec, dict) or issubclass(spec, AppForm), endpoint
        for kind in fields_of(endpoint).values():
            assert kind in KIND_VALUES, (endpoint, kind)


def test_the_harness_sees_every_write_to_a_checked_table() -> None:
    writes = [
        "INSERT INTO repair_task (compound_id, title) VALUES (?, ?)",
        'INSERT OR REPLACE INTO "user" (id) VALUES (?)',
        'UPDATE "user" SET name=%(name)s WHERE "user".id = %(id)s',
        "DELETE FROM login_attempt WHERE id = 1; DELETE FROM notice",
        "WITH gone AS (DELETE FROM bill RETURNING id) SELECT count(*) FROM gone",
        "INSERT INTO login_attempt (ip) VALUES (?) ON CONFLICT (ip) DO UPDATE SET n = 1",
        "CREATE TEMPORARY TABLE t (x int)",
    ]
    reads = [
        "SELECT user_session.id FROM user_session WHERE updated_at > ?",
        "SELECT bill.id FROM bill WHERE bill.id = %(id)s FOR UPDATE",
        "SELECT notice.id FROM notice FOR NO KEY UPDATE OF notice SKIP LOCKED",
        "INSERT INTO login_attempt (ip, at) VALUES (?, ?)",
        "UPDATE user_session SET last_seen_at=? WHERE user_session.id = ?",
        "DELETE FROM login_code WHERE expires_at < ?",
    ]
    assert [s for s in writes if not writes_checked_table(s)] == []
    assert [s for s in reads if writes_checked_table(s)] == []


# --- deterministic: the nastiest payloads, every route × every role ---------------------------


def _payloads(kind: str) -> list[Any]:
    if kind == "file":
        return NASTY_FILES
    if kind == "photos":
        return NASTY_PHOTOS
    if kind == "token":
        return NASTY_TOKENS
    if kind in ("select", "multi", "flag", "lang"):
        return NASTY_CHOICES
    if kind in TEXT_KINDS:
        return [v for v in NASTIEST if not _numeric_probe(v) and not _redundant(v, kind)]
    if kind in NUMBER_KINDS:
        return [v for v in NASTIEST if not _text_probe(v) and not _redundant(v, kind)]
    return NASTIEST


# What a number parser is tried with is no test of a free-text field, and the other way
# round: each field gets the fixed payloads that probe its kind, and all the common ones.
TEXT_KINDS = {"name", "label", "text", "password", "string"}
NUMBER_KINDS = {"money", "month", "date", "count", "id", "version", "area", "mobile"}


def _numeric_probe(value: Any) -> bool:
    return isinstance(value, str) and value in ("9" * 400, "1e309", "１２３", "1391234567٣", "፩")


def _redundant(value: Any, kind: str) -> bool:
    """Covered for every field of the kind by another payload: the attribute-breaking
    markup is the stricter test of escaping; for text, ten thousand characters of markup
    the stricter test of length (numbers keep both overflows: int64's and int()'s)."""
    if value == "<script>alert(1)</script>":
        return True
    return kind in TEXT_KINDS and isinstance(value, str) and value == "9" * 5000


def _text_probe(value: Any) -> bool:
    return isinstance(value, str) and (value == "\u202e\u200b😀" or len(value) > 5000)


# One test per blueprint, so the audit spreads over the suite's workers.
BLUEPRINTS = sorted({endpoint.split(".")[0] for endpoint in FORMS})


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_nastiest_payloads_on_every_route_as_every_role(
    harness: Harness, monkeypatch, blueprint: str
) -> None:
    h = harness
    endpoints = sorted(e for e in FORMS if e.split(".")[0] == blueprint)
    # Which forms the requests really processed: they must be the ones FORMS names.
    original = FlaskForm.__init__

    def recording_init(self: FlaskForm, *args: Any, **kwargs: Any) -> None:
        if h.recording is not None and not args and "formdata" not in kwargs:
            h.recording.add(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(FlaskForm, "__init__", recording_init)
    for endpoint in endpoints:
        fields = fields_of(endpoint)
        admitted = h.admitted(endpoint)
        valid = {name: valid_for(h.valid, name, kind, endpoint)[0] for name, kind in fields.items()}
        for role in h.roles(endpoint):
            # Every field hostile at once: refused by the access check or by the form.
            h.send(role, endpoint, dict.fromkeys(fields, "<script>alert(1)</script>"))
            if role in admitted:
                h.send(role, endpoint, dict.fromkeys(fields, "a\x00b"))
                h.send(role, endpoint, dict.fromkeys(fields, "9" * 400))
                h.send(role, endpoint, {name: ["1", "<b>x</b>", ""] for name in fields})
        # One field at a time, the others valid, as the first role that gets through.
        for role in admitted[:1]:
            for name, kind in fields.items():
                for payload in _payloads(kind):
                    h.send(role, endpoint, {**valid, name: payload})
            # Bytes that are not UTF-8 and broken percent-escapes.
            raw = "&".join(f"{name}=%ff%fe%00%zz%" for name in fields) or "x=%ff"
            h.send(role, endpoint, {}, raw_body=raw.encode())
            # JSON where a form belongs: numbers, lists, objects, nulls, or no object at all.
            for value in (123, [1, "<b>x</b>", None, {"a": 1}]):
                body = json.dumps(dict.fromkeys(fields or ["x"], value)).encode()
                h.send(role, endpoint, {}, raw_body=body, content_type="application/json")
            for body in (b"[1, 2]", b"{\xff"):
                h.send(role, endpoint, {}, raw_body=body, content_type="application/json")
            h.send(role, endpoint, valid, htmx="add-household-{unit_id}")
        for form_class in h.forms_seen.get(endpoint, ()):
            unknown = set(form_fields(form_class)) - set(fields)
            assert not unknown, f"{endpoint} processes {form_class.__name__}: add {unknown}"
    # The forms were really processed: many requests were refused by them (422), and
    # valid values for the other fields let some through to write. A button without
    # fields (mark as read, send again) has nothing to refuse with a 422.
    with_fields = [e for e in endpoints if fields_of(e)]
    assert (
        h.requests >= 40 * len(endpoints)
        and h.statuses.get(422, 0) >= 15 * max(len(with_fields), len(endpoints) // 2)
        and h.writes >= 1
    ), (h.requests, h.statuses, h.writes)


# --- the query strings of every page: search boxes, filters, paging ---------------------------

# What list pages, their search boxes and inline forms read from the query string.
QUERY_PARAMS = ["q", "model", "pilot", "community", "page", "close", "next", "month", "year"]
# The repair pages': task filters, a home or decision to report for, the live version.
QUERY_PARAMS += ["status", "category", "household", "decision", "kind", "v"]
# The problem register's: its level filter, and the source a filing form opens with.
QUERY_PARAMS += ["level", "source"]
# The three lists': their tab, sort and order.
QUERY_PARAMS += ["tab", "sort", "dir"]
# The transitions' list: its stage filter.
QUERY_PARAMS += ["stage"]


def _watching_queries(app: Flask, seen: list[str]) -> type:
    """A request class that notes in ``seen`` every parsing of the query string.

    Echoing it whole (``full_path`` and ``url``, in every page's language and text-size
    links) parses nothing: the first query, with markup in every value, checks that echo.
    """
    base = app.request_class

    def parsed(name: str) -> property:
        def read(self: Any) -> Any:
            seen.append(name)
            return getattr(super(cls, self), name)

        return property(read)

    def echoed(name: str) -> property:
        def read(self: Any) -> Any:
            self.__dict__["_echoing"] = True
            try:
                return getattr(super(cls, self), name)
            finally:
                self.__dict__["_echoing"] = False

        return property(read)

    def read_raw(self: Any) -> bytes:
        if not self.__dict__.get("_echoing"):
            seen.append("query_string")
        return self.__dict__["_raw_query"]

    def keep_raw(self: Any, value: bytes) -> None:  # Werkzeug sets it when it starts
        self.__dict__["_raw_query"] = value

    members = {
        "args": parsed("args"),
        "values": parsed("values"),
        "full_path": echoed("full_path"),
        "url": echoed("url"),
        "query_string": property(read_raw, keep_raw),
    }
    cls = type("QueryWatchingRequest", (base,), members)
    return cls


def test_hostile_query_strings_on_every_page(harness: Harness, monkeypatch) -> None:
    h = harness
    pages = sorted(e for e, r in h.rules.items() if r.methods and "GET" in r.methods)
    assert len(pages) > 20
    seen: list[str] = []
    monkeypatch.setattr(h.app, "request_class", _watching_queries(h.app, seen))
    readers = 0
    payloads = [
        '"><img src=x onerror=alert(1)>',
        "a\x00b",  # PostgreSQL refuses a NUL in a parameter
        "9" * 5000,
        "99999999999999999999999",  # beyond 64 bits
        "²",  # isdigit() says yes, int() says no
        "' OR 1=1 --",
        long_text("<b>x</b>"),
    ]
    for endpoint in pages:
        # The admin reaches every page; a resident the lists a resident sees.
        roles = (
            ["admin", "resident"] if endpoint in ("home.index", "registry.compounds") else ["admin"]
        )
        for role in roles:
            seen.clear()
            h.get(role, endpoint, dict.fromkeys(QUERY_PARAMS, payloads[0]))
            if not seen:
                continue  # the page never looks at its query string
            readers += 1
            for payload in payloads[1:]:
                h.get(role, endpoint, dict.fromkeys(QUERY_PARAMS, payload))
            h.get(role, endpoint, {name: ["1", "<b>x</b>"] for name in QUERY_PARAMS})
    # The watch works: the lists with search boxes, filters and paging read their queries.
    assert readers >= 20, readers


# --- Hypothesis: mixed hostile values, per route ---------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="<"), max_size=30)
PIECE = st.sampled_from(PIECES)
HOSTILE_TEXT = st.one_of(
    PIECE,
    TEXT,
    st.lists(st.one_of(PIECE, TEXT), min_size=2, max_size=4).map("".join),
    PIECE.map(long_text),
)
HOSTILE_NUMBER = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers().map(str),
    st.floats().map(str),
    st.decimals(allow_nan=True).map(str),
    st.integers(min_value=0, max_value=10**9).map(lambda n: str(n).translate(FULLWIDTH)),
)
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CELL = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, st.sampled_from(["1号楼", "1单元", "101", "68.5"]))
ROWS = st.lists(st.lists(CELL, min_size=1, max_size=9), min_size=0, max_size=3)
FILENAMES = [
    "名册.csv",
    "名册.xlsx",
    "x.txt",
    "x.exe",
    "",
    "../../x.csv",
    "<b>x</b>.csv",
    "a\x00.csv",
]
HOSTILE_FILE = st.one_of(
    st.builds(
        Upload,
        st.binary(max_size=300),
        st.sampled_from(FILENAMES),
        st.sampled_from(["text/csv", "application/octet-stream", "image/png", ""]),
    ),
    st.binary(max_size=200).map(lambda b: Upload(b"PK\x03\x04" + b, "名册.xlsx")),
    st.builds(
        csv_upload,
        st.one_of(st.just([HEADER]), ROWS).flatmap(lambda head: ROWS.map(lambda r: head + r)),
        st.sampled_from(["utf-8-sig", "utf-8", "gb18030", "utf-16"]),
        st.booleans(),
    ),
    ROWS.map(lambda rows: xlsx_upload([HEADER, *rows])),
    HOSTILE_TEXT,  # a plain value where a file belongs
)
HOSTILE_TOKEN = st.one_of(
    st.sampled_from([Token(k) for k in ("other_compound", "other_user", "forged", "truncated")]),
    HOSTILE_TEXT,
)
KIND_VALUES: dict[str, st.SearchStrategy[Any]] = dict.fromkeys(
    ("name", "label", "text", "select", "multi", "password"), HOSTILE_TEXT
)
KIND_VALUES.update(
    {
        kind: st.one_of(HOSTILE_NUMBER, HOSTILE_TEXT)
        for kind in (
            "mobile",
            "area",
            "date",
            "count",
            "flag",
            "string",
            "lang",
            "next",
            "money",
            "month",
            "key",
        )
    }
)
KIND_VALUES["next"] = st.one_of(
    st.sampled_from(
        [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/%2F/evil.example",
            "\\\\evil.example",
            "/ok\r\nSet-Cookie: x=1",
        ]
    ),
    HOSTILE_TEXT,
)
KIND_VALUES["file"] = HOSTILE_FILE
KIND_VALUES["photos"] = st.one_of(
    HOSTILE_FILE,
    st.sampled_from(NASTY_PHOTOS[:4]),
    st.lists(st.sampled_from([valid_photo(), NASTY_PHOTOS[0]]), min_size=2, max_size=7),
)
KIND_VALUES["id"] = KIND_VALUES["version"] = st.one_of(HOSTILE_NUMBER, HOSTILE_TEXT)
KIND_VALUES["token"] = HOSTILE_TOKEN


def field_value(kind: str, valid: list[Any]) -> st.SearchStrategy[Any]:
    """Shrinks towards a field left out; else hostile, repeated, empty, a file, or valid."""
    hostile = KIND_VALUES[kind]
    return st.one_of(
        st.just(OMIT),
        hostile,
        st.lists(st.one_of(hostile, st.sampled_from(valid)), min_size=2, max_size=3),
        st.just(""),
        st.builds(Upload, st.binary(max_size=50), st.sampled_from(FILENAMES)),
        st.sampled_from(valid),
    )


@st.composite
def form_data(
    draw: Any, fields: dict[str, str], valid: dict[str, list[Any]], endpoint: str = ""
) -> dict[str, Any]:
    """Valid values, with some fields (at least one, maybe all) replaced by hostile ones."""
    names = sorted(fields)
    attacked = draw(st.sets(st.sampled_from(names), min_size=1)) if names else set()
    data = {}
    for name in names:
        good = valid_for(valid, name, fields[name], endpoint)
        if name in attacked:
            data[name] = draw(field_value(fields[name], good), label=name)
        else:
            data[name] = draw(st.sampled_from(good), label=name)
    if draw(st.booleans()):
        # Fields no form has, as a mass-assignment attempt would send them.
        data.update(
            draw(
                st.dictionaries(
                    st.sampled_from(["id", "user_id", "is_enabled", "role", "csrf_token"]),
                    HOSTILE_TEXT,
                    max_size=2,
                )
            )
        )
    return data


HTMX_TARGETS = [
    None,
    None,
    "add-building",
    "add-unit-{building_id}",
    "add-household-{unit_id}",
    "household-{household_id}",
]


# Six examples per route: the fixed payloads above already send every nasty value of its
# kind to every field; Hypothesis adds mixtures of them, and each run (three per CI run)
# draws new ones.
HYPOTHESIS_SETTINGS = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _hostile_values(harness: Harness, endpoint: str) -> None:
    """Six generated requests on one route: its fields, a role, an htmx target."""

    @HYPOTHESIS_SETTINGS
    @given(data=st.data())
    def attack(data: Any) -> None:
        fields = fields_of(endpoint)
        admitted = harness.admitted(endpoint)
        roles = harness.roles(endpoint)
        # Half the examples as a role the route lets in, so the form is really processed.
        role = data.draw(
            st.one_of(st.sampled_from(admitted or roles), st.sampled_from(roles)), label="role"
        )
        form = data.draw(form_data(fields, harness.valid, endpoint), label="form")
        target = data.draw(st.sampled_from(HTMX_TARGETS), label="htmx")
        harness.send(role, endpoint, form, htmx=target)

    try:
        attack()
    except BaseException as failure:
        failure.add_note(f"route: {endpoint}")
        raise


# One test per blueprint: the harness (a world of four compounds and their records) is
# built once for all of a blueprint's routes, and the tests spread over the workers.
@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_hypothesis_hostile_values(harness: Harness, blueprint: str) -> None:
    for endpoint in sorted(e for e in FORMS if e.split(".")[0] == blueprint):
        _hostile_values(harness, endpoint)

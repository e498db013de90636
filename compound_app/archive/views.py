"""Archive pages: an area's archive, a document with its versions, uploading and
withdrawing, the tenants setting, and the itemised expenses behind the finance board
with their vouchers."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..fees import reports
from ..fees.models import Expense, ExpenseKind
from ..fields import new_key, parse_month, search_text
from ..forms import form_status, submit
from ..htmx import redirect_after_post, render
from ..months import add_months, month_of
from ..registry.models import ManagementArea
from ..security import accepts_uploads
from ..uploads import send_upload
from . import bp, service
from .forms import KIND_LABELS, DocumentForm, TenantsForm, VersionForm, WithdrawForm
from .models import DocKind, Document, DocumentVersion, FileKind

# --- the area's archive ---------------------------------------------------------------------


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    found = access.get_or_404(ManagementArea, area_id, Action.VIEW_ACCOUNTS)
    keeps = access.can(Action.KEEP_ARCHIVE, found)
    return render(
        "archive/area.html",
        area=found,
        groups=service.archive_of(found, access.principal(), keeps=keeps),
        keeps=keeps,
        open_to_tenants=access.open_to_tenants(found.id),
        tenants_form=TenantsForm(formdata=None),
        kind_labels=KIND_LABELS,
    )


@bp.post("/areas/<int:area_id>/tenants")
def tenants(area_id: int) -> Response:
    found = access.get_or_404(ManagementArea, area_id, Action.KEEP_ARCHIVE)
    form = TenantsForm()
    here = url_for(".area", area_id=found.id, _anchor="tenants")
    if not form.validate_on_submit():
        flash(_("Please try again."), "error")
        return redirect_after_post(here)
    opened = form.open_to_tenants.data == "yes"
    return viewkit.act(
        lambda: service.set_open_to_tenants(found, opened, viewkit.user()),
        here,
        _("Tenants now see the accounts and the archive.")
        if opened
        else _("Only owners see the accounts and the archive now."),
    )


def _new_page(found: ManagementArea, form: DocumentForm, status: int = 200) -> Response:
    return render("archive/new.html", area=found, form=form, status=status)


@bp.route("/areas/<int:area_id>/new", methods=["GET", "POST"])
@accepts_uploads
def new(area_id: int) -> Response:
    found = access.get_or_404(ManagementArea, area_id, Action.KEEP_ARCHIVE)
    if request.method == "GET":
        kind = search_text(request.args.get("kind"), 12)
        form = DocumentForm(
            formdata=None,
            kind=kind if kind in set(DocKind) else DocKind.COVENANT.value,
            dated=clock.today(),
            key=new_key(),
        )
        return _new_page(found, form)
    form = DocumentForm()
    done = submit(
        form,
        lambda: service.create_document(
            found,
            viewkit.user(),
            kind=DocKind(form.kind.data),
            title=form.title.data,
            dated=form.dated.data,
            counterparty=form.counterparty.data,
            amount_fen=form.amount.data,
            storage=form.file.data,
            request_key=form.key.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _("The document is in the archive."),
            url_for(".document", document_id=done.result.id),
        )
    return _new_page(found, form, form_status(form))


# --- a document ---------------------------------------------------------------------------


def _document_page(document: Document, status: int = 200, **forms: Any) -> Response:
    keeps = access.can(Action.KEEP_ARCHIVE, document)
    context: dict[str, Any] = {
        "version_form": VersionForm(formdata=None, key=new_key()),
        "withdraw_form": WithdrawForm(formdata=None),
    }
    context.update(forms)
    return render(
        "archive/document.html",
        document=document,
        area=document.area,
        keeps=keeps,
        kind_labels=KIND_LABELS,
        status=status,
        **context,
    )


@bp.get("/documents/<int:document_id>")
def document(document_id: int) -> Response:
    return _document_page(access.get_or_404(Document, document_id))


@bp.post("/documents/<int:document_id>/versions")
@accepts_uploads
def new_version(document_id: int) -> Response:
    found = access.get_or_404(Document, document_id, Action.KEEP_ARCHIVE)
    form = VersionForm()
    done = submit(
        form,
        lambda: service.add_version(
            found, viewkit.user(), form.file.data, form.note.data, form.key.data
        ),
    )
    if done.ok:
        return viewkit.done(
            _("New version uploaded; the earlier ones stay on record."),
            url_for(".document", document_id=found.id),
        )
    return _document_page(found, form_status(form), version_form=form)


@bp.post("/documents/<int:document_id>/withdraw")
def withdraw(document_id: int) -> Response:
    found = access.get_or_404(Document, document_id, Action.KEEP_ARCHIVE)
    form = WithdrawForm()
    done = submit(form, lambda: service.withdraw(found, form.reason.data, viewkit.user()))
    if done.ok:
        return viewkit.done(
            _("Withdrawn: owners no longer see it; it stays on record with the reason."),
            url_for(".document", document_id=found.id),
        )
    return _document_page(found, form_status(form), withdraw_form=form)


@bp.get("/versions/<int:version_id>")
def version_file(version_id: int) -> Response:
    version = access.get_or_404(DocumentVersion, version_id)
    base = f"document-{version.document_id}-v{version.number}"
    if version.file_kind == FileKind.PDF:
        response = send_upload(version.file_name, f"{base}.pdf")
        response.mimetype = "application/pdf"
        return response
    return send_upload(version.file_name, f"{base}.jpg")


# --- itemised expenses ----------------------------------------------------------------------


def _month(area_id: int) -> date:
    wanted = parse_month(request.args.get("month", ""))
    if wanted is None or wanted > month_of(clock.today()):
        published = reports.published_months(area_id)
        return published[0] if published else add_months(month_of(clock.today()), -1)
    return wanted


@bp.get("/areas/<int:area_id>/expenses")
def expenses(area_id: int) -> Response:
    found = access.get_or_404(ManagementArea, area_id, Action.VIEW_ACCOUNTS)
    month = _month(found.id)
    kind = search_text(request.args.get("kind"), 10) or None
    if kind is not None and kind not in set(ExpenseKind):
        kind = None
    category = search_text(request.args.get("category"), 30) if kind else None
    return render(
        "archive/expenses.html",
        area=found,
        month=month,
        kind=kind,
        category=category,
        items=service.itemised(found.id, month, kind, category),
        previous=add_months(month, -1),
        next=add_months(month, 1) if month < month_of(clock.today()) else None,
    )


@bp.get("/expenses/<int:expense_id>/voucher")
def voucher(expense_id: int) -> Response:
    expense = access.get_or_404(Expense, expense_id, Action.VIEW_ACCOUNTS)
    if not expense.voucher:
        abort(404)
    return send_upload(expense.voucher, f"voucher-{expense.id}.jpg")

"""Forms of the transition page: one per step. The people of a step (the preparation group,
the elected committee) are rows of a name and a choice; empty rows are left out."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.widgets import TextArea

from ..fields import DateField, NameField, OptionalNameField, TextField, optional_id
from ..forms import AppForm
from ..labels import choices

# At most this many people on a step's form (an owners' committee has 5 to 11 members).
ROWS = 11


class StartForm(AppForm):
    target = SelectField(_l("The committee hands over to"))
    started_on = DateField(_l("Started on"))

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.target.choices = choices("transition_target")


class _PeopleForm(AppForm):
    """Rows ``person_N`` (a name) and ``role_N`` (whom they represent, or their position)."""

    role_labels = ""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        for n in range(1, ROWS + 1):
            getattr(self, f"role_{n}").choices = [("", "—"), *choices(self.role_labels)]

    def rows(self) -> list[tuple[Any, Any]]:
        """The (name, role) fields of each row, for the template."""
        return [
            (getattr(self, f"person_{n}"), getattr(self, f"role_{n}")) for n in range(1, ROWS + 1)
        ]

    def people(self) -> list[tuple[str, str]]:
        """The rows with a name, in order: (name, role code)."""
        return [(name.data, role.data or "") for name, role in self.rows() if name.data]


class PreparationForm(_PeopleForm):
    role_labels = "prep_role"
    happened_on = DateField(_l("Formed on"))
    note = TextField(_l("Note"), max_len=500, widget=TextArea())


class ElectedForm(_PeopleForm):
    role_labels = "elected_position"
    happened_on = DateField(_l("Elected on"))
    note = TextField(_l("Note"), max_len=500, widget=TextArea())


for _n in range(1, ROWS + 1):
    # The first row of the preparation group is its chair (组长), from the subdistrict.
    setattr(PreparationForm, f"person_{_n}", OptionalNameField(_l("Name")))
    setattr(PreparationForm, f"role_{_n}", SelectField(_l("Represents"), default=""))
    setattr(ElectedForm, f"person_{_n}", OptionalNameField(_l("Name")))
    setattr(ElectedForm, f"role_{_n}", SelectField(_l("Position"), default=""))


class AssemblyForm(AppForm):
    vote = SelectField(_l("The owners' vote it is held as"), coerce=optional_id, default="")
    happened_on = DateField(_l("Called on"))
    note = TextField(_l("Note"), max_len=500, widget=TextArea())

    def __init__(self, *args: Any, votes: list[tuple[int, str]] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.vote.choices = [("", str(_l("Choose the vote"))), *(votes or [])]


class CompanyForm(AppForm):
    company_name = TextField(_l("Company name"), max_len=100, required=True)
    credit_code = TextField(
        _l("Unified social credit code (统一社会信用代码)"), max_len=18, folded=True, required=True
    )
    contract_from = DateField(_l("Contract from"))
    contract_to = DateField(_l("Contract until"))
    happened_on = DateField(_l("Chosen on"))
    note = TextField(_l("Note"), max_len=500, widget=TextArea())


class FilingForm(AppForm):
    filing_no = TextField(_l("Filing number"), max_len=50, required=True, folded=True)
    happened_on = DateField(_l("Filed on"))
    note = TextField(_l("Note"), max_len=500, widget=TextArea())


class HandoverForm(AppForm):
    handed_to = TextField(_l("Handed over to"), max_len=100, required=True)
    happened_on = DateField(_l("Handed over on"))
    rights_end_on = DateField(_l("The committee's rights end on"))
    signed_old = NameField(_l("Signing for the property committee"))
    signed_new = NameField(_l("Signing for the new body"))
    note = TextField(_l("Note"), max_len=500, widget=TextArea())

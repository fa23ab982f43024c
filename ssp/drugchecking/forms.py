"""The drug-checking forms: a sample's result, and the program's lists."""

from __future__ import annotations

import secrets

from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ssp.drugchecking.models import Outcome, Reaction, SampleForm
from ssp.forms import Form, record_id
from ssp.i18n import _l

NOT_RUN = ""


class ResultForm(Form):
    """One sample: what it was sold as, its form, where, each test's outcome (added per
    test by ``outcome_fields``), a bad reaction."""

    submission_key = HiddenField(validators=[Length(max=64)])
    sold_as_id = SelectField(_l("Sold or bought as"), coerce=record_id)
    form = RadioField(
        _l("Form"), choices=[SelectChoice(f.value, f.label) for f in SampleForm], default="powder"
    )
    site_id = SelectField(_l("Site"), coerce=record_id)
    zone_id = SelectField(_l("Outreach zone"), coerce=record_id)
    reaction = RadioField(
        _l("Did the person have, or know of, a bad reaction to it?"),
        choices=[SelectChoice(r.value, r.label) for r in Reaction],
        default=Reaction.NOT_ASKED.value,
    )
    submit = SubmitField(_l("Save result"))

    def new_key(self) -> None:
        """A one-time key, so a double submit saves one result."""
        self.submission_key.data = secrets.token_urlsafe(24)


OUTCOME_CHOICES = [SelectChoice(NOT_RUN, _l("Not run"))] + [
    SelectChoice(outcome.value, outcome.label) for outcome in Outcome
]


class SoldAsForm(Form):
    """Add to what samples can be sold as."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=60)])
    submit = SubmitField(_l("Add"))


class TestForm(Form):
    """Add a test the program runs."""

    name = StringField(
        _l("Test"), validators=[DataRequired(_l("Enter the test's name.")), Length(max=60)]
    )
    finds = StringField(
        _l("A positive finds"),
        validators=[DataRequired(_l("Say what a positive finds.")), Length(max=60)],
        description=_l("As an alert says it, e.g. Xylazine."),
    )
    submit = SubmitField(_l("Add test"))


class TrendsForm(Form):
    """Weeks or months on the trends page."""

    class Meta:
        csrf = False

    by = SelectField(
        _l("Show"),
        choices=[SelectChoice("week", _l("Weeks")), SelectChoice("month", _l("Months"))],
        validators=[Optional()],
    )

"""Forms: choosing a report (month and funder), and editing a funder profile."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.referrals.forms import MultiCheckboxField
from ssp.reporting.funders import SECTIONS
from ssp.reporting.metrics import Period

MONTHS_OFFERED = 36


def month_choices(current: Period) -> list[SelectChoice]:
    """The current month and the ones before it, newest first."""
    return [
        SelectChoice(p.key, p.label) for p in (current.shifted(-n) for n in range(MONTHS_OFFERED))
    ]


class ReportForm(FlaskForm):
    """Which month, for which funder."""

    class Meta:
        csrf = False  # GET for previews; generation posts a separate confirmed form

    month = SelectField("Month", choices=[])
    funder = SelectField("Funder profile", choices=[])


class GenerateForm(FlaskForm):
    """Generate and archive (POST, CSRF-protected)."""

    month = StringField(validators=[DataRequired()])
    funder = StringField(validators=[DataRequired()])
    submit = SubmitField("Generate and archive PDF")


class ProfileForm(FlaskForm):
    """A funder profile."""

    name = StringField(
        "Short name",
        validators=[DataRequired("Enter a short name."), Length(max=40)],
        description="Lower-case letters, digits and dashes; used in file names and on the "
        "command line (ssp report --funder NAME).",
        render_kw={"autocomplete": "off"},
    )
    funder_name = StringField(
        "Funder", validators=[DataRequired("Enter the funder's name."), Length(max=120)]
    )
    grant_number = StringField("Grant or contract number", validators=[Optional(), Length(max=80)])
    program_name = StringField(
        "Program name to print",
        validators=[Optional(), Length(max=120)],
        description="Empty: the program name from the configuration.",
    )
    sections = MultiCheckboxField(
        "Sections",
        choices=[SelectChoice(k, v) for k, v in SECTIONS.items()],
        validators=[DataRequired("Tick at least one section.")],
    )
    threshold = IntegerField(
        "Suppression threshold",
        default=11,
        validators=[InputRequired("Enter a whole number."), NumberRange(2, 100, "From 2 to 100.")],
        description="Counts from 1 to this number minus one are hidden. 11 is the CMS rule.",
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField("Save profile")

"""Forms: choosing a report (period and funder), and editing a funder profile."""

from __future__ import annotations

import datetime as dt

from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.forms import Form
from ssp.referrals.forms import MultiCheckboxField
from ssp.reporting.funders import SECTIONS
from ssp.reporting.periods import QUARTER, YEAR, Month, recent_periods

MONTHS_OFFERED = 36
MONTH_NAMES = [dt.date(2000, n, 1).strftime("%B") for n in range(1, 13)]


def period_choices(current: Month) -> list[SelectChoice]:
    """Periods to offer, grouped by kind, newest first: months (the current one too),
    quarters, calendar years, fiscal years (named by the year they end in; their months
    come from the chosen profile) and the fiscal year to date."""
    last = current.shifted(-1)
    groups = {
        "Months": [(m.key, m.label) for m in (current.shifted(-n) for n in range(MONTHS_OFFERED))],
        "Quarters": [(p.key, p.label) for p in recent_periods(QUARTER, last, 1, 12)],
        "Calendar years": [(p.key, p.label) for p in recent_periods(YEAR, last, 1, 5)],
        "Fiscal years": [
            (f"FY{year}", f"FY{year} (fiscal year ending in {year})")
            for year in range(last.year, last.year - 6, -1)
        ],
        "Year to date": [(f"{last.key}-YTD", f"Fiscal year to date, through {last.label}")],
    }
    return [
        SelectChoice(value, label, optgroup=group)
        for group, choices in groups.items()
        for value, label in choices
    ]


class ReportForm(Form):
    """Which period, for which funder."""

    class Meta:
        csrf = False  # GET for previews; generation posts a separate confirmed form

    period = SelectField("Period", choices=[], validate_choice=False)
    funder = SelectField("Funder profile", choices=[])


class GenerateForm(Form):
    """Generate and archive (POST, CSRF-protected)."""

    period = StringField(validators=[DataRequired()])
    funder = StringField(validators=[DataRequired()])
    # One per preview: a second press of Generate finds the report already made.
    request_key = StringField(validators=[Optional(), Length(max=64)])
    submit = SubmitField("Generate and archive PDF")


class NarrativeForm(Form):
    """The period's narrative (printed in every report of the period)."""

    activities = TextAreaField(
        "Activities this period",
        validators=[Optional(), Length(max=3000)],
        description="Outreach, new sites or hours, trainings: what the program did.",
    )
    barriers = TextAreaField(
        "Barriers and how they were met",
        validators=[Optional(), Length(max=3000)],
        description="Supply shortages, staffing, police activity, weather.",
    )
    events = TextAreaField(
        "Community events and partnerships",
        validators=[Optional(), Length(max=3000)],
        description="Never a participant's code or name: the report goes to funders.",
    )
    submit = SubmitField("Save narrative")


class ProfileForm(Form):
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
    fiscal_year_start = SelectField(
        "Fiscal year starts in",
        choices=[SelectChoice(str(n), MONTH_NAMES[n - 1]) for n in range(1, 13)],
        default="7",
        description="July for many states, October for federal grants, January for a "
        "calendar year. A fiscal year is named by the year it ends in (FY2027).",
    )
    contact = StringField(
        "Contact line",
        validators=[Optional(), Length(max=200)],
        description="Printed on the cover: who to ask about the report, e.g. a role and "
        "a phone number (not a participant).",
    )
    submit = SubmitField("Save profile")

"""Forms: choosing a report (period and funder), and editing a funder profile."""

from __future__ import annotations

from flask_babel import LazyString
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.forms import Form
from ssp.i18n import _, _l, language_choices
from ssp.referrals.forms import MultiCheckboxField
from ssp.reporting.funders import SECTIONS
from ssp.reporting.periods import QUARTER, YEAR, Month, fiscal_year_short, recent_periods
from ssp.reporting.wording import month_name

MONTHS_OFFERED = 36
# Month names, each read in the language of the page that shows it.
MONTH_NAMES = [LazyString(month_name, n) for n in range(1, 13)]


def period_choices(current: Month) -> list[SelectChoice]:
    """Periods to offer, grouped by kind, newest first: months (the current one too),
    quarters, calendar years, fiscal years (named by the year they end in; their months
    come from the chosen profile) and the fiscal year to date."""
    last = current.shifted(-1)
    groups = {
        _("Months"): [
            (m.key, m.label) for m in (current.shifted(-n) for n in range(MONTHS_OFFERED))
        ],
        _("Quarters"): [(p.key, p.label) for p in recent_periods(QUARTER, last, 1, 12)],
        _("Calendar years"): [(p.key, p.label) for p in recent_periods(YEAR, last, 1, 5)],
        _("Fiscal years"): [
            (
                f"FY{year}",
                _(
                    "%(fiscal_year)s (fiscal year ending in %(year)s)",
                    fiscal_year=fiscal_year_short(year),
                    year=year,
                ),
            )
            for year in range(last.year, last.year - 6, -1)
        ],
        _("Year to date"): [
            (f"{last.key}-YTD", _("Fiscal year to date, through %(month)s", month=last.label))
        ],
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

    period = SelectField(_l("Period"), choices=[], validate_choice=False)
    funder = SelectField(_l("Funder profile"), choices=[])


class GenerateForm(Form):
    """Generate and archive (POST, CSRF-protected)."""

    period = StringField(validators=[DataRequired()])
    funder = StringField(validators=[DataRequired()])
    # One per preview: a second press of Generate finds the report already made.
    request_key = StringField(validators=[Optional(), Length(max=64)])
    submit = SubmitField(_l("Generate and archive PDF"))


class NarrativeForm(Form):
    """The period's narrative (printed in every report of the period)."""

    activities = TextAreaField(
        _l("Activities this period"),
        validators=[Optional(), Length(max=3000)],
        description=_l("Outreach, new sites or hours, trainings: what the program did."),
    )
    barriers = TextAreaField(
        _l("Barriers and how they were met"),
        validators=[Optional(), Length(max=3000)],
        description=_l("Supply shortages, staffing, police activity, weather."),
    )
    events = TextAreaField(
        _l("Community events and partnerships"),
        validators=[Optional(), Length(max=3000)],
        description=_l("Never a participant's code or name: the report goes to funders."),
    )
    submit = SubmitField(_l("Save narrative"))


class ProfileForm(Form):
    """A funder profile."""

    name = StringField(
        _l("Short name"),
        validators=[DataRequired(_l("Enter a short name.")), Length(max=40)],
        description=_l(
            "Lower-case letters, digits and dashes; used in file names and on the "
            "command line (ssp report --funder NAME)."
        ),
        render_kw={"autocomplete": "off"},
    )
    funder_name = StringField(
        _l("Funder"), validators=[DataRequired(_l("Enter the funder's name.")), Length(max=120)]
    )
    grant_number = StringField(
        _l("Grant or contract number"), validators=[Optional(), Length(max=80)]
    )
    program_name = StringField(
        _l("Program name to print"),
        validators=[Optional(), Length(max=120)],
        description=_l("Empty: the program name from the configuration."),
    )
    sections = MultiCheckboxField(
        _l("Sections"),
        choices=[SelectChoice(key, SECTIONS.lazy(key)) for key in SECTIONS],
        validators=[DataRequired(_l("Tick at least one section."))],
    )
    threshold = IntegerField(
        _l("Suppression threshold"),
        default=11,
        validators=[
            InputRequired(_l("Enter a whole number.")),
            NumberRange(2, 100, _l("From 2 to 100.")),
        ],
        description=_l("Counts from 1 to this number minus one are hidden. 11 is the CMS rule."),
        render_kw={"inputmode": "numeric"},
    )
    fiscal_year_start = SelectField(
        _l("Fiscal year starts in"),
        choices=[SelectChoice(str(n), MONTH_NAMES[n - 1]) for n in range(1, 13)],
        default="7",
        description=_l(
            "July for many states, October for federal grants, January for a "
            "calendar year. A fiscal year is named by the year it ends in (FY2027)."
        ),
    )
    contact = StringField(
        _l("Contact line"),
        validators=[Optional(), Length(max=200)],
        description=_l(
            "Printed on the cover: who to ask about the report, e.g. a role and "
            "a phone number (not a participant)."
        ),
    )
    language = SelectField(
        _l("Report language"),
        choices=[],
        default="",
        validate_choice=False,  # the service refuses a language ssp does not speak
        description=_l(
            "The language of the PDF, the accessible HTML and the CSV's words. Empty: the "
            "language of whoever makes the report."
        ),
    )
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The languages ssp speaks are known once the catalogues are found.
        self.language.choices = [
            SelectChoice("", _("Language of whoever makes it")),
            *(SelectChoice(code, name) for code, name in language_choices()),
        ]
        if self.language.data is None:
            self.language.data = ""

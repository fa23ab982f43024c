"""The evaluator export's form: the period, the shape of the file, and the purpose and
recipient the audit trail records. Cross-field rules (a period or dates, the first day
before the last) are the service's (``export.py``), shared with ``ssp export``."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ssp.evaluation.export import (
    ATTRIBUTES,
    FORMATS,
    GRANULARITIES,
    LOCATIONS,
    PURPOSE_MAX,
    RECIPIENT_MAX,
    UNITS,
    ExportRequest,
)
from ssp.forms import Form, MultiCheckboxField, SaneDate
from ssp.reporting.periods import QUARTER, YEAR, Month, recent_periods

MONTHS_OFFERED = 24
DATES_INSTEAD = ""


def period_choices(current: Month) -> list[SelectChoice]:
    """Months (the current one too), quarters and calendar years, newest first; or the
    dates below."""
    last = current.shifted(-1)
    groups = {
        "Dates": [(DATES_INSTEAD, "The days given below")],
        "Months": [(m.key, m.label) for m in (current.shifted(-n) for n in range(MONTHS_OFFERED))],
        "Quarters": [(p.key, p.label) for p in recent_periods(QUARTER, last, 1, 8)],
        "Calendar years": [(p.key, p.label) for p in recent_periods(YEAR, last, 1, 5)],
    }
    return [
        SelectChoice(value, label, optgroup=group)
        for group, choices in groups.items()
        for value, label in choices
    ]


def _choices(options: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in options.items()]


class ExportForm(Form):
    """What to export, for whom and why."""

    period = SelectField("Period", choices=[])
    first_day = DateField("Or from (first day)", validators=[Optional(), SaneDate()])
    last_day = DateField("To (last day, included)", validators=[Optional(), SaneDate()])
    unit = SelectField("Rows", choices=_choices(UNITS), default="visit")
    granularity = SelectField(
        "Dates as",
        choices=_choices(GRANULARITIES),
        default="month",
        description="Months are safer: fewer rows need to be coarsened or left out.",
    )
    location = SelectField(
        "Sites",
        choices=_choices(LOCATIONS),
        default="kind",
        description="Site names single out people at small sites; kinds rarely do.",
    )
    attributes = MultiCheckboxField(
        "Attributes to include",
        choices=_choices(ATTRIBUTES),
        default=["age_band", "gender"],
    )
    file_format = SelectField("Format", choices=_choices(FORMATS), default="csv")
    purpose = TextAreaField(
        "Purpose",
        validators=[DataRequired("Say what the data is for."), Length(max=PURPOSE_MAX)],
        description="What the evaluation is and what the data is used for (kept in the "
        "audit trail, not in the file).",
    )
    recipient = StringField(
        "Recipient",
        validators=[DataRequired("Say who receives the data."), Length(max=RECIPIENT_MAX)],
        description="The organisation and the person responsible, e.g. State University, "
        "evaluation team (kept in the audit trail, not in the file).",
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField("Make the export and download it")

    def to_request(self) -> ExportRequest:
        """The form's values as the service's request."""
        return ExportRequest(
            purpose=self.purpose.data or "",
            recipient=self.recipient.data or "",
            period=self.period.data or "",
            first_day=self.first_day.data,
            last_day=self.last_day.data,
            unit=self.unit.data,
            granularity=self.granularity.data,
            location=self.location.data,
            attributes=tuple(self.attributes.data or ()),
            file_format=self.file_format.data,
        )

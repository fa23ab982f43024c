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
from ssp.i18n import _, _l
from ssp.reporting.periods import QUARTER, YEAR, Month, recent_periods

MONTHS_OFFERED = 24
DATES_INSTEAD = ""


def period_choices(current: Month) -> list[SelectChoice]:
    """Months (the current one too), quarters and calendar years, newest first; or the
    dates below."""
    last = current.shifted(-1)
    groups = {
        _("Dates"): [(DATES_INSTEAD, _("The days given below"))],
        _("Months"): [
            (m.key, m.label) for m in (current.shifted(-n) for n in range(MONTHS_OFFERED))
        ],
        _("Quarters"): [(p.key, p.label) for p in recent_periods(QUARTER, last, 1, 8)],
        _("Calendar years"): [(p.key, p.label) for p in recent_periods(YEAR, last, 1, 5)],
    }
    return [
        SelectChoice(value, label, optgroup=group)
        for group, choices in groups.items()
        for value, label in choices
    ]


def _choices(options: dict[str, str]) -> list[SelectChoice]:
    """The options of ``ssp.evaluation.choices`` (marked there), looked up when shown."""
    return [SelectChoice(value, _l(label)) for value, label in options.items()]


class ExportForm(Form):
    """What to export, for whom and why."""

    period = SelectField(_l("Period"), choices=[])
    first_day = DateField(_l("Or from (first day)"), validators=[Optional(), SaneDate()])
    last_day = DateField(_l("To (last day, included)"), validators=[Optional(), SaneDate()])
    unit = SelectField(_l("Rows"), choices=_choices(UNITS), default="visit")
    granularity = SelectField(
        _l("Dates as"),
        choices=_choices(GRANULARITIES),
        default="month",
        description=_l("Months are safer: fewer rows need to be coarsened or left out."),
    )
    location = SelectField(
        _l("Sites"),
        choices=_choices(LOCATIONS),
        default="kind",
        description=_l("Site names single out people at small sites; kinds rarely do."),
    )
    attributes = MultiCheckboxField(
        _l("Attributes to include"),
        choices=_choices(ATTRIBUTES),
        default=["age_band", "gender"],
    )
    file_format = SelectField(_l("Format"), choices=_choices(FORMATS), default="csv")
    purpose = TextAreaField(
        _l("Purpose"),
        validators=[DataRequired(_l("Say what the data is for.")), Length(max=PURPOSE_MAX)],
        description=_l(
            "What the evaluation is and what the data is used for (kept in the audit trail, "
            "not in the file)."
        ),
    )
    recipient = StringField(
        _l("Recipient"),
        validators=[DataRequired(_l("Say who receives the data.")), Length(max=RECIPIENT_MAX)],
        description=_l(
            "The organisation and the person responsible, e.g. State University, evaluation "
            "team (kept in the audit trail, not in the file)."
        ),
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Make the export and download it"))

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

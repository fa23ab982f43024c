"""The form of a community alert (drafted by hand or from a signal, or a draft changed)."""

from __future__ import annotations

from flask import current_app
from wtforms import DateField, HiddenField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from ssp.drugchecking.alerts import AREA_MAX, FOUND_MAX, SOLD_AS_MAX, DraftValues, advice_text
from ssp.forms import Form, MultiCheckboxField, SaneDate
from ssp.i18n import _l

AT_MOST = _l("Use at most %(max)d characters.")  # filled in by Length


class AlertForm(Form):
    """What was found, in what, where, since when, until when, what to do."""

    found = StringField(
        _l("What was found"),
        validators=[
            InputRequired(_l("Enter what was found.")),
            Length(max=FOUND_MAX, message=AT_MOST),
        ],
        description=_l("As the test calls it: “Xylazine”, “Fentanyl”."),
        render_kw={"autocomplete": "off", "maxlength": FOUND_MAX, "list": "found-names"},
    )
    sold_as = StringField(
        _l("Found in"),
        validators=[
            InputRequired(_l("Enter what it was found in.")),
            Length(max=SOLD_AS_MAX, message=AT_MOST),
        ],
        description=_l("What the samples were sold or bought as: “Fentanyl”, “Pressed pill”."),
        render_kw={"autocomplete": "off", "maxlength": SOLD_AS_MAX, "list": "sold-as-names"},
    )
    area = StringField(
        _l("Where"),
        validators=[
            InputRequired(_l("Enter where: a zone or site, or “all areas”.")),
            Length(max=AREA_MAX, message=AT_MOST),
        ],
        description=_l(
            "An outreach zone or a site, or “all areas”. Never a person, an address or "
            "anything that points to someone."
        ),
        render_kw={"autocomplete": "off", "maxlength": AREA_MAX, "list": "area-names"},
    )
    since = DateField(
        _l("First found on"),
        validators=[InputRequired(_l("Enter the day it was first found.")), SaneDate()],
    )
    expires_on = DateField(
        _l("Alert runs until"),
        validators=[InputRequired(_l("Enter the last day the alert runs.")), SaneDate()],
        description=_l("The last day it shows in the header and prints. At most 90 days."),
    )
    # Unknown keys reach the service, which refuses them with its message.
    advice = MultiCheckboxField(_l("What to do"), choices=[], validate_choice=False)
    signal = HiddenField(validators=[Optional(), Length(max=30)])
    submit = SubmitField(_l("Save draft"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.advice.choices = [
            (key, advice_text(text)) for key, text in current_app.config["ALERT_ADVICE"].items()
        ]

    def fill(self, values: DraftValues) -> None:
        """Start the form with these values (a new alert, by hand or from a signal)."""
        self.found.data = values.found
        self.sold_as.data = values.sold_as
        self.area.data = values.area
        self.since.data = values.since
        self.expires_on.data = values.expires_on
        self.advice.data = list(values.advice)

    def values(self) -> dict:
        """The form's values as the service takes them."""
        return {
            "found": self.found.data,
            "sold_as": self.sold_as.data,
            "area": self.area.data,
            "since": self.since.data,
            "expires_on": self.expires_on.data,
            "advice": list(self.advice.data or []),
        }

"""Forms: a zone."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ssp.forms import Form


class ZoneForm(Form):
    """A named area outreach teams work in."""

    name = StringField(
        "Zone name",
        validators=[DataRequired("Name the zone."), Length(max=80)],
        description=(
            'A place name people use, e.g. "Riverside camp". Never a person, never the '
            "address of a home."
        ),
        render_kw={"autocomplete": "off", "maxlength": 80},
    )
    submit = SubmitField("Add zone")

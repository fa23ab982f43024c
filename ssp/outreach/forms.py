"""Forms: a zone."""

from __future__ import annotations

from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ssp.forms import Form
from ssp.i18n import _l


class ZoneForm(Form):
    """A named area outreach teams work in."""

    name = StringField(
        _l("Zone name"),
        validators=[DataRequired(_l("Name the zone.")), Length(max=80)],
        description=_l(
            'A place name people use, e.g. "Riverside camp". Never a person, never the '
            "address of a home."
        ),
        render_kw={"autocomplete": "off", "maxlength": 80},
    )
    submit = SubmitField(_l("Add zone"))

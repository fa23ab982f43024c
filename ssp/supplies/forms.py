"""The catalogue item form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.supplies.models import SupplyCategory

CATEGORY_CHOICES = [SelectChoice(c.value, c.label) for c in SupplyCategory]


class SupplyItemForm(FlaskForm):
    """Name, category, unit, pack size and reorder level of a catalogue item."""

    name = StringField(
        "Name",
        validators=[DataRequired("Enter a name."), Length(min=2, max=80)],
        description="As staff know it, with size where it matters (for example 1 mL 28G).",
        render_kw={"autocomplete": "off"},
    )
    category = SelectField("Category", choices=CATEGORY_CHOICES)
    unit = StringField(
        "Unit",
        validators=[DataRequired("Say what one unit is."), Length(max=32)],
        description="What one counts as on a visit: syringe, kit, strip...",
        render_kw={"autocomplete": "off"},
    )
    units_per_pack = IntegerField(
        "Units per pack",
        default=1,
        validators=[
            InputRequired("Enter a whole number."),
            NumberRange(1, 100_000, "From 1 to 100,000."),
        ],
        description="Used when stock arrives in packs or boxes.",
        render_kw={"inputmode": "numeric"},
    )
    reorder_level = IntegerField(
        "Reorder level",
        default=0,
        validators=[
            InputRequired("Enter a whole number."),
            NumberRange(0, 10_000_000, "Zero or more."),
        ],
        description="Stock at a site below this many units is flagged as low.",
        render_kw={"inputmode": "numeric"},
    )
    max_per_visit = IntegerField(
        "Most per visit",
        validators=[Optional(), NumberRange(1, 100_000, "From 1 to 100,000, or leave empty.")],
        description="A guard against typos on the visit form. Empty: the program-wide limit.",
        render_kw={"inputmode": "numeric", "placeholder": "program default"},
    )
    submit = SubmitField("Save item")

"""Forms: catalogue items, and stock receipts, transfers and counts."""

from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.forms import Form, SaneDate
from ssp.supplies.models import AdjustmentReason, MovementReason, SupplyCategory

CATEGORY_CHOICES = [SelectChoice(c.value, c.label) for c in SupplyCategory]


class SupplyItemForm(Form):
    """Name, category, unit, pack size and visit limit of a catalogue item.

    There is no fixed reorder level: low stock comes from each site's own use
    (``ssp.supplies.stock.ReorderRule``).
    """

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
    doses_per_unit = IntegerField(
        "Doses per unit",
        default=1,
        validators=[Optional(), NumberRange(1, 100, "From 1 to 100.")],
        description="For naloxone: doses in one kit (a two-dose nasal spray kit: 2). Funder "
        "reports count naloxone doses as well as kits. Empty: 1.",
        render_kw={"inputmode": "numeric"},
    )
    max_per_visit = IntegerField(
        "Most per visit",
        validators=[Optional(), NumberRange(1, 100_000, "From 1 to 100,000, or leave empty.")],
        description="A guard against typos on the visit form. Empty: the program-wide limit.",
        render_kw={"inputmode": "numeric", "placeholder": "program default"},
    )
    submit = SubmitField("Save item")


# --- stock ---------------------------------------------------------------------------

ADJUSTMENT_CHOICES = [SelectChoice(r.value, r.label) for r in AdjustmentReason]
UNIT_CHOICES = [SelectChoice("units", "units"), SelectChoice("packs", "packs")]
REASON_FILTER_CHOICES = [SelectChoice("", "Any reason")] + [
    SelectChoice(r.value, r.value.capitalize()) for r in MovementReason
]


def _site_choices(sites) -> list[SelectChoice]:
    return [SelectChoice(str(s.id), s.name) for s in sites]


def _quantity_field(label: str, **render_kw) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=1, message="More than zero, or leave empty.")],
        render_kw={"min": 1, "inputmode": "numeric", "autocomplete": "off", **render_kw},
    )


class StockFormBase(Form):
    """Shared by receipts, transfers and counts: the date, and a row per catalogue item."""

    occurred_on = DateField("Date", validators=[InputRequired("Enter the date."), SaneDate()])
    item_rows: list

    def rows_by_category(self):
        """(category, [(item, {name: field})]) in catalogue order."""
        groups: dict = {}
        for item, names in self.item_rows:
            groups.setdefault(item.category, []).append(
                (item, {key: self[name] for key, name in names.items()})
            )
        return list(groups.items())


def receipt_form(catalogue, sites, **kwargs):
    """Receive a shipment: quantity in units or packs per item; lot and expiry for naloxone."""

    class ReceiptForm(StockFormBase):
        site_id = SelectField("Received at", coerce=int, choices=[])
        source = StringField(
            "Supplier or funding source",
            validators=[Optional(), Length(max=120)],
            description="For example: State naloxone program, NASEN, purchase order 1042.",
            render_kw={"autocomplete": "off", "maxlength": 120},
        )
        submit = SubmitField("Record receipt")

    rows = []
    for item in catalogue:
        names = {"qty": f"qty_{item.id}", "per": f"per_{item.id}"}
        setattr(ReceiptForm, names["qty"], _quantity_field(f"Quantity of {item.name}"))
        setattr(
            ReceiptForm,
            names["per"],
            SelectField(
                f"Counted in (units or packs of {item.units_per_pack})",
                choices=UNIT_CHOICES,
                default="units",
            ),
        )
        if item.category == SupplyCategory.NALOXONE:
            names |= {"lot": f"lot_{item.id}", "expires": f"expires_{item.id}"}
            setattr(
                ReceiptForm,
                names["lot"],
                StringField(
                    f"Lot of {item.name}",
                    validators=[Optional(), Length(max=40)],
                    render_kw={"autocomplete": "off", "maxlength": 40},
                ),
            )
            setattr(
                ReceiptForm,
                names["expires"],
                DateField(f"Expiry date of {item.name}", validators=[Optional(), SaneDate()]),
            )
        rows.append((item, names))
    form = ReceiptForm(**kwargs)
    form.item_rows = rows
    form.site_id.choices = _site_choices(sites)
    return form


def transfer_form(catalogue, sites, **kwargs):
    """Move stock from one site to another."""

    class TransferForm(StockFormBase):
        from_site_id = SelectField("From", coerce=int, choices=[])
        to_site_id = SelectField("To", coerce=int, choices=[])
        submit = SubmitField("Record transfer")

    rows = []
    for item in catalogue:
        names = {"qty": f"qty_{item.id}"}
        setattr(TransferForm, names["qty"], _quantity_field(f"Units of {item.name}"))
        rows.append((item, names))
    form = TransferForm(**kwargs)
    form.item_rows = rows
    form.from_site_id.choices = _site_choices(sites)
    form.to_site_id.choices = _site_choices(sites)
    return form


def count_form(catalogue, **kwargs):
    """A physical count at one site: what is on the shelf, and why it differs."""

    class CountForm(StockFormBase):
        submit = SubmitField("Record count")

    rows = []
    for item in catalogue:
        names = {"count": f"count_{item.id}", "reason": f"reason_{item.id}"}
        setattr(
            CountForm,
            names["count"],
            IntegerField(
                f"On the shelf: {item.name}",
                validators=[Optional(), NumberRange(min=0, message="0 or more, or leave empty.")],
                render_kw={"min": 0, "inputmode": "numeric", "autocomplete": "off"},
            ),
        )
        setattr(
            CountForm,
            names["reason"],
            SelectField(
                f"Reason for a difference in {item.name}",
                choices=ADJUSTMENT_CHOICES,
                default="count",
            ),
        )
        rows.append((item, names))
    form = CountForm(**kwargs)
    form.item_rows = rows
    return form

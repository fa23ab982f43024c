"""Forms: catalogue items, and stock receipts, transfers and counts."""

from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ssp.forms import Form, SaneDate
from ssp.i18n import _, _l
from ssp.supplies.models import (
    ADJUSTMENT_LABELS,
    CATEGORY_LABELS,
    MOVEMENT_LABELS,
    MovementReason,
    SupplyCategory,
)

CATEGORY_CHOICES = [SelectChoice(c.value, CATEGORY_LABELS[c.value]) for c in SupplyCategory]


class SupplyItemForm(Form):
    """Name, category, unit, pack size and visit limit of a catalogue item.

    There is no fixed reorder level: low stock comes from each site's own use
    (``ssp.supplies.stock.ReorderRule``).
    """

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(min=2, max=80)],
        description=_l("As staff know it, with size where it matters (for example 1 mL 28G)."),
        render_kw={"autocomplete": "off"},
    )
    category = SelectField(_l("Category"), choices=CATEGORY_CHOICES)
    unit = StringField(
        _l("Unit"),
        validators=[DataRequired(_l("Say what one unit is.")), Length(max=32)],
        description=_l("What one counts as on a visit: syringe, kit, strip..."),
        render_kw={"autocomplete": "off"},
    )
    units_per_pack = IntegerField(
        _l("Units per pack"),
        default=1,
        validators=[
            InputRequired(_l("Enter a whole number.")),
            NumberRange(1, 100_000, _l("From 1 to 100,000.")),
        ],
        description=_l("Used when stock arrives in packs or boxes."),
        render_kw={"inputmode": "numeric"},
    )
    doses_per_unit = IntegerField(
        _l("Doses per unit"),
        default=1,
        validators=[Optional(), NumberRange(1, 100, _l("From 1 to 100."))],
        description=_l(
            "For naloxone: doses in one kit (a two-dose nasal spray kit: 2). Funder "
            "reports count naloxone doses as well as kits. Empty: 1."
        ),
        render_kw={"inputmode": "numeric"},
    )
    max_per_visit = IntegerField(
        _l("Most per visit"),
        validators=[
            Optional(),
            NumberRange(1, 100_000, _l("From 1 to 100,000, or leave empty.")),
        ],
        description=_l("A guard against typos on the visit form. Empty: the program-wide limit."),
        render_kw={"inputmode": "numeric", "placeholder": _l("program default")},
    )
    submit = SubmitField(_l("Save item"))


# --- stock ---------------------------------------------------------------------------

ADJUSTMENT_CHOICES = [SelectChoice(value, label) for value, label in ADJUSTMENT_LABELS.items()]
UNIT_CHOICES = [SelectChoice("units", _l("units")), SelectChoice("packs", _l("packs"))]
REASON_FILTER_CHOICES = [SelectChoice("", _l("Any reason"))] + [
    SelectChoice(r.value, MOVEMENT_LABELS[r.value]) for r in MovementReason
]


def _site_choices(sites) -> list[SelectChoice]:
    return [SelectChoice(str(s.id), s.name) for s in sites]


def _quantity_field(label: str, **render_kw) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(min=1, message=_l("More than zero, or leave empty."))],
        render_kw={"min": 1, "inputmode": "numeric", "autocomplete": "off", **render_kw},
    )


class StockFormBase(Form):
    """Shared by receipts, transfers and counts: the date, and a row per catalogue item."""

    occurred_on = DateField(
        _l("Date"), validators=[InputRequired(_l("Enter the date.")), SaneDate()]
    )
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
    """Receive a shipment: quantity in units or packs per item; lot and expiry for naloxone.

    Built during a request: the per-item labels are looked up now, in the reader's language.
    """

    class ReceiptForm(StockFormBase):
        site_id = SelectField(_l("Received at"), coerce=int, choices=[])
        source = StringField(
            _l("Supplier or funding source"),
            validators=[Optional(), Length(max=120)],
            description=_l("For example: State naloxone program, NASEN, purchase order 1042."),
            render_kw={"autocomplete": "off", "maxlength": 120},
        )
        submit = SubmitField(_l("Record receipt"))

    rows = []
    for item in catalogue:
        names = {"qty": f"qty_{item.id}", "per": f"per_{item.id}"}
        setattr(
            ReceiptForm,
            names["qty"],
            _quantity_field(_("Quantity of %(item)s", item=item.name)),
        )
        setattr(
            ReceiptForm,
            names["per"],
            SelectField(
                _("Counted in (units or packs of %(size)s)", size=item.units_per_pack),
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
                    _("Lot of %(item)s", item=item.name),
                    validators=[Optional(), Length(max=40)],
                    render_kw={"autocomplete": "off", "maxlength": 40},
                ),
            )
            setattr(
                ReceiptForm,
                names["expires"],
                DateField(
                    _("Expiry date of %(item)s", item=item.name),
                    validators=[Optional(), SaneDate()],
                ),
            )
        rows.append((item, names))
    form = ReceiptForm(**kwargs)
    form.item_rows = rows
    form.site_id.choices = _site_choices(sites)
    return form


def transfer_form(catalogue, sites, **kwargs):
    """Move stock from one site to another."""

    class TransferForm(StockFormBase):
        from_site_id = SelectField(_l("From"), coerce=int, choices=[])
        to_site_id = SelectField(_l("To"), coerce=int, choices=[])
        submit = SubmitField(_l("Record transfer"))

    rows = []
    for item in catalogue:
        names = {"qty": f"qty_{item.id}"}
        setattr(TransferForm, names["qty"], _quantity_field(_("Units of %(item)s", item=item.name)))
        rows.append((item, names))
    form = TransferForm(**kwargs)
    form.item_rows = rows
    form.from_site_id.choices = _site_choices(sites)
    form.to_site_id.choices = _site_choices(sites)
    return form


def count_form(catalogue, **kwargs):
    """A physical count at one site: what is on the shelf, and why it differs."""

    class CountForm(StockFormBase):
        submit = SubmitField(_l("Record count"))

    rows = []
    for item in catalogue:
        names = {"count": f"count_{item.id}", "reason": f"reason_{item.id}"}
        setattr(
            CountForm,
            names["count"],
            IntegerField(
                _("On the shelf: %(item)s", item=item.name),
                validators=[
                    Optional(),
                    NumberRange(min=0, message=_l("0 or more, or leave empty.")),
                ],
                render_kw={"min": 0, "inputmode": "numeric", "autocomplete": "off"},
            ),
        )
        setattr(
            CountForm,
            names["reason"],
            SelectField(
                _("Reason for a difference in %(item)s", item=item.name),
                choices=ADJUSTMENT_CHOICES,
                default="count",
            ),
        )
        rows.append((item, names))
    form = CountForm(**kwargs)
    form.item_rows = rows
    return form

"""The import page's forms: the upload, the mapping of each column, the confirmation."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ssp.forms import Form, optional_int
from ssp.i18n import _l
from ssp.imports.mapping import PACKS, UNITS
from ssp.imports.models import ImportShape


class UploadForm(Form):
    """Choose a file, say how it is laid out, and optionally a saved mapping."""

    file = FileField(
        _l("Spreadsheet (.csv or .xlsx)"), validators=[FileRequired(_l("Choose a file."))]
    )
    shape = RadioField(
        _l("How the file is laid out"),
        choices=[SelectChoice(shape.value, shape.lazy_label) for shape in ImportShape],
        default=ImportShape.VISITS.value,
    )
    mapping = SelectField(
        _l("Start from a saved mapping"), coerce=optional_int, validate_choice=True
    )
    submit = SubmitField(_l("Upload and map the columns"))


class MappingForm(Form):
    """The field of each column (added per file), the site of every row, dates."""

    site_id = SelectField(_l("Site of every row (when no column names it)"), coerce=optional_int)
    date_order = SelectField(
        _l("Dates like 03/04/2025 mean"),
        choices=[
            SelectChoice("MDY", _l("March 4 (month first)")),
            SelectChoice("DMY", _l("3 April (day first)")),
        ],
    )
    save_as = StringField(
        _l("Save this mapping as (to reuse next month)"),
        validators=[Optional(), Length(max=80)],
    )
    submit = SubmitField(_l("Preview the import"))


def column_fields(form: MappingForm, headers: list[str], choices, mapping) -> list[tuple]:
    """A field and a unit select for each column, bound to the request's values."""
    from flask import request

    rows = []
    for index, header in enumerate(headers):
        column = mapping.columns.get(header)
        field_name, unit_name = f"column_{index}", f"unit_{index}"
        field_value = request.form.get(field_name, column.field if column else "") or ""
        unit_value = request.form.get(unit_name, column.unit if column else UNITS)
        rows.append((index, header, field_name, field_value, unit_name, unit_value))
    return rows


UNIT_CHOICES = [(UNITS, _l("single items")), (PACKS, _l("packs"))]


class ConfirmImportForm(Form):
    """What the manager confirms with the preview."""

    move_stock = BooleanField(_l("Take what these visits handed out from today's stock"))
    leave_out_refused = BooleanField(_l("Import the other rows and leave the refused ones out"))
    near_duplicates_checked = BooleanField(
        _l("I have checked the near-duplicate codes: they are different people")
    )
    submit = SubmitField(_l("Import"))


class UndoForm(Form):
    """Confirm taking a batch back out."""

    confirm = BooleanField(_l("Yes, remove what this import added"))
    submit = SubmitField(_l("Undo this import"))

"""Form pieces shared by several feature packages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flask import abort, flash, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import SelectField as WTFormsSelectField
from wtforms import SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ssp.errors import RuleError
from ssp.i18n import _, _l, wtforms_messages
from ssp.textinput import MESSAGE, has_refused_characters


def json_form_data() -> ImmutableMultiDict:
    """A JSON body as form data: each value a text, a number, true/false or a list of
    those (a list gives a field several values); an object anywhere is a 400, not a field
    holding a dict that the checks would trip over."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description=_("Send the form's fields as one JSON object."))
    pairs = []
    for name, value in body.items():
        values = value if isinstance(value, list) else [value]
        for one in values:
            if one is None:
                continue
            if isinstance(one, dict | list):
                abort(400, description=_("A form field holds text or a number, not a list."))
            pairs.append((str(name), str(one).lower() if isinstance(one, bool) else str(one)))
    return ImmutableMultiDict(pairs)


class Form(FlaskForm):
    """Every form of the app: text boxes refuse control characters and unpaired
    surrogates (tab and newline are allowed in multi-line boxes), with a message on
    the box, before any other check runs on them. A JSON body fills the form only with
    texts and numbers (``json_form_data``)."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            posted_json = request.is_json and not request.form and not request.files
            if formdata is _Auto and posted_json and _is_submitted():
                return json_form_data()
            return super().wrap_formdata(form, formdata)

        def get_translations(self, form):
            return wtforms_messages

    def validate(self, extra_validators=None) -> bool:
        refused = []
        for field in self:
            if isinstance(field, StringField) and isinstance(field.data, str):
                multiline = isinstance(field, TextAreaField)
                if has_refused_characters(field.data, multiline=multiline):
                    refused.append(field)
        valid = super().validate(extra_validators)
        for field in refused:
            field.errors = [*field.errors, str(MESSAGE)]
        return valid and not refused


#: WTForms' own message, translated by its catalogue (``self.gettext``), not ours.
NOT_A_CHOICE = "Not a valid choice."


class SelectField(WTFormsSelectField):
    """WTForms' select, with the posted value checked against the choices without
    rebuilding every option (WTForms makes two objects an option to check one value;
    the visit form, posted all day, has a dozen selects)."""

    def pre_validate(self, form) -> None:
        if self.process_errors or not self.validate_choice or self.choices is None:
            super().pre_validate(form)
            return
        try:
            values = [choice.value for choice in self.choices]
        except AttributeError:  # choices not given as SelectChoice: WTForms' own check
            super().pre_validate(form)
            return
        if not any(self.coerce(value) == self.data for value in values):
            raise ValidationError(self.invalid_choice_message or self.gettext(NOT_A_CHOICE))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConfirmForm(Form):
    """An empty form: a button whose POST carries the CSRF token."""

    submit = SubmitField(_l("Confirm"))


def optional_int(value: str | int | None) -> int | None:
    """Select-field coercion: an empty choice means None, anything else an int."""
    if value in (None, ""):
        return None
    return int(value)


def require_confirmed_post() -> None:
    """Abort with 400 unless the request is a POST with a valid CSRF token."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def save(form: FlaskForm, change: Callable[[], Any], success: str | Callable[[Any], str]) -> bool:
    """Run a service call and commit once; True when it was applied.

    On a refusal (a ``RuleError``) the transaction is rolled back and the message is shown
    next to its form field; nothing is written. ``success`` is the flash message, or a
    function of the call's result that makes it.
    """
    from ssp.extensions import db

    try:
        result = change()
    except RuleError as error:
        db.session.rollback()
        show_rule_error(form, error)
        return False
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return True


def show_rule_error(form: FlaskForm, error: RuleError) -> None:
    """Show a service's refusal next to its field, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


#: The largest id the databases store in an INTEGER column.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"^[0-9]{1,10}$")


def parse_id(text: str | None) -> int | None:
    """A record id from a query string or a field name: ASCII digits within range, or None."""
    text = (text or "").strip()
    if not _ASCII_DIGITS.match(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def record_id(value: str | int | None) -> int | None:
    """Select-field coercion for a record id: None unless it is one the databases can
    hold, so an absurd id is refused by the form, never sent to a query (PostgreSQL
    raises on an INTEGER out of range)."""
    return parse_id(str(value)) if value not in (None, "") else None


def posted_ids(form_data, prefix: str) -> set[int]:
    """Ids named by non-empty, non-zero posted fields called ``<prefix><id>``."""
    ids = set()
    for name, value in form_data.items():
        if name.startswith(prefix) and value.strip() not in ("", "0"):
            item_id = parse_id(name[len(prefix) :])
            if item_id is not None:
                ids.add(item_id)
    return ids


# Dates outside these years are refused, so date arithmetic and time-zone conversion can
# never overflow.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class SaneDate:
    """Validator: a date (or date and time) between 2000 and 2100."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or _l("Enter a date between 2000 and 2100.")

    def __call__(self, form, field) -> None:
        value = field.data
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValidationError(str(self.message))


def date_arg(name: str) -> dt.date | None:
    """A YYYY-MM-DD query-string filter: None when absent; 400 when it is not a date
    between 2000 and 2100."""
    value = request.args.get(name, "")
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        abort(400)
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        abort(400)
    return day

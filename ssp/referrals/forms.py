"""Forms for partners, referrals, status changes and follow-ups.

Free-text fields are short and say on their face not to type names or other details.
"""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ssp.forms import Form, MultiCheckboxField, SaneDate, optional_int
from ssp.referrals.models import FollowUpOutcome, Partner, ReferralCategory

NO_IDENTIFIERS = "No names, phone numbers or other details that identify anyone."

CATEGORY_CHOICES = [SelectChoice(c.value, c.label) for c in ReferralCategory]
OUTCOME_CHOICES = [SelectChoice(o.value, o.label) for o in FollowUpOutcome]


def partner_choices(partners: list[Partner], blank: str = "No particular partner"):
    """Partner options, each tagged with the categories it serves (for the filter script)."""
    return [SelectChoice("", blank)] + [
        SelectChoice(str(p.id), p.name, render_kw={"data-categories": " ".join(p.categories)})
        for p in partners
    ]


class PartnerForm(Form):
    """A partner agency in the directory."""

    name = StringField(
        "Name",
        validators=[DataRequired("Enter the agency's name."), Length(min=2, max=120)],
        render_kw={"autocomplete": "off"},
    )
    categories = MultiCheckboxField(
        "Referral categories served",
        choices=CATEGORY_CHOICES,
        validators=[DataRequired("Tick at least one category.")],
    )
    contact = StringField(
        "Contact line for staff",
        validators=[Optional(), Length(max=200)],
        description="How staff reach the agency (intake line, walk-in hours). Never a "
        "participant's details.",
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    submit = SubmitField("Save partner")


class ReferralFieldsMixin:
    """Category, partner and note of a new referral."""

    category = SelectField("Referral for", choices=CATEGORY_CHOICES)
    partner_id = SelectField(
        "Partner", coerce=optional_int, choices=[], render_kw={"data-partner-filter": "category"}
    )
    note = StringField(
        "Note",
        validators=[Optional(), Length(max=200)],
        description=NO_IDENTIFIERS,
        render_kw={"autocomplete": "off", "maxlength": 200},
    )


class ReferralForm(ReferralFieldsMixin, Form):
    """A referral made from the participant page."""

    submit = SubmitField("Make referral")


class StatusForm(Form):
    """Move a referral to another status."""

    status = SelectField("New status", choices=[])
    submit = SubmitField("Change status")


class FollowUpForm(Form):
    """A follow-up added by hand."""

    reason = StringField(
        "What to follow up on",
        validators=[DataRequired("Say in a few words what to follow up on."), Length(max=120)],
        description=NO_IDENTIFIERS,
        render_kw={"autocomplete": "off", "maxlength": 120},
    )
    due_on = DateField(
        "Due on", validators=[InputRequired("Choose the day it is due."), SaneDate()]
    )
    assigned_user_id = SelectField("Assigned to", coerce=optional_int, choices=[])
    submit = SubmitField("Add follow-up")


class FollowUpEditForm(Form):
    """Reschedule or reassign an open follow-up."""

    due_on = DateField(
        "Due on", validators=[InputRequired("Choose the day it is due."), SaneDate()]
    )
    assigned_user_id = SelectField("Assigned to", coerce=optional_int, choices=[])
    submit = SubmitField("Save")


class OutcomeForm(Form):
    """What the participant said about a follow-up."""

    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES)
    note = StringField(
        "Note",
        validators=[Optional(), Length(max=200)],
        description=NO_IDENTIFIERS,
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    submit = SubmitField("Record outcome")


def assignee_choices(users) -> list[SelectChoice]:
    """Staff a follow-up can be assigned to."""
    return [SelectChoice("", "Nobody in particular")] + [
        SelectChoice(str(u.id), u.username) for u in users
    ]


def status_choices(statuses) -> list[SelectChoice]:
    """Referral statuses as options."""
    return [SelectChoice(s.value, s.label) for s in statuses]

"""Forms: the search box, enrolment (code plus coarse optional fields), details, merge.

The code builder's inputs are plain HTML without a ``name`` (see the enrol template), so
a browser never sends them: only the finished code is a form field here.
"""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ssp.forms import Form
from ssp.i18n import _l
from ssp.participants.models import Gender, RaceEthnicity, Substance

CODE_FIELD_KW = {
    "autocomplete": "off",
    "autocapitalize": "characters",
    "spellcheck": "false",
    "maxlength": 40,
}


def _choices(kind, blank) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(m.value, m.lazy_label) for m in kind]


NOT_ASKED = _l("Not asked")
OPTIONAL = _l("optional")


class SearchForm(Form):
    """One box: a full code goes straight to the participant; part of one lists matches."""

    code = StringField(
        _l("Participant code"),
        validators=[DataRequired(_l("Type a code or part of one.")), Length(max=40)],
        render_kw={
            **CODE_FIELD_KW,
            "autofocus": True,
            "type": "search",
            "placeholder": _l("e.g. MAPH0687"),
        },
    )
    submit = SubmitField(_l("Find"))


class CoarseFieldsMixin:
    """The optional, coarse facts a participant may share (never identifying)."""

    birth_year = IntegerField(
        _l("Birth year"),
        validators=[Optional(), NumberRange(1900, 2100, _l("Four digits, e.g. 1987."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": OPTIONAL},
    )
    gender = SelectField(_l("Gender"), choices=_choices(Gender, NOT_ASKED), default="")
    race_ethnicity = SelectField(
        _l("Race or ethnicity"), choices=_choices(RaceEthnicity, NOT_ASKED), default=""
    )
    zip3 = StringField(
        _l("First 3 digits of ZIP code"),
        validators=[Optional(), Regexp(r"^\d{3}$", message=_l("Three digits only."))],
        description=_l("Only three digits: never a full ZIP code or an address."),
        render_kw={
            "inputmode": "numeric",
            "maxlength": 3,
            "autocomplete": "off",
            "placeholder": OPTIONAL,
        },
    )
    primary_substance = SelectField(
        _l("Substance used most"), choices=_choices(Substance, NOT_ASKED), default=""
    )
    injects = SelectField(
        _l("Injects drugs"),
        choices=[
            SelectChoice("", NOT_ASKED),
            SelectChoice("yes", _l("Yes")),
            SelectChoice("no", _l("No")),
        ],
        default="",
    )

    def coarse_values(self) -> dict:
        """The coarse fields as plain values for the service."""
        return {
            "birth_year": self.birth_year.data,
            "gender": self.gender.data,
            "race_ethnicity": self.race_ethnicity.data,
            "zip3": self.zip3.data,
            "primary_substance": self.primary_substance.data,
            "injects": self.injects.data,
        }


class EnrolForm(CoarseFieldsMixin, Form):
    """A new participant: the code (built in the browser or typed) and optional facts."""

    code = StringField(
        _l("Participant code"),
        validators=[DataRequired(_l("Build or type the participant's code.")), Length(max=40)],
        description=_l(
            "Built from the questions above, typed directly, or a program card "
            "number. Letters and digits only."
        ),
        render_kw=CODE_FIELD_KW,
    )
    confirm_distinct = HiddenField(default="")
    submit = SubmitField(_l("Enrol participant"))


class DetailsForm(CoarseFieldsMixin, Form):
    """The optional facts of an enrolled participant."""

    submit = SubmitField(_l("Save details"))


class MergeForm(Form):
    """The code of the duplicate record to fold into this one."""

    other_code = StringField(
        _l("Code of the duplicate record"),
        validators=[DataRequired(_l("Type the other record's code.")), Length(max=40)],
        description=_l(
            "Its visits and referrals move to this participant; its code keeps "
            "finding this participant."
        ),
        render_kw=CODE_FIELD_KW,
    )
    confirm = BooleanField(_l("Yes, these two records are the same person"))
    submit = SubmitField(_l("Merge records"))

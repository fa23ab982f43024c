"""Forms for signing in and for the account and site admin pages."""

from __future__ import annotations

from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from ssp.forms import Form, MultiCheckboxField, optional_int
from ssp.i18n import _, _l
from ssp.security import Role
from ssp.staff.models import SiteKind

CODE_BOX = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "autocapitalize": "none",
    "spellcheck": "false",
}
ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in Role]
SITE_KIND_CHOICES = [SelectChoice(k.value, k.label) for k in SiteKind]


class SignInForm(Form):
    """Username and password."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class SiteChoiceMixin:
    """A default-site select filled from the active sites."""

    site_id = SelectField(_l("Default site"), coerce=optional_int, choices=[])

    def set_site_choices(self, sites) -> None:
        """Offer the given sites, plus 'no default site'."""
        self.site_id.choices = [SelectChoice("", _("No default site"))] + [
            SelectChoice(str(s.id), s.name) for s in sites
        ]


class UserCreateForm(SiteChoiceMixin, Form):
    """A new staff account."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter a username.")), Length(min=3, max=64)],
        description=_l("Letters, digits, dot, dash or underscore. Staff sign in with it."),
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter a password.")), Length(max=256)],
        description=_l("At least 12 characters. Give it to the person privately."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create account"))


class UserEditForm(SiteChoiceMixin, Form):
    """Role and default site of an existing account."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Save changes"))


class PasswordResetForm(Form):
    """A new password set by an admin."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=256)],
        description=_l("At least 12 characters. The person's current sessions end."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set password"))


class PasswordChangeForm(Form):
    """A user's change of their own password."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=256)],
        description=_l("At least 12 characters."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Repeat the new password.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class SiteForm(Form):
    """A site's name and kind."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(min=2, max=80)],
        render_kw={"autocomplete": "off"},
    )
    kind = SelectField(_l("Kind"), choices=SITE_KIND_CHOICES)
    quick_items = MultiCheckboxField(
        _l("Quick counters on the outreach screen"),
        coerce=int,
        choices=[],  # the active catalogue, set on each instance
        description=_l(
            "None ticked: a syringe, nasal naloxone, fentanyl and xylazine strips and a safer "
            "smoking kit."
        ),
    )
    submit = SubmitField(_l("Save site"))


class ConfirmPasswordForm(Form):
    """The signed-in person's password, typed again."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    # Shown (and required by the check) when the person uses two-step sign-in.
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[Length(max=20)],
        render_kw=CODE_BOX,
    )
    submit = SubmitField(_l("Continue"))


class SecondStepForm(Form):
    """The authenticator app's code, or a recovery code, after a right password."""

    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=20)],
        description=_l("The 6 digits the app shows now. Lost your phone? Type a recovery code."),
        render_kw={**CODE_BOX, "autofocus": True},
    )
    submit = SubmitField(_l("Sign in"))


class TwoStepSetupForm(Form):
    """The first code from the app, proving it was set up."""

    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(_l("Enter the 6-digit code the app shows.")), Length(max=20)],
        render_kw=CODE_BOX,
    )
    submit = SubmitField(_l("Turn on two-step sign-in"))


class TwoStepOffForm(Form):
    """Turning two-step sign-in off needs the password."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Turn off two-step sign-in"))


class LanguageForm(Form):
    """The language one reads the app in (Account → Language); empty: the browser's."""

    # The value is checked by the service (ssp.staff.services.language_code), so a bad
    # one gets that clear message rather than a generic "not a valid choice".
    language = SelectField(_l("Language"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save language"))

    def set_language_choices(self, choices) -> None:
        """Offer "Your browser's choice" and each language, by its own name."""
        self.language.choices = [SelectChoice("", _("Your browser's choice"))] + [
            SelectChoice(code, name, render_kw={"lang": code}) for code, name in choices
        ]


class LanguageSwitchForm(Form):
    """The language buttons of the sign-in page's footer: the button pressed names the
    language, ``next`` the page to go back to."""

    language = StringField()
    next = StringField(validators=[Length(max=2000)])

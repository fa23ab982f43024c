"""Forms for signing in and for the account and site admin pages."""

from __future__ import annotations

from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from ssp.forms import Form, MultiCheckboxField, optional_int
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
        "Username",
        validators=[DataRequired("Enter your username."), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Sign in")


class SiteChoiceMixin:
    """A default-site select filled from the active sites."""

    site_id = SelectField("Default site", coerce=optional_int, choices=[])

    def set_site_choices(self, sites) -> None:
        """Offer the given sites, plus 'no default site'."""
        self.site_id.choices = [SelectChoice("", "No default site")] + [
            SelectChoice(str(s.id), s.name) for s in sites
        ]


class UserCreateForm(SiteChoiceMixin, Form):
    """A new staff account."""

    username = StringField(
        "Username",
        validators=[DataRequired("Enter a username."), Length(min=3, max=64)],
        description="Letters, digits, dot, dash or underscore. Staff sign in with it.",
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    role = SelectField("Role", choices=ROLE_CHOICES)
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter a password."), Length(max=256)],
        description="At least 12 characters. Give it to the person privately.",
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Create account")


class UserEditForm(SiteChoiceMixin, Form):
    """Role and default site of an existing account."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Save changes")


class PasswordResetForm(Form):
    """A new password set by an admin."""

    password = PasswordField(
        "New password",
        validators=[DataRequired("Enter a new password."), Length(max=256)],
        description="At least 12 characters. The person's current sessions end.",
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Set password")


class PasswordChangeForm(Form):
    """A user's change of their own password."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Enter a new password."), Length(max=256)],
        description="At least 12 characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            InputRequired("Repeat the new password."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password")


class SiteForm(Form):
    """A site's name and kind."""

    name = StringField(
        "Name",
        validators=[DataRequired("Enter a name."), Length(min=2, max=80)],
        render_kw={"autocomplete": "off"},
    )
    kind = SelectField("Kind", choices=SITE_KIND_CHOICES)
    quick_items = MultiCheckboxField(
        "Quick counters on the outreach screen",
        coerce=int,
        choices=[],  # the active catalogue, set on each instance
        description="None ticked: a syringe, nasal naloxone, fentanyl and xylazine strips "
        "and a safer smoking kit.",
    )
    submit = SubmitField("Save site")


class ConfirmPasswordForm(Form):
    """The signed-in person's password, typed again."""

    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=256)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    # Shown (and required by the check) when the person uses two-step sign-in.
    code = StringField(
        "Code from your authenticator app",
        validators=[Length(max=20)],
        render_kw=CODE_BOX,
    )
    submit = SubmitField("Continue")


class SecondStepForm(Form):
    """The authenticator app's code, or a recovery code, after a right password."""

    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Enter the 6-digit code."), Length(max=20)],
        description="The 6 digits the app shows now. Lost your phone? Type a recovery code.",
        render_kw={**CODE_BOX, "autofocus": True},
    )
    submit = SubmitField("Sign in")


class TwoStepSetupForm(Form):
    """The first code from the app, proving it was set up."""

    code = StringField(
        "Code from the app",
        validators=[DataRequired("Enter the 6-digit code the app shows."), Length(max=20)],
        render_kw=CODE_BOX,
    )
    submit = SubmitField("Turn on two-step sign-in")


class TwoStepOffForm(Form):
    """Turning two-step sign-in off needs the password."""

    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Turn off two-step sign-in")

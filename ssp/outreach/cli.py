"""`ssp outreach ...`: the sealed outbox's keys."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("outreach")
def outreach_commands() -> None:
    """The outreach screen's sealing keys."""


@outreach_commands.command("rotate-key")
@click.option(
    "--retire-older",
    is_flag=True,
    help="Also retire every earlier key: contacts still sealed to one are then refused. "
    "Leave it out until the phones have synced (a day or two).",
)
@with_appcontext
def rotate_key(retire_older: bool) -> None:
    """Publish a new sealing key. Contacts sealed to earlier keys stay readable until
    those keys are retired."""
    from ssp.extensions import db
    from ssp.i18n import _, ngettext
    from ssp.outreach import services

    key = services.rotate_key()
    retired = services.retire_keys_before(key) if retire_older else 0
    db.session.commit()
    click.echo(_("Published the new sealing key %(kid)s.", kid=key.kid))
    if retire_older:
        click.echo(
            ngettext("Retired %(num)d earlier key.", "Retired %(num)d earlier keys.", retired)
        )
    else:
        click.echo(
            _(
                "Earlier keys still open what phones sealed to them; retire them with "
                "--retire-older once the phones have synced."
            )
        )

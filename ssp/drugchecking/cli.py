"""`ssp drug-check ...`: record a sample's result from the command line (a batch typed in
from paper, a script reading a lab's sheet), and print what is rising."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

# ssp.i18n is imported in the commands, not here: `ssp --help` stays quick.
FORMS = ("powder", "pill", "crystal", "liquid", "other")
OUTCOMES = ("positive", "negative", "unclear")


@click.group("drug-check")
def drug_check_commands() -> None:
    """Drug-checking results and what is rising."""


@drug_check_commands.command("add")
@click.option("--as", "username", required=True, help="The staff account recording it.")
@click.option("--sold-as", "sold_as", required=True, help="What the sample was sold as.")
@click.option("--form", "sample_form", type=click.Choice(FORMS), required=True)
@click.option(
    "--test",
    "tests",
    multiple=True,
    required=True,
    metavar="TEST=OUTCOME",
    help="A test and its outcome (positive, negative, unclear), e.g. "
    "'Xylazine test strip=positive'. Repeat for each test run.",
)
@click.option("--site", "site_name", help="The site where it was checked.")
@click.option("--zone", "zone_name", help="Or the outreach zone.")
@click.option(
    "--reaction",
    type=click.Choice(("yes", "no", "not_asked")),
    default="not_asked",
    show_default=True,
    help="Whether the person had or knew of a bad reaction.",
)
@click.option(
    "--at",
    "checked_at",
    type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%d"]),
    help="When it was checked, in the program's time zone (default: now).",
)
@with_appcontext
def add(
    username: str,
    sold_as: str,
    sample_form: str,
    tests: tuple[str, ...],
    site_name: str | None,
    zone_name: str | None,
    reaction: str,
    checked_at: dt.datetime | None,
) -> None:
    """Record one sample's result."""
    from sqlalchemy import func, select

    from ssp.drugchecking import services
    from ssp.drugchecking.models import CheckTest, SoldAs
    from ssp.extensions import db
    from ssp.i18n import _, ngettext
    from ssp.outreach.models import Zone
    from ssp.staff.services import site_by_name, user_by_username
    from ssp.timeutil import program_zone

    user = user_by_username(username)
    if user is None or not user.active:
        raise click.ClickException(
            _("%(username)s is not an active staff account.", username=repr(username))
        )

    def named(model, name):
        return db.session.scalar(
            select(model).where(func.lower(model.name) == " ".join(name.split()).lower())
        )

    entry = named(SoldAs, sold_as)
    if entry is None:
        names = ", ".join(e.name for e in services.sold_as_list()) or _("none yet")
        raise click.ClickException(
            _("%(name)s is not on the list (it has: %(names)s).", name=repr(sold_as), names=names)
        )
    outcomes = {}
    for text in tests:
        name, sep, outcome = text.rpartition("=")
        test = named(CheckTest, name) if sep else None
        if test is None:
            known = ", ".join(t.name for t in services.tests_list()) or _("none yet")
            raise click.ClickException(
                _(
                    "--test %(test)s: no such test (the list has: %(names)s).",
                    test=repr(text),
                    names=known,
                )
            )
        if outcome.strip().lower() not in OUTCOMES:
            raise click.ClickException(
                _(
                    "--test %(test)s: the outcome is positive, negative or unclear.",
                    test=repr(text),
                )
            )
        if test.id in outcomes:
            raise click.ClickException(
                _("--test %(test)s is given twice: give it once.", test=repr(test.name))
            )
        outcomes[test.id] = outcome.strip().lower()
    site = site_by_name(" ".join(site_name.split())) if site_name else None
    zone = named(Zone, zone_name) if zone_name else None
    if site_name and site is None:
        raise click.ClickException(_("No site is called %(name)s.", name=repr(site_name)))
    if zone_name and zone is None:
        raise click.ClickException(_("No outreach zone is called %(name)s.", name=repr(zone_name)))
    when = checked_at.replace(tzinfo=program_zone()) if checked_at else None
    details = services.CheckDetails(
        sold_as_id=entry.id,
        form=sample_form,
        outcomes=outcomes,
        reaction=reaction,
        site_id=site.id if site else None,
        zone_id=zone.id if zone else None,
        checked_at=when,
    )
    try:
        check = services.record_check(details, user)
        db.session.commit()
    except services.DrugCheckError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(
        ngettext(
            "Recorded result %(id)s: sold as %(sold_as)s, %(num)d test.",
            "Recorded result %(id)s: sold as %(sold_as)s, %(num)d tests.",
            len(outcomes),
            id=check.id,
            sold_as=entry.name.lower(),
        )
    )


@drug_check_commands.command("rising")
@click.option("--by", type=click.Choice(("week", "month")), default="week", show_default=True)
@click.option("--periods", type=click.IntRange(1, 52), default=8, show_default=True)
@with_appcontext
def rising(by: str, periods: int) -> None:
    """Print the signals and positive-of-tested by week or month."""
    from ssp.drugchecking import trends
    from ssp.i18n import _, format_number

    found = trends.signals()
    click.echo(_("Signals:") if found else _("Signals: none meets the rule today."))
    for signal in found:
        click.echo(f"  {signal.sentence}")
    chosen, lines = trends.table(by, periods)
    if not lines:
        click.echo(_("No samples checked in these periods."))
        return
    click.echo("")
    click.echo(
        _(
            "Sold as / finding: %(periods)s",
            periods=" | ".join(period.label for period in chosen),
        )
    )
    for line in lines:
        cells = " | ".join(
            _("%(positive)s of %(tested)s", positive=format_number(p), tested=format_number(t))
            if t
            else "-"
            for p, t in line.cells
        )
        click.echo(f"{line.sold_as} / {line.finds}: {cells}")

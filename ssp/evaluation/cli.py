"""`ssp export`: the evaluator export from the command line, made and audited exactly as
on the page (``export.make_export``), written to a file."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import click
from flask.cli import with_appcontext

from ssp.evaluation.choices import ATTRIBUTES, FORMATS, GRANULARITIES, LOCATIONS

UNIT_OPTIONS = {"visit": "visit", "person-month": "person_month"}


def _day(value: str | None, option: str) -> dt.date | None:
    from ssp.i18n import _

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.UsageError(
            _("%(option)s takes a day as YYYY-MM-DD, e.g. 2026-10-01.", option=option)
        ) from None


def _refuse_other_than_a_file(target: Path) -> None:
    """The zip is written beside ``target`` and renamed onto it, which would replace a
    device (/dev/full), a fifo, a socket or a symbolic link with a plain file: refuse
    anything there but a regular file, before any work is done."""
    from ssp.i18n import _

    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise click.ClickException(
            _("Cannot write to %(path)s: %(problem)s.", path=str(target), problem=error.strerror)
        ) from None
    if not stat.S_ISREG(mode):
        raise click.ClickException(
            _(
                "%(path)s exists and is not a regular file: give the path of a new file or of "
                "an earlier export.",
                path=str(target),
            )
        )


@click.command("export")
@click.option(
    "--period",
    default="",
    help="A month (2026-10), a quarter (2026-Q3) or a calendar year (2026); or give "
    "--from and --to instead.",
)
@click.option("--from", "first_day", metavar="YYYY-MM-DD", help="The first day.")
@click.option("--to", "last_day", metavar="YYYY-MM-DD", help="The last day (included).")
@click.option(
    "--per",
    "unit",
    type=click.Choice(list(UNIT_OPTIONS)),
    default="visit",
    show_default=True,
    help="One row per visit, or per person and month.",
)
@click.option(
    "--dates",
    "granularity",
    type=click.Choice(list(GRANULARITIES)),
    default="month",
    show_default=True,
    help="Dates as ISO weeks or months.",
)
@click.option(
    "--sites",
    "location",
    type=click.Choice(list(LOCATIONS)),
    default="kind",
    show_default=True,
    help="Site names, sites merged into their kinds, or no location.",
)
@click.option(
    "--attribute",
    "attributes",
    multiple=True,
    type=click.Choice(list(ATTRIBUTES)),
    help="A coarse attribute to include (repeat the option for several; none by default).",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(list(FORMATS)),
    default="csv",
    show_default=True,
    help="The data file inside the zip.",
)
@click.option("--purpose", required=True, help="What the data is for (kept in the audit trail).")
@click.option("--recipient", required=True, help="Who receives it (kept in the audit trail).")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the zip (data, README.md, metadata.json).",
)
@with_appcontext
def export_command(
    period: str,
    first_day: str | None,
    last_day: str | None,
    unit: str,
    granularity: str,
    location: str,
    attributes: tuple[str, ...],
    file_format: str,
    purpose: str,
    recipient: str,
    out_path: str,
) -> None:
    """Make a de-identified, k-anonymous line-level export for an evaluator (a zip),
    audited with its purpose, recipient and sha256."""
    from ssp.cli import _check_writable
    from ssp.evaluation.export import ExportError, ExportRequest, make_export
    from ssp.extensions import db
    from ssp.i18n import _, format_number, ngettext
    from ssp.reporting.archive import write_atomically

    target = Path(out_path)
    _refuse_other_than_a_file(target)
    _check_writable(target)
    request = ExportRequest(
        purpose=purpose,
        recipient=recipient,
        period=period,
        first_day=_day(first_day, "--from"),
        last_day=_day(last_day, "--to"),
        unit=UNIT_OPTIONS[unit],
        granularity=granularity,
        location=location,
        attributes=attributes,
        file_format=file_format,
    )
    try:
        made = make_export(request, user_id=None)
    except ExportError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    try:
        write_atomically(target, made.data)
    except OSError as error:
        db.session.rollback()
        raise click.ClickException(
            _("Could not write the export: %(problem)s.", problem=error.strerror)
        ) from None
    db.session.commit()
    note = made.note
    click.echo(
        _(
            "Wrote %(path)s (sha256 %(sha256)s): %(rows)s (%(people)s, %(anonymous)s); k = "
            "%(k)s, %(coarsened)s, %(left_out)s.",
            path=str(target),
            sha256=made.sha256,
            rows=ngettext(
                "%(count)s row", "%(count)s rows", note.rows, count=format_number(note.rows)
            ),
            people=ngettext(
                "%(count)s person",
                "%(count)s people",
                note.people,
                count=format_number(note.people),
            ),
            anonymous=ngettext(
                "%(count)s anonymous visit",
                "%(count)s anonymous visits",
                note.anonymous_rows,
                count=format_number(note.anonymous_rows),
            ),
            k=note.k,
            coarsened=ngettext(
                "%(count)s row coarsened",
                "%(count)s rows coarsened",
                note.rows_coarsened,
                count=format_number(note.rows_coarsened),
            ),
            left_out=ngettext(
                "%(count)s left out",
                "%(count)s left out",
                note.rows_left_out,
                count=format_number(note.rows_left_out),
            ),
        )
    )

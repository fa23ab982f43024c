"""`ssp import ...`: bring a program's spreadsheet history in, see what earlier imports
added, and undo one."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

SHAPES = ("visits", "tally")


@click.group("import")
def import_commands() -> None:
    """Import visits from a spreadsheet (CSV or XLSX), list imports, undo one."""


def _manager(username: str):
    """The active manager or admin account importing, or one line saying it is not one."""
    from ssp.i18n import _
    from ssp.security import Role
    from ssp.staff.services import user_by_username

    user = user_by_username(username)
    if user is None or not user.active or not user.has_role(Role.MANAGER, Role.ADMIN):
        raise click.ClickException(
            _("%(username)s is not an active manager or admin account.", username=repr(username))
        )
    return user


def _counted(what: str, n: int) -> str:
    """``n`` visits, rows, participants... as a sentence says them."""
    from ssp.i18n import format_number, ngettext

    count = format_number(n)
    if what == "rows":
        return ngettext("%(count)s row", "%(count)s rows", n, count=count)
    if what == "visits":
        return ngettext("%(count)s visit", "%(count)s visits", n, count=count)
    if what == "new participants":
        return ngettext("%(count)s new participant", "%(count)s new participants", n, count=count)
    if what == "participants":
        return ngettext("%(count)s participant", "%(count)s participants", n, count=count)
    if what == "referrals":
        return ngettext("%(count)s referral", "%(count)s referrals", n, count=count)
    raise ValueError(what)


@import_commands.command("run")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The manager or admin importing.")
@click.option(
    "--shape",
    type=click.Choice(SHAPES),
    help="visits: a row per visit, with a code column (blank: a walk-in). tally: a row per "
    "day and site, counts only. Default: the saved mapping's, or visits.",
)
@click.option("--mapping", "mapping_name", help="Start from the mapping saved under this name.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="HEADER=FIELD",
    help="Map a column: a field (code, date, site, contacts, syringes collected, naloxone "
    "reason, referral, ignore), an item's name (add :packs when the column counts packs) or "
    "a service's name. Repeat for each column to change.",
)
@click.option("--site", "site_name", help="The site of every row, when no column names it.")
@click.option(
    "--date-order",
    type=click.Choice(("MDY", "DMY")),
    help="How 03/04/2025 reads: MDY (March 4, the default) or DMY (3 April).",
)
@click.option("--save-mapping", help="Save the mapping under this name, to reuse next time.")
@click.option("--move-stock", is_flag=True, help="Take what the visits handed out from stock.")
@click.option(
    "--leave-out-refused", is_flag=True, help="Import the other rows of a file with refused rows."
)
@click.option(
    "--near-duplicates-checked",
    is_flag=True,
    help="The new codes one edit away from another code have been checked: they are "
    "different people.",
)
@click.option("--dry-run", is_flag=True, help="Show the preview only; write nothing.")
@click.option("--yes", is_flag=True, help="Import without asking after the preview.")
@with_appcontext
def run(
    path: str,
    username: str,
    shape: str | None,
    mapping_name: str | None,
    maps: tuple[str, ...],
    site_name: str | None,
    date_order: str | None,
    save_mapping: str | None,
    move_stock: bool,
    leave_out_refused: bool,
    near_duplicates_checked: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Preview a file's import, then (when confirmed) import it, all or nothing."""

    from ssp.extensions import db
    from ssp.i18n import _
    from ssp.imports import services
    from ssp.imports.mapping import MappingError, describe, parse_field_option
    from ssp.imports.models import ImportShape
    from ssp.imports.reading import FileProblem
    from ssp.imports.writer import Choices, ImportRefused
    from ssp.staff.services import site_by_name

    user = _manager(username)
    saved = services.saved_mapping(mapping_name) if mapping_name else None
    if mapping_name and saved is None:
        names = ", ".join(m.name for m in services.saved_mappings()) or _("none yet")
        raise click.ClickException(
            _(
                "No mapping is saved as %(name)s (saved: %(names)s).",
                name=repr(mapping_name),
                names=names,
            )
        )
    content = Path(path).read_bytes()
    try:
        loaded = services.load(Path(path).name, content)
    except FileProblem as error:
        raise click.ClickException(f"{path}: {error}") from None
    chosen_shape = ImportShape(shape) if shape else (saved.shape if saved else ImportShape.VISITS)
    mapping = services.mapping_for(loaded, chosen_shape, saved)
    mapping.shape = chosen_shape
    try:
        for text in maps:
            header, column = parse_field_option(text)
            if header not in mapping.columns:
                raise MappingError(
                    _(
                        "--map %(text)s: the file has no column %(header)s.",
                        text=repr(text),
                        header=repr(header),
                    )
                )
            mapping.columns[header] = column
    except MappingError as error:
        raise click.ClickException(str(error)) from None
    if site_name:
        site = site_by_name(" ".join(site_name.split()))
        if site is None:
            raise click.ClickException(_("No site is called %(name)s.", name=repr(site_name)))
        mapping.site_id = site.id
    if date_order:
        mapping.date_order = date_order
    db.session.rollback()

    click.echo(
        f"{loaded.file_name}: {_counted('rows', len(loaded.sheet.rows))}, "
        f"sha256 {loaded.sha256[:16]}…"
    )
    click.echo(_("Read as: %(shape)s. Columns:", shape=chosen_shape.label))
    width = max(len(header) for header in mapping.columns)
    for header, column in mapping.columns.items():
        is_item = (column.field or "").startswith("item:")
        unit = " " + _("(packs)") if column.unit == "packs" and is_item else ""
        click.echo(f"  {header:<{width}}  ->  {describe(column.field)}{unit}")
    with click.progressbar(length=len(loaded.sheet.rows), label=_("Checking rows")) as bar:
        planned = services.plan(loaded, mapping, lambda done, total: bar.update(done - bar.pos))
    if planned.mapping_problems:
        for problem in planned.mapping_problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(
            _("The mapping is not complete: use --map 'Header=field' (or --map 'Header=ignore').")
        )
    summary = planned.summary()
    _echo_preview(summary)
    _record_codes_shown(summary, user)
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    if not planned.visits:
        raise click.ClickException(
            _("Nothing to import: every row is already imported or refused.")
        )
    if not yes and not click.confirm(_("Import these rows?"), default=False):
        click.echo(_("Nothing was written."))
        return
    choices = Choices(move_stock, leave_out_refused, near_duplicates_checked)
    try:
        with click.progressbar(length=len(planned.visits), label=_("Writing visits")) as bar:
            batch = services.write(
                planned,
                user,
                choices,
                source="command line",
                mapping_name=save_mapping or mapping_name,
                progress=lambda done, total: bar.update(done - bar.pos),
            )
        if save_mapping:
            services.save_mapping(save_mapping, mapping, user)
            db.session.commit()
    except ImportRefused as error:
        raise click.ClickException(
            _("Nothing was written. %(reason)s", reason=str(error))
        ) from None
    figures = {
        "batch": batch.id,
        "visits": _counted("visits", batch.visits),
        "participants": _counted("new participants", batch.participants_created),
        "referrals": _counted("referrals", batch.referrals),
        "command": f"ssp import undo {batch.id} --as {username}",
    }
    if batch.moved_stock:
        click.echo(
            _(
                "Imported batch %(batch)s: %(visits)s, %(participants)s, %(referrals)s, stock "
                "moved. Undo it with: %(command)s",
                **figures,
            )
        )
    else:
        click.echo(
            _(
                "Imported batch %(batch)s: %(visits)s, %(participants)s, %(referrals)s. Undo it "
                "with: %(command)s",
                **figures,
            )
        )


def _record_codes_shown(summary: dict, user) -> None:
    """The near-duplicate pairs printed name enrolled participants: audited, as the page's
    view of them is."""
    from ssp.audit import record
    from ssp.extensions import db
    from ssp.imports.plan import known_codes

    codes = {code for pair in summary["near_duplicates"] for code in pair}
    shown = sorted(set(known_codes(codes).values())) if codes else []
    db.session.rollback()
    if shown:
        record(
            "participants_shown",
            object_type="page",
            user_id=user.id,
            detail={"endpoint": "ssp import run", "participants": shown},
        )
        db.session.commit()


def _echo_preview(summary: dict) -> None:
    from ssp.i18n import _, format_number, ngettext

    click.echo(
        _(
            "Would import %(rows)s as %(visits)s; %(new)s.",
            rows=_counted("rows", summary["rows_to_import"]),
            visits=_counted("visits", summary["visits"]),
            new=ngettext(
                "%(count)s participant would be new",
                "%(count)s participants would be new",
                summary["new_participants"],
                count=format_number(summary["new_participants"]),
            ),
        )
    )
    if summary["rows_already_imported"]:
        already = summary["rows_already_imported"]
        click.echo(
            ngettext(
                "Already imported (left as they are): %(count)s row.",
                "Already imported (left as they are): %(count)s rows.",
                already,
                count=format_number(already),
            )
        )
    if summary["rows_empty"]:
        click.echo(
            _(
                "Lines with 0 contacts and nothing else: %(count)s.",
                count=format_number(summary["rows_empty"]),
            )
        )
    if summary["rows_refused"]:
        click.echo(
            ngettext(
                "Refused: %(count)s row.",
                "Refused: %(count)s rows.",
                summary["rows_refused"],
                count=format_number(summary["rows_refused"]),
            )
        )
        for number, reason in summary["refused"]:
            click.echo("  " + _("row %(number)s: %(reason)s", number=number, reason=reason))
        if summary["rows_refused"] > len(summary["refused"]):
            more = summary["rows_refused"] - len(summary["refused"])
            click.echo("  " + _("… and %(count)s more.", count=format_number(more)))
    if summary["near_duplicate_count"]:
        click.echo(
            _(
                "New codes one edit away from another code: %(count)s.",
                count=format_number(summary["near_duplicate_count"]),
            )
        )
        for new, other in summary["near_duplicates"]:
            click.echo(f"  {new}  ~  {other}")
    if summary["months"]:
        click.echo(_("By month, as the report will count them:"))
        columns = [
            ("month", _("Month")),
            ("visits", _("Visits")),
            ("people", _("People")),
            ("anonymous", _("Walk-ins")),
            ("syringes", _("Syringes")),
            ("syringes_collected", _("Collected")),
            ("naloxone", _("Naloxone")),
            ("test_strips", _("Strips")),
            ("reversals", _("Reversals")),
            ("referrals", _("Referrals")),
        ]
        width = max(10, *(len(title) for _key, title in columns))
        click.echo("  " + " ".join(f"{title:>{width}}" for _key, title in columns))
        for month in summary["months"]:
            click.echo(
                "  "
                + " ".join(
                    f"{month[key]:>{width}}"
                    if key == "month"
                    else f"{format_number(month[key]):>{width}}"
                    for key, _title in columns
                )
            )


@import_commands.command("list")
@with_appcontext
def list_batches() -> None:
    """The latest imports, newest first."""
    from ssp.i18n import _, format_moment
    from ssp.imports import services
    from ssp.timeutil import local_time

    found = services.batches()
    if not found:
        click.echo(_("Nothing has been imported yet."))
    for batch in found:
        if batch.undone:
            state = _("undone %(day)s", day=format_moment(local_time(batch.undone_at), "day"))
        else:
            state = _("in place")
        click.echo(
            f"{batch.id:>5}  {format_moment(local_time(batch.imported_at))}  "
            f"{batch.file_name}  "
            + _(
                "%(visits)s, %(participants)s  (%(state)s)",
                visits=_counted("visits", batch.visits),
                participants=_counted("new participants", batch.participants_created),
                state=state,
            )
        )


@import_commands.command("undo")
@click.argument("batch_id", type=click.IntRange(1))
@click.option("--as", "username", required=True, help="The manager or admin undoing it.")
@click.option("--yes", is_flag=True, help="Undo without asking.")
@with_appcontext
def undo(batch_id: int, username: str, yes: bool) -> None:
    """Take an import back out: its visits, and the participants it enrolled unless
    something else was recorded for them since."""

    from ssp.extensions import db
    from ssp.i18n import _, format_number, ngettext
    from ssp.imports.models import ImportBatch
    from ssp.imports.writer import ImportRefused, undo_batch

    user = _manager(username)
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise click.ClickException(_("There is no import %(batch)s.", batch=batch_id))
    question = _(
        "Undo import %(batch)s (%(file)s, %(visits)s)?",
        batch=batch.id,
        file=batch.file_name,
        visits=_counted("visits", batch.visits),
    )
    if not yes and not click.confirm(question, default=False):
        click.echo(_("Nothing was changed."))
        return
    try:
        result = undo_batch(batch, user)
        db.session.commit()
    except ImportRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    figures = {
        "batch": batch_id,
        "visits": _counted("visits", result.visits),
        "referrals": _counted("referrals", result.referrals),
        "participants": _counted("participants", result.participants),
    }
    if result.participants_kept:
        click.echo(
            ngettext(
                "Undid import %(batch)s: removed %(visits)s, %(referrals)s and %(participants)s "
                "(kept %(kept)s who has other records).",
                "Undid import %(batch)s: removed %(visits)s, %(referrals)s and %(participants)s "
                "(kept %(kept)s who have other records).",
                result.participants_kept,
                kept=format_number(result.participants_kept),
                **figures,
            )
        )
    else:
        click.echo(
            _(
                "Undid import %(batch)s: removed %(visits)s, %(referrals)s and %(participants)s.",
                **figures,
            )
        )

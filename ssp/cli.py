"""The ``ssp`` command line: quickstart, serve, create-user, and Flask-Migrate's ``db``.

``main`` is the console script. Commands that need a configured app are registered on
the app (so ``flask --app ssp create-user`` works too); ``quickstart`` runs before any
configuration exists, so it hangs off the group itself.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import (
    FlaskGroup,
    NoAppException,
    ScriptInfo,
    routes_command,
    shell_command,
    with_appcontext,
)

from ssp.config import ConfigError, Defaults, check_database_uri, normalise_database_uri

DEFAULT_ADMIN_USERNAME = "admin"

CONFIG_TEMPLATE = """\
# ssp configuration, written by `ssp quickstart`. Every setting is described in
# config.example.py; SSP_* environment variables override what is set here.

# Signs session cookies and CSRF tokens. Keep it secret; changing it signs everyone out.
SECRET_KEY = {secret_key!r}

{database_setting}

# Printed on screens and reports.
PROGRAM_NAME = "Syringe services program"

# Decides which day and month a visit belongs to.
TIMEZONE = "America/Los_Angeles"
"""


# What a command prints for people is in the language of ssp.i18n.select_language()
# (SSP_LANGUAGE, then LANGUAGE, LC_ALL, LC_MESSAGES, LANG, then the LANGUAGE setting): the
# commands run in an app context. --help texts stay in English. ssp.i18n (and Babel) is
# imported only when a message is shown, so that `ssp --help` stays quick.


def _(text: str, **variables) -> str:
    """``ssp.i18n.gettext``: ``text`` in the command's language."""
    from ssp.i18n import gettext

    return gettext(text, **variables)


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """``ssp.i18n.ngettext``: the form of ``text`` for ``num``, in the command's language."""
    from ssp.i18n import ngettext as plural_form

    return plural_form(singular, plural, num, **variables)


def _number(value: int) -> str:
    """A count as the reader writes it (12,345 / 12.345)."""
    from ssp.i18n import format_number

    return format_number(value)


@contextmanager
def _speaking() -> Iterator[None]:
    """An app context that only speaks, for what quickstart says before a configured app
    exists: the command's language (SSP_LANGUAGE, LANG...), else English."""
    from ssp import i18n

    bare = Flask("ssp")
    bare.config["LANGUAGE"] = i18n.supported(os.environ.get("SSP_LANGUAGE")) or (
        i18n.SOURCE_LANGUAGE
    )
    i18n.init_app(bare)
    with bare.app_context():
        yield


#: The commands that need the pages too; every other command runs without importing
#: the views (`ssp report` in a cron job starts half a second sooner).
COMMANDS_WITH_PAGES = frozenset({"serve", "quickstart", "routes", "shell"})


def _create_app_for_cli() -> Flask:
    from ssp import create_app, register_migrations

    ctx = click.get_current_context(silent=True)
    names = []  # the command and the groups it is in, innermost first
    outer = ctx
    while outer is not None:
        names.append(outer.command.name if outer.command is not None else None)
        outer = outer.parent
    try:
        app = create_app(views=not names or names[0] in COMMANDS_WITH_PAGES)
        if "db" in names:  # Flask-Migrate's commands read its settings from the app
            register_migrations(app)
    except ConfigError as error:
        # NoAppException without a click context prints as one "Error: ..." line.
        raise NoAppException(str(error)) from None
    # However the command was found, its pooled connections close when it ends.
    if ctx is not None:
        ctx.find_root().call_on_close(lambda: _release_connections(app))
    return app


def _read_password_from_stdin() -> str:
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise click.ClickException(_("No password on standard input."))
    return password


def _generated_password() -> str:
    """A random password, at least 20 characters and at least the configured minimum."""
    from flask import current_app, has_app_context

    minimum = current_app.config["PASSWORD_MIN_LENGTH"] if has_app_context() else 12
    length = max(20, minimum)
    return secrets.token_urlsafe(length)[:length]


def _instance_path() -> Path:
    return Path(
        Flask("ssp", instance_path=os.environ.get("SSP_INSTANCE_PATH") or None).instance_path
    )


def _serve(app: Flask, host: str, port: int, threads: int) -> None:
    """Serve with waitress, holding the serving lock (`ssp restore` waits for us) and, on
    SQLite, checkpointing the write-ahead log in the background.

    Refuses, in one line, a database that cannot be reached or is not at the latest
    migration, and an address it cannot listen on.
    """
    from contextlib import nullcontext

    from ssp import register_views
    from ssp.backup import ServingLock
    from ssp.database import WalCheckpointer
    from ssp.dbstatus import app_database_problem
    from ssp.extensions import db

    register_views(app)  # whichever way the app was built
    with app.app_context():  # its messages in the command's language
        problem = app_database_problem(app)
        if problem:
            raise click.ClickException(_("Not serving. %(problem)s", problem=problem))
        server = _listening_server(app, host, port, threads)
        engine = db.engine
        serving = _(
            "ssp is serving on %(address)s  (Ctrl+C stops it)",
            address=f"http://{host}:{port}/",
        )
    url = engine.url.render_as_string(hide_password=False)  # a relative path resolved
    with ServingLock(url), WalCheckpointer.for_url(url) or nullcontext():
        engine.dispose()  # set-up's pooled connections still checkpoint in saves
        click.echo(serving)
        server.run()  # returns on Ctrl+C, having closed its sockets


def _listening_server(app: Flask, host: str, port: int, threads: int):
    """A waitress server on a socket bound here, or one line saying why it cannot be.

    The socket is bound before waitress sees it, so a refused address leaks nothing and
    nothing has claimed to be serving.
    """
    import errno
    import logging
    import socket

    from waitress import create_server

    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise click.ClickException(
            _(
                "Cannot listen on %(address)s: %(reason)s.",
                address=f"{host}:{port}",
                reason=error.strerror,
            )
        ) from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as error:
        listener.close()
        address = f"{host}:{port}"
        reasons = {
            errno.EADDRINUSE: _(
                "Cannot listen on %(address)s: the port is already in use (stop what uses "
                "it, or choose --port).",
                address=address,
            ),
            errno.EACCES: _(
                "Cannot listen on %(address)s: this user may not listen there (ports below "
                "1024 need privileges).",
                address=address,
            ),
            errno.EADDRNOTAVAIL: _(
                "Cannot listen on %(address)s: this machine has no such address (check --host).",
                address=address,
            ),
        }
        message = reasons.get(error.errno) or _(
            "Cannot listen on %(address)s: %(reason)s.",
            address=address,
            reason=error.strerror or str(error),
        )
        raise click.ClickException(message) from None
    logging.basicConfig()  # as waitress.serve does: its warnings reach the terminal
    return create_server(app, sockets=[listener], threads=threads, ident="ssp")


host_option = click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on."
)
port_option = click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
threads_option = click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Worker threads."
)


@click.command("quickstart")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new admin's password from standard input instead of printing one.",
)
@click.option(
    "--database-url",
    metavar="URL",
    help="Use this database (e.g. postgresql://ssp:PASSWORD@127.0.0.1:5432/ssp) instead of "
    "a SQLite file in the instance folder; written to the new config file.",
)
@click.option("--no-serve", is_flag=True, help="Set everything up, then exit without serving.")
@click.option(
    "--demo",
    is_flag=True,
    help="Also load a small synthetic program (300 people, 6 months) to explore.",
)
@host_option
@port_option
@threads_option
def quickstart(
    password_stdin: bool,
    database_url: str | None,
    no_serve: bool,
    demo: bool,
    host: str,
    port: int,
    threads: int,
) -> None:
    """Set up config, database, catalogue, a site and an admin; then serve. Safe to re-run."""
    with _speaking():  # no configured app yet
        password = _prepare_quickstart(password_stdin, database_url)
    app = _create_app_for_cli()
    try:
        with app.app_context():
            _set_up_database(app, password)
            if demo:
                _load_demo()
        if not no_serve:
            _serve(app, host, port, threads)
    finally:
        _release_connections(app)


def _prepare_quickstart(password_stdin: bool, database_url: str | None) -> str | None:
    """Check quickstart's input and write the config file if there is none; the admin's
    password from standard input, if asked for."""
    if database_url is not None:
        try:
            check_database_uri(normalise_database_uri(database_url))
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
    password = _read_password_from_stdin() if password_stdin else None
    if password is not None:
        # Checked before anything is written; the configured minimum is checked again later.
        from ssp.security import password_problem

        problem = password_problem(password, DEFAULT_ADMIN_USERNAME, Defaults.PASSWORD_MIN_LENGTH)
        if problem:
            raise click.ClickException(_("Admin password refused: %(problem)s", problem=problem))
    instance = _instance_path()
    config_file = Path(os.environ.get("SSP_CONFIG") or instance / "config.py")
    if config_file.exists():
        if database_url is not None:
            raise click.ClickException(
                _(
                    "%(file)s already exists: set SQLALCHEMY_DATABASE_URI in it instead of "
                    "passing --database-url.",
                    file=config_file,
                )
            )
        click.echo(_("Keeping the existing config file %(file)s", file=config_file))
    else:
        _write_config(config_file, database_url)
    return password


def _write_config(config_file: Path, database_url: str | None) -> None:
    """A new config file, readable by its owner only: it holds the secret key and perhaps
    the database password."""
    if database_url is None:
        setting = (
            "# SQLite file in this folder by default. For PostgreSQL:\n"
            '# SQLALCHEMY_DATABASE_URI = "postgresql://ssp:password@127.0.0.1:5432/ssp"'
        )
    else:
        setting = f"SQLALCHEMY_DATABASE_URI = {database_url!r}"
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.touch(mode=0o600)
    config_file.chmod(0o600)
    config_file.write_text(
        CONFIG_TEMPLATE.format(secret_key=secrets.token_hex(32), database_setting=setting)
    )
    click.echo(_("Wrote %(file)s with a new random SECRET_KEY", file=config_file))


def _load_demo() -> None:
    """A small synthetic program, once (a second quickstart --demo adds nothing)."""
    from sqlalchemy import func, select

    from ssp.demo import seed
    from ssp.extensions import db
    from ssp.visits.models import Visit

    if db.session.scalar(select(func.count()).select_from(Visit)):
        click.echo(_("Keeping the existing visits (no demo data added)"))
        return
    result = seed(participants=300, visits=3_000, months=6, seed_value=2026)
    db.session.commit()
    click.echo(
        _(
            "Loaded demo data: %(participants)s participants, %(visits)s visits",
            participants=_number(result.participants),
            visits=_number(result.visits),
        )
    )


def _set_up_database(app: Flask, password: str | None) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from ssp import register_migrations
    from ssp.extensions import db
    from ssp.security import Role, password_problem
    from ssp.staff import services as staff
    from ssp.staff.models import Site, User

    if password is not None:
        problem = password_problem(password, DEFAULT_ADMIN_USERNAME)
        if problem:
            raise click.ClickException(_("Admin password refused: %(problem)s", problem=problem))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    register_migrations(app)
    upgrade(directory=app.extensions["migrate"].directory)
    click.echo(_("Database ready: %(url)s", url=db.engine.url.render_as_string(hide_password=True)))

    _load_reference_data()
    site = db.session.scalar(select(Site).order_by(Site.id))
    if site is None:
        from ssp.i18n import force_locale

        with force_locale(app.config["LANGUAGE"]):  # a name, in the program's language
            name = _("Main site")
        site = staff.create_site(name=name)
        click.echo(
            _("Created the site %(name)s (rename it under Admin > Sites)", name=repr(site.name))
        )
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if admin is None:
        generated = _generated_password() if password is None else None
        admin = staff.create_user(
            username=DEFAULT_ADMIN_USERNAME,
            password=password or generated,
            role=Role.ADMIN,
            site_id=site.id,
            # A printed password has been seen: the person chooses their own at sign-in.
            must_change_password=generated is not None,
        )
        db.session.commit()
        click.echo(_("Created the administrator account %(name)s", name=repr(admin.username)))
        if generated:
            click.echo(
                _(
                    "Its password, shown only this once (keep it safe): %(password)s",
                    password=generated,
                )
            )
    else:
        db.session.commit()
        click.echo(
            _("Keeping the existing administrator account %(name)s", name=repr(admin.username))
        )


def _load_reference_data() -> None:
    """What a working program needs besides the schema: the default supply catalogue, the
    standard funder profiles and the drug-checking lists, each loaded only into an empty
    table."""
    from ssp.reporting.funders import load_default_profiles
    from ssp.supplies.services import load_default_catalogue

    added = load_default_catalogue()
    click.echo(
        ngettext(
            "Loaded the default supply catalogue (%(num)d item)",
            "Loaded the default supply catalogue (%(num)d items)",
            added,
        )
        if added
        else _("Keeping the existing supply catalogue")
    )
    profiles = load_default_profiles()
    if profiles:
        click.echo(
            ngettext(
                "Created the %(num)d standard funder report profile",
                "Created the %(num)d standard funder report profiles",
                profiles,
            )
        )
    from ssp.drugchecking.services import load_default_lists

    if load_default_lists():
        click.echo(_("Loaded the usual drug-checking lists (what samples are sold as, the tests)"))


def database_group() -> click.Group:
    """Flask-Migrate's ``db`` commands, with an ``upgrade`` that, once the schema is at the
    latest migration, also loads the reference data (so `ssp db upgrade` alone leaves a
    database ready for the desk and for reports, as `ssp quickstart` does)."""
    from flask_migrate.cli import db as migrate_commands
    from flask_migrate.cli import upgrade as migrate_upgrade

    @with_appcontext
    @click.pass_context
    def upgrade_then_load(ctx: click.Context, **options) -> None:
        from ssp.dbstatus import app_database_problem
        from ssp.extensions import db

        ctx.invoke(migrate_upgrade, **options)
        if options.get("sql") or app_database_problem(current_app._get_current_object()):
            return  # an offline script, or an upgrade to an earlier revision
        _load_reference_data()
        db.session.commit()

    upgrade = click.Command(
        "upgrade",
        callback=upgrade_then_load,
        params=migrate_upgrade.params,
        help="Upgrade to a later version; at the latest, also load the default supply "
        "catalogue and funder profiles into empty tables.",
    )

    @click.pass_context
    def keep_group_options(ctx: click.Context, directory: str | None, x_arg: tuple) -> None:
        # Flask-Migrate's own group sets g.directory and g.x_arg in an app context, which
        # loads the app (and asks for its secret key) before `ssp db upgrade --help`
        # could print; they are kept here and set when a command runs.
        ctx.meta["ssp.migrate_options"] = (directory, x_arg)

    commands = {**migrate_commands.commands, "upgrade": upgrade}
    return click.Group(
        "db",
        commands={name: _with_migrate_options(command) for name, command in commands.items()},
        params=migrate_commands.params,  # --directory and --x-arg
        callback=keep_group_options,
        help=migrate_commands.help,
    )


class LazyDatabaseGroup(click.Group):
    """``ssp db`` on the command line: Flask-Migrate (and Alembic, a third of a second to
    import) is loaded only when a ``db`` command or its help is asked for, so `ssp --help`
    stays quick. The commands are those of :func:`database_group`."""

    def __init__(self) -> None:
        super().__init__(
            "db",
            help="Perform database migrations.",
            params=[
                click.Option(
                    ["-d", "--directory"],
                    default=None,
                    help='Migration script directory (default is "migrations")',
                ),
                click.Option(
                    ["-x", "--x-arg"],
                    multiple=True,
                    help="Additional arguments consumed by custom env.py scripts",
                ),
            ],
        )
        self._loaded: click.Group | None = None

    def _group(self) -> click.Group:
        if self._loaded is None:
            self._loaded = database_group()
            self.callback = self._loaded.callback
        return self._loaded

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._group().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        self._group()
        return super().invoke(ctx)


def _with_migrate_options(command: click.Command) -> click.Command:
    """A copy of a ``db`` command that, in the app, first sets the group's options where
    Flask-Migrate reads them (g.directory, g.x_arg)."""
    import copy

    from flask import g

    run_command = command.callback

    @with_appcontext
    @click.pass_context
    def callback(ctx: click.Context, /, **options):
        g.directory, g.x_arg = ctx.meta.get("ssp.migrate_options", (None, ()))
        return ctx.invoke(run_command, **options)

    wrapped = copy.copy(command)
    wrapped.callback = callback
    return wrapped


@click.command("serve")
@host_option
@port_option
@threads_option
@with_appcontext
def serve(host: str, port: int, threads: int) -> None:
    """Serve the app with waitress, a production WSGI server."""
    _serve(current_app._get_current_object(), host, port, threads)


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["front_desk", "manager", "admin"]),
    help="What the account may do.",
)
@click.option("--site", "site_name", help="Name of the account's default site.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of printing a new one.",
)
@with_appcontext
def create_user(username: str, role: str, site_name: str | None, password_stdin: bool) -> None:
    """Create a staff account."""
    from ssp.extensions import db
    from ssp.staff import services as staff

    password = _read_password_from_stdin() if password_stdin else _generated_password()
    site_id = None
    if site_name is not None:
        site = staff.site_by_name(site_name)
        if site is None or not site.active:
            names = ", ".join(repr(s.name) for s in staff.active_sites()) or _("none yet")
            raise click.ClickException(
                _(
                    "No site in use is called %(name)s (sites in use: %(names)s); an admin "
                    "adds sites under Admin > Sites.",
                    name=repr(site_name),
                    names=names,
                )
            )
        site_id = site.id
    try:
        user = staff.create_user(
            username=username,
            password=password,
            role=role,
            site_id=site_id,
            # A printed password has been seen: the person chooses their own at sign-in.
            must_change_password=not password_stdin,
        )
    except staff.StaffError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    created = {
        "front_desk": _("Created the front desk account %(name)s", name=repr(user.username)),
        "manager": _("Created the program manager account %(name)s", name=repr(user.username)),
        "admin": _("Created the administrator account %(name)s", name=repr(user.username)),
    }
    click.echo(created[user.role.value])
    if not password_stdin:
        click.echo(_("Its password, shown only this once: %(password)s", password=password))
        click.echo(_("The person will be asked to choose their own when they first sign in."))


@click.command("reset-password")
@click.argument("username")
@with_appcontext
def reset_password(username: str) -> None:
    """Give an account a new password, printed once; it must be changed at the next
    sign-in (the way back for a lost admin password)."""
    from ssp.extensions import db
    from ssp.staff import services as staff

    user = staff.user_by_username(username)
    if user is None:
        raise click.ClickException(_("There is no account called %(name)s.", name=repr(username)))
    password = _generated_password()
    try:
        staff.reset_password(user, password)
    except staff.StaffError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        _(
            "New password for %(name)s, shown only this once: %(password)s",
            name=repr(user.username),
            password=password,
        )
    )
    click.echo(_("The person will be asked to choose their own when they next sign in."))


@click.command("reset-two-step")
@click.argument("username")
@with_appcontext
def reset_two_step(username: str) -> None:
    """Remove an account's second step (authenticator app, recovery codes and passkeys)
    and end its sessions: the way back for a lost phone when no admin can sign in."""
    from ssp.extensions import db
    from ssp.staff import services as staff
    from ssp.staff import two_step

    user = staff.user_by_username(username)
    if user is None:
        raise click.ClickException(_("There is no account called %(name)s.", name=repr(username)))
    two_step.turn_off(user, by_admin=True)
    staff.end_sessions(user, "two_step_changed")
    db.session.commit()
    click.echo(
        _(
            "Two-step sign-in of %(name)s is reset and their sessions have ended.",
            name=repr(user.username),
        )
    )
    if two_step.required(user):
        click.echo(_("They set it up again right after they next sign in with their password."))


@click.command("report")
@click.option(
    "--period",
    help="The period to report: 2026-10 (a month), 2026-Q3 (a quarter), 2026 (a calendar "
    "year), FY2027 (a fiscal year, named by the year it ends in) or 2026-10-YTD (the "
    "fiscal year to date through that month).",
)
@click.option("--month", help="The month to report, as YYYY-MM (the same as --period).")
@click.option(
    "--funder", default="standard", show_default=True, help="Short name of the funder profile."
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Also copy the PDF here.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the tables as CSV here.",
)
@with_appcontext
def report(
    period: str | None, month: str | None, funder: str, out_path: str | None, csv_path: str | None
) -> None:
    """Generate, archive and optionally copy a funder report (for cron jobs)."""
    from ssp.extensions import db
    from ssp.reporting.archive import commit_or_remove, write_atomically
    from ssp.reporting.services import ReportError, generate_report

    if (period is None) == (month is None):
        raise click.UsageError(_("Give the period to report: --period (or --month), once."))
    targets = [Path(p) for p in (out_path, csv_path) if p]
    for target in targets:
        _check_writable(target)
    try:
        made = generate_report(period=period or month, funder=funder, user_id=None)
    except ReportError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    try:
        if out_path:
            write_atomically(Path(out_path), made.pdf)
        if csv_path:
            write_atomically(Path(csv_path), made.csv.encode())
    except OSError as error:
        db.session.rollback()
        Path(made.report.path).unlink(missing_ok=True)
        raise click.ClickException(
            _("Could not write the output: %(reason)s.", reason=error.strerror)
        ) from None
    commit_or_remove(made.report)
    click.echo(
        _("Archived %(path)s (sha256 %(sha256)s)", path=made.report.path, sha256=made.report.sha256)
    )
    if out_path:
        click.echo(_("Wrote %(path)s", path=out_path))
    if csv_path:
        click.echo(_("Wrote %(path)s", path=csv_path))


def _check_writable(target: Path) -> None:
    """Refuse an output path before any work is done, so nothing is half-written."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise click.ClickException(_("The folder %(folder)s does not exist.", folder=folder))
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise click.ClickException(_("Cannot write to %(path)s.", path=target))


@click.command("seed-demo")
@click.option("--participants", default=2_000, show_default=True, type=click.IntRange(0, 5_000_000))
@click.option("--visits", default=20_000, show_default=True, type=click.IntRange(0, 50_000_000))
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 240))
@click.option(
    "--seed",
    "seed_value",
    default=1,
    show_default=True,
    type=int,
    help="The same seed gives the same data.",
)
@with_appcontext
def seed_demo(participants: int, visits: int, months: int, seed_value: int) -> None:
    """Add synthetic participants, visits, stock, referrals and follow-ups (for demos and
    benchmarks; never on a real program's database)."""
    from ssp.demo import seed
    from ssp.extensions import db

    with click.progressbar(length=visits, label=_("Visits"), show_pos=True) as bar:
        result = seed(
            participants=participants,
            visits=visits,
            months=months,
            seed_value=seed_value,
            progress=bar.update,
        )
    db.session.commit()
    click.echo(
        _(
            "Added %(participants)s participants, %(visits)s visits, %(items)s items, "
            "%(movements)s stock movements and %(referrals)s referrals.",
            participants=_number(result.participants),
            visits=_number(result.visits),
            items=_number(result.visit_items),
            movements=_number(result.stock_movements),
            referrals=_number(result.referrals),
        )
    )


@click.command("purge")
@click.option(
    "--inactive-years",
    required=True,
    type=click.IntRange(1, 100),
    help="Remove participants with no visit in this many years.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@with_appcontext
def purge(inactive_years: int, dry_run: bool) -> None:
    """Retention: remove participants not seen for N years (their visits stay, unlinked)."""
    from ssp.extensions import db
    from ssp.participants.services import plan_purge
    from ssp.participants.services import purge as carry_out

    plan = plan_purge(inactive_years=inactive_years)
    counts = {
        "participants": _number(len(plan.participant_ids)),
        "visits": _number(plan.visits_unlinked),
        "referrals": _number(plan.referrals_removed),
        "follow_ups": _number(plan.follow_ups_removed),
    }
    if dry_run:
        db.session.rollback()
        click.echo(
            ngettext(
                "Dry run, nothing changed: %(participants)s participants with no visit in "
                "%(num)d year; %(visits)s of their visits keep counting without a link; "
                "%(referrals)s referrals and %(follow_ups)s follow-ups removed.",
                "Dry run, nothing changed: %(participants)s participants with no visit in "
                "%(num)d years; %(visits)s of their visits keep counting without a link; "
                "%(referrals)s referrals and %(follow_ups)s follow-ups removed.",
                inactive_years,
                **counts,
            )
        )
        return
    carry_out(plan)
    db.session.commit()
    click.echo(
        ngettext(
            "Purged %(participants)s participants with no visit in %(num)d year; %(visits)s "
            "of their visits keep counting without a link; %(referrals)s referrals and "
            "%(follow_ups)s follow-ups removed.",
            "Purged %(participants)s participants with no visit in %(num)d years; %(visits)s "
            "of their visits keep counting without a link; %(referrals)s referrals and "
            "%(follow_ups)s follow-ups removed.",
            inactive_years,
            **counts,
        )
    )


@click.command("close-stale-follow-ups")
@click.option("--dry-run", is_flag=True, help="Say how many would close; change nothing.")
@with_appcontext
def close_stale_follow_ups(dry_run: bool) -> None:
    """Close as could not reach the open follow-ups with no contact for more than
    FOLLOW_UP_CLOSE_AFTER_DAYS days, each audited (for a daily cron job; running it
    again closes nothing more)."""
    from ssp.extensions import db
    from ssp.referrals import services as referrals

    days = referrals.close_after_days()
    if days is None:
        click.echo(_("FOLLOW_UP_CLOSE_AFTER_DAYS is 0: no follow-up is closed automatically."))
        return
    if dry_run:
        count = len(referrals.stale_follow_ups())
        db.session.rollback()
        click.echo(
            ngettext(
                "Dry run, nothing changed: %(count)s follow-up with no contact for more than "
                "%(days)s days would close as could not reach.",
                "Dry run, nothing changed: %(count)s follow-ups with no contact for more than "
                "%(days)s days would close as could not reach.",
                count,
                count=_number(count),
                days=days,
            )
        )
        return
    closed = referrals.close_stale_follow_ups()
    db.session.commit()
    click.echo(
        ngettext(
            "Closed %(count)s follow-up as could not reach (no contact for more than "
            "%(days)s days).",
            "Closed %(count)s follow-ups as could not reach (no contact for more than "
            "%(days)s days).",
            len(closed),
            count=_number(len(closed)),
            days=days,
        )
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--unencrypted",
    is_flag=True,
    help="Write a plain copy, readable by anyone who gets the file (only on purpose: by "
    "default the copy is encrypted to BACKUP_RECIPIENTS).",
)
@with_appcontext
def backup(path: str, unencrypted: bool) -> None:
    """A consistent copy of the SQLite database while the app runs, encrypted to the
    public keys in BACKUP_RECIPIENTS; on PostgreSQL, the pg_dump command to use (and a
    non-zero exit: ssp took no backup)."""
    from ssp.backup import (
        KEY_HELP,
        BackupError,
        is_postgresql,
        parse_recipients,
        postgresql_instructions,
    )
    from ssp.backup import backup as make_backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        recipients = (
            [] if unencrypted else parse_recipients(current_app.config.get("BACKUP_RECIPIENTS"))
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if is_postgresql(url):
        click.echo(postgresql_instructions(url, Path(path), recipients), err=True)
        raise SystemExit(2)
    if not recipients and not unencrypted:
        raise click.ClickException(
            _(
                "No backup key is configured, so this backup would not be encrypted; nothing "
                "was written. %(help)s Or give --unencrypted to write a plain copy on purpose.",
                help=KEY_HELP,
            )
        )
    try:
        result = make_backup(url, Path(path), recipients)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(
            _(
                "Could not write the backup: %(reason)s. Nothing was written.",
                reason=error.strerror or error,
            )
        ) from None
    click.echo(
        ngettext(
            "Wrote %(path)s (%(size)s byte, %(kind)s).",
            "Wrote %(path)s (%(size)s bytes, %(kind)s).",
            result.size,
            path=result.path,
            size=_number(result.size),
            kind=result.kind,
        )
    )


@click.command("backup-key")
@click.argument("path", type=click.Path(dir_okay=False))
def backup_key(path: str) -> None:
    """Make a key for encrypted backups: write its secret half to PATH (readable by you
    only; never over an existing file) and print the public key for BACKUP_RECIPIENTS.
    Best run on a computer other than the server: the key file must not stay there."""
    with _speaking():  # no configuration: it is best run away from the server
        _make_backup_key(Path(path))


def _make_backup_key(path: Path) -> None:
    from ssp.backup import BackupError, make_key

    try:
        key = make_key(path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Wrote the backup key to %(path)s (readable by you only).", path=key.path))
    click.echo(_("Its public key, for the server's config:"))
    click.echo(f'  BACKUP_RECIPIENTS = ["{key.recipient}"]')
    click.echo(
        _(
            "Keep %(path)s off the server, and a second copy offline in another safe place "
            "(a USB stick in a locked drawer, a password manager): without it, the backups "
            "made to this key cannot be restored by anyone. Restore with "
            "`ssp restore BACKUP --identity %(path)s`.",
            path=key.path,
        )
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--identity",
    "identity",
    metavar="KEYFILE",
    type=click.Path(exists=True, dir_okay=False),
    help="The backup key file (from `ssp backup-key`) that opens an encrypted backup.",
)
@click.option(
    "--unencrypted",
    is_flag=True,
    help="Restore a plain (unencrypted) backup; refused without this flag.",
)
@with_appcontext
def restore(path: str, identity: str | None, unencrypted: bool) -> None:
    """Put a SQLite backup made by `ssp backup` in place (refused while the server runs):
    an encrypted one with --identity KEYFILE, a plain one only with --unencrypted."""
    from ssp.backup import BackupError
    from ssp.backup import restore as put_back
    from ssp.extensions import db

    db.engine.dispose()  # this command's own connections must not hold the old file
    try:
        size = put_back(
            current_app.config["SQLALCHEMY_DATABASE_URI"],
            Path(path),
            identity=Path(identity) if identity else None,
            unencrypted=unencrypted,
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(
            _(
                "Could not restore %(path)s: %(reason)s. Nothing was changed.",
                path=path,
                reason=error.strerror or error,
            )
        ) from None
    click.echo(
        ngettext(
            "Restored %(path)s (%(size)s byte). Run `ssp db upgrade` if it is older.",
            "Restored %(path)s (%(size)s bytes). Run `ssp db upgrade` if it is older.",
            size,
            path=path,
            size=_number(size),
        )
    )


@click.group("audit")
def audit_commands() -> None:
    """The audit trail: check that no event was changed, removed or reordered."""


@audit_commands.command("verify")
@click.option(
    "--head",
    "expected_head",
    metavar="HASH",
    help="Also check that the trail still holds this head (the sha256 printed in a "
    "report's appendix, whole or its first 12 or more characters).",
)
@with_appcontext
def audit_verify(expected_head: str | None) -> None:
    """Walk the audit trail's hash chain in order; name the first event that was changed
    after it was recorded, or before which one is missing. Exit 1 if any."""
    import re

    from ssp.audit import verify_chain

    if expected_head is not None and not re.fullmatch(r"[0-9a-fA-F]{12,64}", expected_head):
        raise click.UsageError(
            _("--head takes the sha256 printed in a report: 12 to 64 hexadecimal characters.")
        )
    result = verify_chain(expected_head)
    if not result.intact:
        checked = result.head
        if checked.event_id is None:
            message = _("%(problem)s; it is the first event.", problem=result.problem)
        else:
            message = ngettext(
                "%(problem)s; the %(count)s event before it checks out (up to event #%(event)s).",
                "%(problem)s; the %(count)s events before it check out (up to event #%(event)s).",
                result.events,
                problem=result.problem,
                count=_number(result.events),
                event=checked.event_id,
            )
        click.echo(message, err=True)
        raise SystemExit(1)
    if result.head.event_id is None:
        click.echo(_("The audit trail is empty: no event has been recorded yet."))
    else:
        click.echo(
            ngettext(
                "The audit trail is intact: %(count)s event, head %(head)s (event #%(event)s).",
                "The audit trail is intact: %(count)s events, head %(head)s (event #%(event)s).",
                result.events,
                count=_number(result.events),
                head=result.head.hash[:16],
                event=result.head.event_id,
            )
        )
    if expected_head is not None:
        if result.found_head is None:
            click.echo(
                _(
                    "But no event carries the head %(head)s: the trail was rewritten or cut "
                    "back since that head was printed.",
                    head=expected_head.lower(),
                ),
                err=True,
            )
            raise SystemExit(1)
        click.echo(
            _(
                "Event #%(event)s carries the head %(head)s: the trail up to it is as it was "
                "when that was printed.",
                event=result.found_head.event_id,
                head=expected_head.lower(),
            )
        )


#: Commands registered on every app (``flask --app ssp <command>`` reaches them too).
app_commands = [
    serve,
    create_user,
    reset_password,
    reset_two_step,
    report,
    seed_demo,
    purge,
    close_stale_follow_ups,
    backup,
    backup_key,
    restore,
    audit_commands,
]


class SspGroup(FlaskGroup):
    """FlaskGroup that reports a configuration problem as one line, not as 'no such command',
    and a database without its tables as one line, not as a traceback."""

    def invoke(self, ctx: click.Context):
        """Run the command; a database that is missing or not migrated is one clear line."""
        from flask.cli import NoAppException
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return super().invoke(ctx)
        except NoAppException as error:
            # A configuration problem (no secret key...) is one line, not a usage text.
            problem = click.ClickException(error.format_message())
            problem.exit_code = 2
            raise problem from None
        except (OperationalError, ProgrammingError) as error:
            from ssp.dbstatus import explain_failure

            app = ctx.ensure_object(ScriptInfo).load_app()
            with app.app_context():  # the command's language
                message = explain_failure(error, app.config["SQLALCHEMY_DATABASE_URI"])
            raise click.ClickException(message) from None

    def _load_plugin_commands(self) -> None:
        """No commands from other packages' ``flask.commands`` entry points: the one
        installed (Flask-Limiter's) clears limits of storage ssp does not use, and loading
        it cost every command the limiter's import."""
        self._loaded_plugin_commands = True

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands, without loading the app: every command of the app is on this
        group too, so `ssp --help` needs no configuration (nor prints its error)."""
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Find a command; load the app first for commands that live on it."""
        if name not in self.commands:
            ctx.ensure_object(ScriptInfo).load_app()
        return super().get_command(ctx, name)


def _release_connections(app: Flask) -> None:
    """Close the app's pooled database connections when a command ends."""
    from ssp.extensions import db

    with app.app_context():
        db.engine.dispose()


# Without Flask's default commands: its `run` (the development server) would serve
# outside the restore guard that `ssp serve` holds. `shell` and `routes` come back below.
@click.group(
    cls=SspGroup,
    create_app=_create_app_for_cli,
    add_version_option=False,
    add_default_commands=False,
)
def main() -> None:
    """ssp: case management for syringe services programs."""


main.add_command(quickstart)
main.add_command(shell_command)
main.add_command(routes_command)
# On the group too, so `ssp report --help` works before any configuration exists (the
# app, and its secret key, are loaded only when a command runs), and `ssp --help` lists
# them without loading the app (tests/test_cli_help.py checks that none is missing).
for _command in app_commands:
    main.add_command(_command)
main.add_command(LazyDatabaseGroup())
from ssp.outreach.cli import outreach_commands  # noqa: E402

main.add_command(outreach_commands)
# The evaluator export lives in its package (the app registers it too).
from ssp.evaluation.cli import export_command  # noqa: E402

main.add_command(export_command)
from ssp.imports.cli import import_commands  # noqa: E402

main.add_command(import_commands)
from ssp.drugchecking.cli import drug_check_commands  # noqa: E402

main.add_command(drug_check_commands)


if __name__ == "__main__":  # python -m ssp.cli
    main()

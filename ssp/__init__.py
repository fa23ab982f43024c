"""ssp: case management for syringe services programs.

``create_app`` is the only place where the app is wired together; it reads like a table
of contents of the application.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A top-level folder (templates, migrations) in a checkout, or its copy in the wheel."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def create_app(config: Mapping[str, Any] | None = None, *, views: bool = True) -> Flask:
    """Build the app; ``config`` (for tests) replaces the config file and is applied last.

    ``views=False`` builds the app a command needs: the models, database, languages and
    commands, but no pages (their views and forms import most of the package, about half
    a second that a cron job's `ssp report` need not pay). :func:`register_views` adds
    them later, before the app serves.
    """
    # Imported here, not at the top: `ssp --help` loads this package and must stay quick.
    from ssp import database  # noqa: F401  (installs the SQLite connection listeners)
    from ssp.config import load_config
    from ssp.textinput import register_input_checks

    app = Flask(
        __name__,
        instance_path=os.environ.get("SSP_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
    )
    load_config(app, config)
    register_languages(app)
    check_feature_settings(app)
    register_url_converters(app)
    register_input_checks(app)
    register_extensions(app)
    if views:  # in the order the request hooks have always run
        register_migrations(app)
        register_rate_limits(app)
    register_models()
    register_security(app)
    register_static_assets(app)
    register_error_handlers(app)
    register_template_helpers(app)
    if views:
        register_views(app)
    register_commands(app)
    register_proxy_fix(app)
    return app


def register_views(app: Flask) -> None:
    """The pages: every feature's blueprint and the audit of pages that show codes (once;
    for an app built with ``views=False``, before it serves a request)."""
    if app.extensions.get("ssp_views"):
        return
    register_migrations(app)
    register_rate_limits(app)
    register_blueprints(app)
    register_view_audit(app)
    app.extensions["ssp_views"] = True


def register_models() -> None:
    """Import every model, so the mappers and the schema are complete without the views
    (which import them too)."""
    from ssp import audit  # noqa: F401
    from ssp.drugchecking import models as drug_checking  # noqa: F401
    from ssp.imports import models as imports  # noqa: F401
    from ssp.outreach import models as outreach  # noqa: F401
    from ssp.participants import models as participants  # noqa: F401
    from ssp.referrals import models as referrals  # noqa: F401
    from ssp.reporting import models as reporting  # noqa: F401
    from ssp.staff import models as staff  # noqa: F401
    from ssp.staff import passkeys, sessions, throttle, two_step  # noqa: F401
    from ssp.supplies import models as supplies  # noqa: F401
    from ssp.visits import models as visits  # noqa: F401


def register_languages(app: Flask) -> None:
    """Flask-Babel: the language of each page, report and command (ssp.i18n)."""
    from ssp.i18n import init_app

    init_app(app)


def check_feature_settings(app: Flask) -> None:
    """Validate settings that belong to a feature, so a bad one stops the app at start."""
    from ssp.config import ConfigError
    from ssp.participants.codes import DEFAULT_SCHEME, check_scheme
    from ssp.referrals.services import close_after_days

    close_after_days(app.config)  # a bad FOLLOW_UP_CLOSE_AFTER_DAYS: not at the first save

    scheme = app.config.get("PARTICIPANT_CODE_SCHEME") or DEFAULT_SCHEME
    try:
        app.config["PARTICIPANT_CODE_SCHEME"] = check_scheme(scheme)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    try:
        ZoneInfo(str(app.config["TIMEZONE"]))
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(
            f"TIMEZONE {app.config['TIMEZONE']!r} is not a time zone name; use one like "
            "'America/Los_Angeles'."
        ) from None


def register_url_converters(app: Flask) -> None:
    """``<int:id>`` in routes accepts only ASCII digits within the databases' INTEGER range,
    so an absurd id is a 404, never an overflow."""
    from werkzeug.routing import IntegerConverter

    from ssp.forms import MAX_ID

    class RecordId(IntegerConverter):
        regex = r"[0-9]{1,10}"

        def __init__(self, url_map, *args, **kwargs) -> None:
            super().__init__(url_map, min=1, max=MAX_ID)

    app.url_map.converters["int"] = RecordId


def register_extensions(app: Flask) -> None:
    """Bind the extension objects every app needs to this app."""
    from ssp import database
    from ssp.extensions import csrf, db, login_manager
    from ssp.i18n import _l

    db.init_app(app)
    database.register_request_phases(app)  # first hook: before anything queries
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "staff.sign_in"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def register_migrations(app: Flask) -> None:
    """Flask-Migrate and the migrations directory (``app.extensions["migrate"]``), once:
    with the pages, and for the commands that migrate or check the schema."""
    if "migrate" in app.extensions:
        return
    from flask_migrate import Migrate

    from ssp.extensions import db
    from ssp.participants.code_search import include_name

    ours = app.cli.commands.get("db")  # Flask-Migrate adds its own `db` group: keep ssp's
    Migrate(
        app,
        db,
        directory=str(resource_dir("migrations")),
        render_as_batch=True,
        include_name=include_name,  # the code-search indexes are not in the models
    )
    if ours is not None:
        app.cli.add_command(ours)


def register_rate_limits(app: Flask) -> None:
    """The sign-in rate limiter, once."""
    if "limiter" in app.extensions:
        return
    from ssp.ratelimit import limiter

    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Mount each feature's blueprint, its routes imported first (a package imports no
    views of its own, so its models load without them)."""
    from ssp.dashboard import bp as dashboard_bp
    from ssp.dashboard import views as _dashboard  # noqa: F401  (the routes)
    from ssp.drugchecking.alert_views import alerts_bp
    from ssp.drugchecking.views import bp as drugchecking_bp
    from ssp.evaluation.views import bp as evaluation_bp
    from ssp.imports.views import bp as imports_bp
    from ssp.outreach.views import bp as outreach_bp
    from ssp.participants import bp as participants_bp
    from ssp.participants import views as _participants  # noqa: F401
    from ssp.referrals import bp as referrals_bp
    from ssp.referrals import views as _referrals  # noqa: F401
    from ssp.reporting import bp as reporting_bp
    from ssp.reporting import views as _reporting  # noqa: F401
    from ssp.staff import account_views, audit_views  # noqa: F401
    from ssp.staff import bp as staff_bp
    from ssp.staff import views as _staff  # noqa: F401
    from ssp.supplies import bp as supplies_bp
    from ssp.supplies import stock_views  # noqa: F401
    from ssp.supplies import views as _supplies  # noqa: F401
    from ssp.visits import bp as visits_bp
    from ssp.visits import views as _visits  # noqa: F401

    app.register_blueprint(dashboard_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(supplies_bp)
    app.register_blueprint(participants_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(evaluation_bp)
    app.register_blueprint(outreach_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(drugchecking_bp)
    app.register_blueprint(alerts_bp)


def register_security(app: Flask) -> None:
    """Sign-in requirement on every route but the public ones; security headers."""
    from ssp.security import register_security as install

    install(app)


def register_static_assets(app: Flask) -> None:
    """Static files: versioned URLs kept a year by browsers, sent compressed."""
    from ssp.static_assets import init_app

    init_app(app)


def register_error_handlers(app: Flask) -> None:
    """Friendly error pages."""
    from ssp.errors import register_error_handlers as install

    install(app)


def register_view_audit(app: Flask) -> None:
    """Every page that shows a participant's code is audited."""
    from ssp.participants.view_audit import register_view_audit as install

    install(app)


def register_template_helpers(app: Flask) -> None:
    """Values and filters the templates use."""
    from ssp.i18n import format_moment, program_name
    from ssp.security import Role
    from ssp.timeutil import local_time

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {"Role": Role, "program_name": program_name()}

    @app.template_filter("localtime")
    def localtime_filter(value, style: str = "minute") -> str:
        """A stored UTC time in the program's zone, written for the reader; ``style`` is
        one of ssp.i18n.MOMENT_STYLES ("minute", "second", "day", "day_month", "month",
        "time")."""
        local = local_time(value)
        return format_moment(local, style) if local else ""


def register_commands(app: Flask) -> None:
    """The app's click commands (also reachable as ``flask --app ssp ...``)."""
    from ssp.cli import LazyDatabaseGroup, app_commands

    for command in app_commands:
        app.cli.add_command(command)
    # Replaces Flask-Migrate's, adding reference data; Alembic loads when a db command runs.
    app.cli.add_command(LazyDatabaseGroup())
    from ssp.drugchecking.cli import drug_check_commands
    from ssp.imports.cli import import_commands
    from ssp.outreach.cli import outreach_commands

    app.cli.add_command(outreach_commands)
    from ssp.evaluation.cli import export_command

    app.cli.add_command(export_command)
    app.cli.add_command(import_commands)
    app.cli.add_command(drug_check_commands)


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* from the configured number of proxies (0: none)."""
    counts = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(counts.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]

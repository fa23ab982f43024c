"""Fixtures shared by the whole suite: the app on a real database, a client, sign-in.

By default each test gets a fresh SQLite file. With ``SSP_TEST_DATABASE_URL`` set, the
same tests run on that database instead: the schema is created once per session and
every table is emptied (TRUNCATE ... RESTART IDENTITY) after each test.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from ssp import create_app
from ssp.config import normalise_database_uri
from ssp.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("SSP_TEST_DATABASE_URL")
SECRET = "test-secret-key-not-for-production"
PASSWORD = "a long test password"

# Cheap argon2 settings: the suite hashes many passwords. Production uses the defaults.
FAST_HASHING = {
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 8,
    "PASSWORD_HASH_PARALLELISM": 1,
}


def app_config(tmp_path, **overrides: Any) -> dict[str, Any]:
    """The config mapping every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "RATELIMIT_ENABLED": False,
        "REPORTS_DIR": str(tmp_path / "reports"),
        # Production asks admins and managers for a second step; the two-step tests
        # (tests/staff/test_two_step.py) turn it back on.
        "REQUIRE_TWO_STEP_ROLES": [],
        **FAST_HASHING,
        **overrides,
    }


@contextmanager
def scratch_postgresql_database() -> Iterator[str]:
    """A throwaway database on the PostgreSQL test server (its URL), dropped afterwards."""
    server_url = make_url(normalise_database_uri(TEST_DATABASE_URL))
    name = f"ssp_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def statements_sent(app, words: int) -> Iterator[list[str]]:
    """The SQL the app runs meanwhile, each statement as its first ``words`` words in upper
    case, with COMMIT where a transaction commits."""
    seen: list[str] = []
    with app.app_context():
        engine = _db.engine

    def statement(_conn, _cursor, sql, *_args) -> None:
        seen.append(" ".join(sql.split()[:words]).upper())

    def commit(_conn) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def on_postgresql() -> bool:
    """Whether this run uses the PostgreSQL test database."""
    return bool(TEST_DATABASE_URL) and normalise_database_uri(TEST_DATABASE_URL).startswith(
        "postgresql"
    )


@pytest.fixture(scope="session")
def _shared_schema(tmp_path_factory) -> Iterator[None]:
    """On a server database, create the schema once for the whole session."""
    if not TEST_DATABASE_URL:
        yield
        return
    app = create_app(app_config(tmp_path_factory.mktemp("schema")))
    with app.app_context():
        _db.drop_all()
        create_schema()
        _db.engine.dispose()
    yield


def create_schema() -> None:
    """The models' tables, stamped as the latest migration (as `ssp db upgrade` leaves
    them), so that `ssp serve` and /healthz accept the database. In an app context."""
    from ssp.dbstatus import shipped_revisions

    _db.create_all()
    latest, _ = shipped_revisions(current_app.extensions["migrate"].directory)
    with _db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        connection.execute(
            text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        )
        for revision in latest:
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:revision)"),
                {"revision": revision},
            )


def _empty_all_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
    with _db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def make_app(tmp_path, **overrides: Any) -> Flask:
    """A fresh app on the test database with its schema in place."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = create_app(app_config(tmp_path, **overrides))
    if not TEST_DATABASE_URL:
        with app.app_context():
            create_schema()
    return app


@pytest.fixture(autouse=True)
def _commands_speak_english(monkeypatch):
    """Commands follow SSP_LANGUAGE, then LANG: the tests expect English wherever they
    run (a test of another language sets its own)."""
    monkeypatch.setenv("SSP_LANGUAGE", "en")


@pytest.fixture
def app(tmp_path, _shared_schema) -> Iterator[Flask]:
    """The app, on an empty database."""
    app = make_app(tmp_path)
    yield app
    with app.app_context():
        _db.session.remove()
        if TEST_DATABASE_URL:
            _empty_all_tables()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The Flask-SQLAlchemy object, bound to the test app (use it inside app.app_context())."""
    return _db


def who(username: str) -> str:
    """The header fragment that shows who is signed in."""
    return f'<span class="who">{username} '


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Browser:
    """A test client that behaves like a person's browser: it sends the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def _remember_token(self, response) -> None:
        if response.mimetype == "text/html":
            match = CSRF_META.search(response.get_data(as_text=True))
            if match:
                self.token = match.group(1)

    def get(self, url: str, **kwargs: Any):
        """GET a page, keeping the CSRF token it carries."""
        response = self.client.get(url, **kwargs)
        self._remember_token(response)
        return response

    def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ):
        """POST a form, with the session's CSRF token unless ``csrf=False``."""
        data = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/", follow_redirects=True)
            data.setdefault("csrf_token", self.token)
        response = self.client.post(url, data=data, **kwargs)
        self._remember_token(response)
        return response

    def sign_in(self, username: str, password: str = PASSWORD):
        """Sign in through the real form; returns the response after redirects."""
        self.token = None
        response = self.post(
            "/sign-in", {"username": username, "password": password}, follow_redirects=True
        )
        return response

    def sign_out(self):
        """Sign out through the real button."""
        response = self.post("/sign-out", follow_redirects=True)
        self.token = None
        return response


@pytest.fixture
def client(app) -> FlaskClient:
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def browser(client) -> Browser:
    """A client that sends CSRF tokens like a browser would."""
    return Browser(client)


@dataclass
class Factory:
    """Makes rows through the real services, committed, and returns their ids."""

    app: Flask

    def site(self, name: str = "Main site", kind: str = "fixed") -> int:
        """A site; returns its id."""
        from ssp.staff import services

        with self.app.app_context():
            site = services.create_site(name=name, kind=kind)
            _db.session.commit()
            return site.id

    def user(
        self,
        username: str = "admin",
        role: str = "admin",
        *,
        password: str = PASSWORD,
        site_id: int | None = None,
        active: bool = True,
    ) -> int:
        """A staff account; returns its id."""
        from ssp.staff import services

        with self.app.app_context():
            user = services.create_user(
                username=username, password=password, role=role, site_id=site_id
            )
            user.active = active
            user_id = user.id
            _db.session.commit()
            return user_id

    def supply_item(
        self,
        name: str = "Syringe 1 mL 28G",
        category: str = "syringe",
        unit: str = "syringe",
        units_per_pack: int = 100,
        reorder_level: int = 0,
    ) -> int:
        """A catalogue item; returns its id."""
        from ssp.supplies import services

        with self.app.app_context():
            item = services.create_item(
                name=name,
                category=category,
                unit=unit,
                units_per_pack=units_per_pack,
                reorder_level=reorder_level,
            )
            _db.session.commit()
            return item.id

    def partner(
        self,
        name: str = "Downtown Clinic",
        categories=("moud", "hiv_care"),
        contact: str | None = "Intake line 555-0100, weekdays",
    ) -> int:
        """A partner agency; returns its id."""
        from ssp.referrals import services

        with self.app.app_context():
            partner = services.create_partner(
                name=name, categories=list(categories), contact=contact
            )
            partner_id = partner.id
            _db.session.commit()
            return partner_id

    def referral(
        self,
        participant_id: int,
        *,
        user_id: int,
        category: str = "moud",
        partner_id: int | None = None,
        now=None,
        site_id: int | None = None,
    ) -> int:
        """A referral (and its follow-up) made through the service; returns its id."""
        from ssp.referrals import services
        from ssp.staff.models import User

        with self.app.app_context():
            referral = services.make_referral(
                participant_id=participant_id,
                category=category,
                partner_id=partner_id,
                user=_db.session.get(User, user_id),
                now=now,
                site_id=site_id,
            )
            referral_id = referral.id
            _db.session.commit()
            return referral_id

    def profiles(self) -> None:
        """The three standard funder profiles."""
        from ssp.reporting.funders import load_default_profiles

        with self.app.app_context():
            load_default_profiles()
            _db.session.commit()

    def participant(self, code: str = "MAPH0687", site_id: int | None = None, **coarse) -> int:
        """An enrolled participant (near-duplicate check skipped); returns its id."""
        from ssp.participants import services

        with self.app.app_context():
            participant = services.enrol(
                code=code, site_id=site_id, confirm_distinct=True, **coarse
            )
            participant_id = participant.id
            _db.session.commit()
            return participant_id

    def merge(self, keep: int, absorb: int) -> None:
        """Merge participant ``absorb`` into ``keep``: its code becomes an earlier code."""
        from ssp.participants import services
        from ssp.participants.models import Participant

        with self.app.app_context():
            get = _db.session.get
            services.merge(keep=get(Participant, keep), absorb=get(Participant, absorb))
            _db.session.commit()

    def visit(
        self,
        participant_id: int | None,
        *,
        user_id: int,
        site_id: int,
        items: dict[int, int] | None = None,
        services: dict[str, int] | None = None,
        occurred_at=None,
        kind: str = "fixed",
        syringes_collected: int = 0,
        reasons: dict[int, str] | None = None,
        created_at=None,
    ) -> int:
        """A visit recorded through record_visit(); returns its id."""
        from ssp.staff.models import User
        from ssp.visits.models import NaloxoneReason, Service, Visit, VisitKind
        from ssp.visits.services import ItemLine, VisitDetails, record_visit

        reasons = reasons or {}
        with self.app.app_context():
            details = VisitDetails(
                site_id=site_id,
                kind=VisitKind(kind),
                occurred_at=occurred_at,
                items=tuple(
                    ItemLine(
                        item_id,
                        qty,
                        NaloxoneReason(reasons[item_id]) if item_id in reasons else None,
                    )
                    for item_id, qty in (items or {}).items()
                ),
                services={Service(k): v for k, v in (services or {}).items()},
                syringes_collected=syringes_collected,
            )
            visit = record_visit(
                participant_id=participant_id, details=details, user=_db.session.get(User, user_id)
            )
            if created_at is not None:
                _db.session.get(Visit, visit.id).created_at = created_at
            visit_id = visit.id
            _db.session.commit()
            return visit_id


@pytest.fixture
def factory(app) -> Factory:
    """Row factories for this test's app."""
    return Factory(app)


@pytest.fixture
def signed_in(browser, factory):
    """Return a function that creates an account with ``role`` and signs it in."""

    def sign_in_as(role: str = "admin", username: str | None = None) -> Browser:
        name = username or f"{role.replace('_', '')}1"
        factory.user(name, role)
        response = browser.sign_in(name)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return browser

    return sign_in_as

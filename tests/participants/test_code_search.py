"""Partial code search by index (ssp.participants.code_search): the index follows every
insert, merge and delete, the search uses it on both databases, and the schema
comparison knows it is not a model's."""

from __future__ import annotations

from sqlalchemy import text

from ssp.extensions import db
from ssp.participants import code_search, services
from ssp.participants.models import Participant
from tests.conftest import on_postgresql, statements_sent


def _found(part: str, limit: int = 20) -> list[str]:
    return [match.matched_code for match in services.search_partial(part, limit)]


def _queries(statements: list[str]) -> list[str]:
    """What was asked, without SQLite's BEGIN and the commits."""
    return [sql for sql in statements if not sql.startswith(("BEGIN", "COMMIT"))]


def test_a_piece_of_a_code_finds_it_through_merges_and_deletes(app, factory):
    kept = factory.participant("MAPH0687")
    absorbed = factory.participant("ZQRT4455")
    with app.app_context():
        assert _found("APH06") == ["MAPH0687"]
        assert _found("RT44") == ["ZQRT4455"]
        assert _found("XYZ") == []
        services.merge(
            keep=db.session.get(Participant, kept), absorb=db.session.get(Participant, absorbed)
        )
        db.session.commit()
        # the absorbed code is an alias now: found through the alias index, for its person
        matches = services.search_partial("RT44")
        assert [(m.participant.id, m.matched_code) for m in matches] == [(kept, "ZQRT4455")]
        person = db.session.get(Participant, kept)
        person.code = "NEWC0001"
        db.session.commit()
        assert _found("APH06") == [] and _found("WC00") == ["NEWC0001"]
        db.session.execute(text("DELETE FROM participant_aliases"))
        db.session.delete(person)
        db.session.commit()
        assert _found("WC00") == [] and _found("RT44") == []


def test_codes_and_earlier_codes_are_searched_in_one_query(app, factory):
    """Each person once (by their own code when an alias matches too), codes that start
    with the text first, at most the limit in all; an exact code or alias in one query."""
    own_and_alias = factory.participant("KLMN1234")
    starts = factory.participant("LMN19999")
    through_alias = factory.participant("QQQQ0001")
    factory.merge(keep=through_alias, absorb=factory.participant("XLMN1777"))
    factory.merge(keep=own_and_alias, absorb=factory.participant("ZZLMN100"))
    with app.app_context():
        with statements_sent(app, words=4) as statements:
            matches = services.search_partial("LMN1")
        assert [(m.participant.id, m.matched_code) for m in matches] == [
            (starts, "LMN19999"),
            (own_and_alias, "KLMN1234"),
            (through_alias, "XLMN1777"),
        ]
        assert len(_queries(statements)) == 1, statements
        assert _found("LMN1", 2) == ["LMN19999", "KLMN1234"]
        for code, person in (("XLMN1777", through_alias), ("KLMN1234", own_and_alias)):
            with statements_sent(app, words=4) as statements:
                assert services.find_by_code(code).id == person
            assert len(_queries(statements)) == 1, statements
        assert services.find_by_code("LMN1") is None


def test_short_and_unusual_pieces_still_search(app, factory):
    factory.participant("MAPH0687")
    with app.app_context():
        assert _found("AP") == ["MAPH0687"]  # shorter than a trigram: read every code
        assert _found("A%H") == [] and _found("A_H") == []  # wildcards are only characters


def test_the_search_asks_the_index(app, factory):
    factory.participant("MAPH0687")
    with app.app_context():
        if on_postgresql():
            assert db.session.execute(
                text("SELECT indexname FROM pg_indexes WHERE indexname = :name"),
                {"name": code_search.POSTGRESQL_INDEXES["participants"]},
            ).scalar()
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(
                row[0]
                for row in db.session.execute(
                    text("EXPLAIN SELECT id FROM participants WHERE code LIKE '%APH0%'")
                )
            )
            assert code_search.POSTGRESQL_INDEXES["participants"] in plan, plan
        else:
            assert services._uses_fts("APH0")
            best = services._containing(Participant, "participants", fts=True)
            statement = (
                db.select(Participant.id)
                .where(best)
                .params(pattern="%APH0%")
                .compile(db.engine, compile_kwargs={"literal_binds": True})
            )
            plan = " ".join(
                str(row) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {statement}"))
            )
            assert "participant_code_trigrams VIRTUAL TABLE" in plan, plan
            db.session.rollback()


def test_the_schema_comparison_leaves_the_search_objects_out():
    for name in code_search.SQLITE_TABLES.values():
        for suffix in ("", "_data", "_idx", "_docsize", "_config"):
            assert not code_search.include_name(name + suffix, "table", {})
    for name in code_search.POSTGRESQL_INDEXES.values():
        assert not code_search.include_name(name, "index", {})
    assert code_search.include_name("participants", "table", {})
    assert code_search.include_name("ix_visits_month_scan", "index", {})

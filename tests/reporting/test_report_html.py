"""The accessible twin of the PDF: one self-contained HTML file, downloaded from the
preview, with the same figures, nothing from outside, names escaped, every symbol in
words, and nothing that points at a person."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

from ssp.extensions import db
from ssp.reporting.document import Chart, ReportDocument, Row, Section, Table
from tests.conftest import Browser
from tests.reporting.test_report_files import MARKERS, _exact_profile

HOSTILE = "<script>alert(1)</script>"
URL = "/reports/preview.html?period=2026-10&funder={}"
VOID = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "col", "area", "base"}
# Every element the file may hold: nothing that loads, runs or submits anything.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "nav", "section",
    "h1", "h2", "h3", "p", "strong", "dl", "dt", "dd", "time", "ol", "ul", "li", "a", "span",
    "table", "caption", "thead", "tbody", "tr", "th", "td", "code",
}  # fmt: skip


class Page(HTMLParser):
    """What the tests read from an HTML page: its tags, headings and tables, with the
    text a sighted reader sees (visually-hidden words left out) and the words a screen
    reader hears (symbols hidden with aria-hidden left out)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[tuple[int, str]] = []
        self.tables: list[dict] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, unseen, unheard)
        self._text: list[str] | None = None
        self._heard: list[str] | None = None
        self._table: dict | None = None
        self._row: list | None = None
        self._in_body = False
        self._caption: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in VOID:
            return
        classes = (attributes.get("class") or "").split()
        self._stack.append(
            (
                tag,
                "vh" in classes or "visually-hidden" in classes,
                attributes.get("aria-hidden") == "true",
            )
        )
        if re.fullmatch(r"h[1-6]", tag):
            self._text, self._heard = [], []
        elif tag == "table":
            self._table = {
                "class": attributes.get("class", ""),
                "caption": None,
                "rows": [],
                "scopes": [],
            }
        elif tag == "caption":
            self._caption = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("th", "td"):
            self._text, self._heard = [], []
            if tag == "th" and self._table is not None:
                self._table["scopes"].append(attributes.get("scope"))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self._stack:
            if self._stack.pop()[0] == tag:
                break
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append((int(tag[1]), "".join(self._heard or []).strip()))
        elif tag == "caption" and self._table is not None:
            self._table["caption"] = "".join(self._caption or []).strip()
            self._caption = None
        elif tag in ("th", "td") and self._row is not None:
            self._row.append(("".join(self._text).strip(), "".join(self._heard).strip()))
        elif tag == "tr" and self._row is not None:
            self._table["rows"].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self.tables.append(self._table)
            self._table = None

    def handle_data(self, data):
        unseen = any(s[1] for s in self._stack)
        unheard = any(s[2] for s in self._stack)
        if self._text is not None and not unseen:
            self._text.append(data)
        if self._heard is not None and not unheard:
            self._heard.append(data)
        if self._caption is not None:
            self._caption.append(data)

    def seen(self, kind: str | None = None) -> list[list[str]]:
        """The body rows of the tables (of a class), as a sighted reader sees them."""
        return [
            [[seen for seen, _ in row] for row in table["rows"]]
            for table in self.tables
            if kind is None or table["class"] == kind
        ]


def _manager(app) -> Browser:
    manager = Browser(app.test_client())
    manager.sign_in("markeruser")
    return manager


def _download(manager: Browser, funder: str) -> str:
    response = manager.get(URL.format(funder))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="2026-10_{funder}.html"'
    )
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def _hostile_program(app, program) -> None:
    """A profile and a site whose names are markup, and a narrative that is too."""
    from ssp.reporting.funders import SECTIONS, create_profile
    from ssp.reporting.narratives import save_narrative
    from ssp.staff.models import Site

    app.config["MIN_SUPPRESSION_THRESHOLD"] = 2
    with app.app_context():
        create_profile(
            name="hostile",
            funder_name='Funder "<b>bold</b>" & co',
            grant_number="<i>G-1</i>",
            program_name=HOSTILE,
            sections=list(SECTIONS),
            threshold=2,
            contact='"><svg onload=alert(2)>',
        )
        db.session.get(Site, program["main"]).name = HOSTILE
        save_narrative(
            "2026-10",
            user_id=program["user"],
            activities=f"{HOSTILE} outreach on two evenings\nand a clinic day",
            barriers="",
            events="",
        )
        db.session.commit()


def test_the_html_is_one_self_contained_file(app, program):
    html = _download(_manager(app), "standard")
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert re.search(r"<title>[^<]*October 2026 report to Program funders</title>", html)
    lowered = html.lower()
    for outside in ("http://", "https://", "src=", "url(", "@import", "<link", "<script"):
        assert outside not in lowered, outside
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    for tag, attributes in page.tags:
        if "href" in attributes:
            assert tag == "a" and attributes["href"].startswith("#"), attributes
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
    assert html.count("<style>") == 1 and [t for t, _ in page.tags].count("main") == 1
    # Every link inside the file goes somewhere inside it.
    ids = {a["id"] for _, a in page.tags if "id" in a}
    assert len(ids) == sum(1 for _, a in page.tags if "id" in a)  # no id twice
    assert {a["href"][1:] for t, a in page.tags if t == "a"} <= ids


def test_headings_in_order_and_tables_for_screen_readers(app, program):
    html = _download(_manager(app), "standard")
    page = Page(html)
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    for table in page.tables:
        assert table["caption"], table
        assert table["scopes"] and all(s in ("col", "row") for s in table["scopes"]), table
    # The symbols in words: "<11" is read as "fewer than 11", "*" as hidden.
    heard = {heard for table in page.tables for row in table["rows"] for _, heard in row}
    assert "fewer than 11" in heard and "hidden to protect a small count" in heard
    assert not any(h in ("<11", "*", "†") for h in heard)
    # Charts are tables of months in words, not pictures.
    charts = [t for t in page.tables if t["class"] == "chart"]
    assert [t["caption"] for t in charts][:2] == [
        "People served (unduplicated people), by month",
        "Visits, by month",
    ]
    assert [row[0][1] for row in charts[0]["rows"]] == ["September 2026", "October 2026"]
    assert charts[0]["rows"][1][1][0] == "left blank (small count)"
    assert "Counts from 1 to 10 are shown as &lt;11" in html


def test_the_cover_the_withheld_tables_and_the_appendix(app, program):
    html = _download(_manager(app), "standard")
    page = Page(html)
    assert page.headings[0] == (
        1,
        "Syringe services program: October 2026 report to Program funders",
    )
    for fact in ("<dt>Funder</dt><dd>Program funders</dd>", "<dt>Period</dt><dd>October 2026"):
        assert fact in html, fact
    assert re.search(r'<dt>Generated</dt><dd><time datetime="\d{4}-\d\d-\d\d">', html)
    assert not re.search(r"\d{1,2}:\d{2}", html.split("About this report")[0])  # no times
    after = html.split('id="table-summary-sites">Visits by site</h3>')[1][:300]
    assert '<p class="withheld"><strong>Withheld.</strong> Too few people' in after
    appendix = html.split('id="section-about"')[1]
    assert "<li><strong>Visits by site</strong>: Too few people" in appendix
    assert re.search(r"Further cells hidden \(\*\)</th><td class=\"num\">\d+</td>", appendix)
    assert re.search(r"<code>[0-9a-f]{64}</code>", appendix)


def test_the_figures_are_the_previews_and_the_pdfs(app, program):
    from ssp.reporting.models import Report

    _exact_profile(app)
    manager = _manager(app)
    for funder in ("standard", "exact", "california-ssp", "sharp"):
        preview = manager.get(URL.format(funder).replace("preview.html", "preview"))
        html = _download(manager, funder)
        figures = Page(html).seen("figures")
        assert len(figures) >= 2 and figures == Page(preview.get_data(as_text=True)).seen(), funder
        response = manager.post("/reports/generate", {"period": "2026-10", "funder": funder})
        assert response.status_code == 303
        with app.app_context():
            report = db.session.scalars(
                db.select(Report).where(Report.funder == funder).order_by(Report.id.desc())
            ).first()
            sha = report.parameters["figures_sha256"]
        assert f"<code>{sha}</code>" in html, funder


def test_names_are_escaped(app, program):
    _hostile_program(app, program)
    html = _download(_manager(app), "hostile")
    page = Page(html)
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    assert not any(name.startswith("on") for _, a in page.tags for name in a)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f"<title>{escaped}: October 2026 report to" in html
    assert f'<tr><th scope="row">{escaped}</th><td class="num">3</td>' in html  # the site
    assert f"{escaped} outreach on two evenings" in html  # the narrative
    assert "<dd>&#34;&gt;&lt;svg onload=alert(2)&gt;</dd>" in html  # the contact
    assert "Funder &#34;&lt;b&gt;bold&lt;/b&gt;&#34; &amp; co" in html


def test_nothing_points_at_a_person(app, program):
    _exact_profile(app)
    manager = _manager(app)
    for funder in ("standard", "exact", "california-ssp", "sharp"):
        html = _download(manager, funder).lower()
        for marker in MARKERS:
            assert marker.lower() not in html, (funder, marker)
        assert "csrf" not in html


def test_a_bad_request_is_refused_with_a_message(app, program):
    manager = _manager(app)
    response = manager.get("/reports/preview.html?period=2999-01&funder=standard")
    assert response.status_code == 400 and "has not happened yet" in response.get_data(as_text=True)
    assert manager.get(URL.format("nobody")).status_code == 400


def test_the_preview_links_to_it(app, program):
    page = _manager(app).get("/reports/preview?period=2026-10&funder=standard")
    assert (
        'href="/reports/preview.html?period=2026-10&amp;funder=standard">'
        "Download accessible HTML</a>"
    ) in page.get_data(as_text=True)


# --- the writer alone, on a hand-made document -------------------------------------


def _document() -> ReportDocument:
    t = 11
    glance = Table(
        "glance",
        "At a glance",
        "See each row",
        ["Oct 26", "Jul 26 to Sep 26", "Counted as"],
        [
            Row("People served", ["<11", "†", "People"], statuses=["small", "corrected", "text"]),
            Row("Return ratio", ["*", "—", "Ratio"]),  # no statuses: read from the text
        ],
    )
    section = Section(
        "trends",
        "Trends over 12 months",
        "Months with a small count are left blank.",
        tables=[Table("sites", "Visits by site", "Visits", ["Visits"], [], withheld="Too few.")],
        charts=[Chart("visits", "Visits", "Visits", ["Sep 26", "Oct 26"], [None, 1200])],
    )
    return ReportDocument(
        program_name="Harbor & Co",
        funder_name="Test funder",
        grant_number=None,
        profile_name="test",
        period_key="2026-10",
        period_label="October 2026",
        generated_on=dt.date(2026, 11, 3),
        threshold=t,
        time_zone="UTC",
        glance=glance,
        sections=[section],
        no_activity=True,
        parameters={"contact": "Program manager, 555-0100"},
        narrative=[("Activities this period", "Line one\nline two </p><p>")],
    )


def test_the_writer_on_its_own():
    from ssp.reporting.html_export import render_html

    document = _document()
    html = render_html(document)  # no app, no request
    assert html == render_html(document)  # the same document, the same text
    page = Page(html)
    heard = [cells for table in page.tables for row in table["rows"] for cells in row]
    assert ("<11", "fewer than 11") in heard
    assert ("†", "changed by fewer than 11 since an earlier version") in heard
    assert ("*", "hidden to protect a small count") in heard
    assert ("—", "not applicable") in heard
    assert ("1,200", "1,200") in heard and ("left blank (small count)",) * 2 in heard
    assert "† marks a figure that changed by fewer than 11" in html
    assert "<dt>Contact</dt><dd>Program manager, 555-0100</dd>" in html
    assert "Grant or contract" not in html
    assert "No visits were recorded in this period." in html
    assert '<p class="narrative">Line one\nline two &lt;/p&gt;&lt;p&gt;</p>' in html
    assert "<strong>Withheld.</strong> Too few." in html
    assert "<h1>Harbor &amp; Co: October 2026 report to Test funder</h1>" in html
    assert '<span class="vh">July 2026 to September 2026</span>' in html
    assert [level for level, _ in page.headings] == [1, 2, 2, 2, 3, 2, 3, 3, 2, 3, 3, 3]
    assert "Disclosure audit" not in html  # no audit on a hand-made document
    assert "<li><strong>Visits by site</strong>: Too few.</li>" in html

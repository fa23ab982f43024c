"""Turn a month's metrics into a report document.

Every figure goes through one release model (:mod:`ssp.reporting.release`): the builder
declares each quantity once, with what it counts and how it relates to the others, and
lays the printed tables out as views of those cells. :mod:`ssp.reporting.disclosure`
then decides, for the whole release at once and against the archive, what is printed;
the tables are filled from those decisions, so nothing can be printed that the audit
has not seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ssp.i18n import _, _l, pgettext
from ssp.reporting.disclosure import AuditResult, protect
from ssp.reporting.document import (
    COUNTED_AS,
    SEE_EACH_ROW,
    Chart,
    ReportDocument,
    Row,
    Section,
    Table,
    status_of,
)
from ssp.reporting.funders import SECTIONS
from ssp.reporting.metrics import (
    FIELD_KINDS,
    FieldContacts,
    Glance,
    MonthMetrics,
    glance_of,
    printed_labels,
)
from ssp.reporting.release import (
    FROZEN,
    HEADLINE,
    SUBTOTAL,
    ArchivedRelease,
    Release,
)
from ssp.reporting.wording import LabelMap, english_label, writing_language
from ssp.supplies.models import SupplyCategory
from ssp.supplies.units import unit_for
from ssp.visits.models import Service

PEOPLE = _l("Unduplicated people")
VISITS = _l("Visits")
COUNT = _l("Count")
KITS = _l("Kits")
SAMPLES = _l("Samples")
SYRINGE_UNITS = _l("Needle-and-syringe units")
REPORTS_FROM_PARTICIPANTS = _l("Reports from participants")
SOFTWARE = "ssp 0.1.0"

# How the report's text names its period (by ``Period.noun``), in its own language.
THIS_PERIOD = LabelMap(
    {
        "month": _l("this month"),
        "quarter": _l("this quarter"),
        "year": _l("this year"),
        "fiscal year": _l("this fiscal year"),
        "period": _l("this period"),
    }
)
PERIOD_END = LabelMap(
    {
        "month": _l("the end of the month"),
        "quarter": _l("the end of the quarter"),
        "year": _l("the end of the year"),
        "fiscal year": _l("the end of the fiscal year"),
        "period": _l("the end of the period"),
    }
)
REFERRALS_INTRO = LabelMap(
    {
        "month": _l(
            "Referrals are counted when made and when completed (the person was linked to "
            "care). The completion rate is the share of this month's referrals completed by "
            "the month's end."
        ),
        "quarter": _l(
            "Referrals are counted when made and when completed (the person was linked to "
            "care). The completion rate is the share of this quarter's referrals completed "
            "by the quarter's end."
        ),
        "year": _l(
            "Referrals are counted when made and when completed (the person was linked to "
            "care). The completion rate is the share of this year's referrals completed by "
            "the year's end."
        ),
        "fiscal year": _l(
            "Referrals are counted when made and when completed (the person was linked to "
            "care). The completion rate is the share of this fiscal year's referrals "
            "completed by the fiscal year's end."
        ),
        "period": _l(
            "Referrals are counted when made and when completed (the person was linked to "
            "care). The completion rate is the share of this period's referrals completed "
            "by the period's end."
        ),
    }
)


@dataclass(frozen=True)
class ProfileSettings:
    """What a funder profile says, as plain values (the builder never sees the database)."""

    name: str
    funder_name: str
    grant_number: str | None
    program_name: str
    sections: tuple[str, ...]
    threshold: int
    fiscal_year_start: int = 7
    contact: str | None = None
    # The language the report is written in (None: whoever makes it).
    language: str | None = None


@dataclass
class ArchiveContext:
    """What the archive holds that this release must be audited with, and where the
    audit trail stood when it was read.

    ``releases``: the archived releases that print any quantity this one prints.
    ``first_published``: for months other than the report's own, how each quantity was
    first printed (key -> text); those months are reprinted exactly so.
    ``trail_head``: the newest audit event (an ``ssp.audit.ChainHead``) before the
    report's own, printed in the appendix; None when not read (a hand-made context).
    """

    releases: list[ArchivedRelease] = field(default_factory=list)
    first_published: dict[str, str] = field(default_factory=dict)
    trail_head: Any = None


@dataclass(frozen=True)
class Rate:
    """A percentage of two cells, printed only when both are."""

    part: str
    whole: str


@dataclass(frozen=True)
class Text:
    """A literal cell (a unit, a blank)."""

    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", str(self.text))  # a marked text, read now


@dataclass
class _Layout:
    """A printed table before the decisions: rows of cell keys, rates and words."""

    key: str
    title: str
    unit: str
    columns: list[str]
    rows: list[tuple[str, list, bool, bool]]  # label, cells, total, group
    note: str | None = None


class _Builder:
    """Declares cells, relations and views, then fills the tables from the decisions."""

    def __init__(self, period: str, threshold: int, noun: str = "month") -> None:
        self.release = Release(period, threshold)
        self.layouts: list[_Layout] = []
        self.prefix = period  # the period whose quantities cell() declares
        self.printing = True  # False: declare cells and relations, print no table
        self.noun = noun  # "month", "quarter", "year", ...
        self.labels = printed_labels()  # a breakdown row's key -> its printed label

    @property
    def this_period(self) -> str:
        """ "this month", "this quarter"... in the report's language."""
        return THIS_PERIOD[self.noun]

    def word(self, key: str) -> str:
        """What a breakdown row (keyed by its English label) prints."""
        return self.labels.get(key, key)

    def scoped(self, period: str, noun: str = "month") -> _Builder:
        """The same release, declaring another period's quantities without printing
        them (the months inside a longer period, the periods compared with)."""
        other = _Builder.__new__(_Builder)
        other.release, other.layouts = self.release, []
        other.prefix, other.printing, other.noun = period, False, noun
        other.labels = self.labels
        return other

    def cell(self, key: str, value: int, *, people: bool, rank: int = 0) -> str:
        full = key if "|" in key else f"{self.prefix}|{key}"
        return self.release.cell(full, value, sensitive=people, rank=rank if self.printing else 0)

    def table(
        self,
        key: str,
        title: str,
        unit: str,
        columns: list[str],
        rows: list[tuple[str, list, bool, bool]],
        note: str | None = None,
        *,
        headline: bool = False,
    ) -> None:
        if not self.printing:
            return
        keys = []
        for _label, cells, _total, _group in rows:
            for c in cells:
                if isinstance(c, str):
                    keys.append(c)
        # Marked texts are read now, in the report's language: the document holds words.
        title, unit, note = str(title), str(unit), None if note is None else str(note)
        columns = [str(c) for c in columns]
        rows = [(str(label), cells, total, group) for label, cells, total, group in rows]
        self.release.view(key, title, keys, headline=headline)
        self.layouts.append(_Layout(key, title, unit, columns, rows, note))

    def column(
        self, key: str, title: str, unit: str, column: str, cells: dict[str, str], total: tuple
    ) -> None:
        """A list of cells with an optional total row (``total`` = (label, key) or ())."""
        rows = [(label, [k], False, False) for label, k in cells.items()]
        if total:
            rows.append((total[0], [total[1]], True, False))
        self.table(key, title, unit, [column], rows)

    def _longer_periods_note(self, note: str | None, *, mostly_hidden: bool) -> str | None:
        """Beside a mostly hidden monthly table, say where its figures can be seen."""
        if not mostly_hidden or self.noun != "month":
            return note
        return f"{note} {_LONGER_PERIODS}" if note else str(_LONGER_PERIODS)

    def render(self, key: str) -> Table:
        layout = next(x for x in self.layouts if x.key == key)
        view = self.release.view_by_key(key)
        release = self.release
        if view.withheld:
            return Table(
                layout.key,
                layout.title,
                layout.unit,
                layout.columns,
                [],
                note=self._longer_periods_note(layout.note, mostly_hidden=True),
                withheld=str(view.withheld),
            )
        rows = []
        for label, cells, total, group in layout.rows:
            texts = []
            for c in cells:
                if isinstance(c, str):
                    texts.append(release.text(c))
                elif isinstance(c, Rate):
                    texts.append(_rate_text(release, c))
                else:
                    texts.append(c.text)
            statuses = [
                status_of(text) if not isinstance(c, Text) else "text"
                for c, text in zip(cells, texts, strict=True)
            ]
            measures = [_measure_of(c) for c in cells]
            rows.append(
                Row(label, texts, total=total, group=group, statuses=statuses, measures=measures)
            )
        # Counted from what is printed, so a month reprinted as first published counts
        # the same as when it was first printed.
        printed = [release.text(k) for k in dict.fromkeys(view.keys)]
        hidden = sum(1 for text in printed if not text[:1].isdigit())
        return Table(
            layout.key,
            layout.title,
            layout.unit,
            layout.columns,
            rows,
            note=self._longer_periods_note(
                layout.note, mostly_hidden=not view.headline and 2 * hidden >= len(printed) > 0
            ),
            primary_suppressed=sum(1 for text in printed if text.startswith("<")),
            complementary_suppressed=printed.count("*"),
        )


_LONGER_PERIODS = _l(
    "In one month too few people are counted here to show most of this table; the "
    "quarterly and yearly reports show it."
)


def _measure_of(cell) -> str:
    """What kind of number a cell is (the CSV's ``measure``), whatever language its
    labels are in."""
    if isinstance(cell, _PerHundred):
        return "per_100"
    if isinstance(cell, Rate):
        return "percent"
    return "count"


def _rate_text(release: Release, rate: Rate) -> str:
    """A rate from two printed numbers adds nothing; from a hidden one it is hidden.
    Printed as the archive keeps figures ("45%"); the writers localize it."""
    part, whole = release.shown(rate.part), release.shown(rate.whole)
    if part is None or whole is None:
        return "*"
    if isinstance(rate, _PerHundred):
        return f"{100 * part / whole:.0f}" if whole else _("none distributed")
    return f"{100 * part / whole:.0f}%" if whole else "—"


def build_document(
    metrics: MonthMetrics,
    profile: ProfileSettings,
    *,
    generated_on: dt.date,
    time_zone: str,
    archive: ArchiveContext | None = None,
    months: list[MonthMetrics] | None = None,
    compared: list[tuple[Glance, list[MonthMetrics]]] | None = None,
    narrative: list[tuple[str, str]] | None = None,
) -> ReportDocument:
    """The report of ``metrics`` for ``profile``, audited as one release with the archive.

    ``months``: for a period longer than a month, the metrics of each of its months, so
    the audit knows how this period's figures add up from the months' (a reader holds
    the monthly reports too). ``compared``: the periods the glance shows beside this one
    (their glance figures only: nothing else of theirs is printed), each with its months
    when it is longer than a month.
    """
    archive = archive or ArchiveContext()
    period = metrics.period
    b = _Builder(period.key, profile.threshold, period.noun)
    declare = {
        "summary": _summary,
        "supplies": _supplies,
        "overdose": _overdose,
        "services": _services,
        "referrals": _referrals,
        "demographics": _demographics,
        "trends": _trends,
        "drug_checking": _drug_checking,
    }
    compared = compared or []
    _glance(glance_of(metrics), b, [c for c, _ in compared])
    chosen = [key for key in SECTIONS if key in profile.sections]
    intros: dict[str, tuple[str, list[str], list[Chart]]] = {}
    for key in chosen:
        intros[key] = declare[key](metrics, b)
    _link_months(b, months or [], declare)
    for other, its_months in compared:
        _link_months(b.scoped(other.period.key, other.period.noun), its_months, declare)
    _freeze_published_months(b.release, archive.first_published)
    keys = set(b.release.cells)
    overlapping = [r for r in archive.releases if keys & r.cells.keys()]
    result = protect(b.release, overlapping)

    glance = b.render("glance")
    sections = []
    for key in chosen:
        intro, table_keys, charts = intros[key]
        section = Section(key, SECTIONS[key], str(intro))
        section.tables = [b.render(k) for k in table_keys]
        section.charts = [_fill_chart(b.release, chart) for chart in charts]
        sections.append(section)

    t = profile.threshold
    parameters = {
        "profile": profile.name,
        "funder": profile.funder_name,
        "grant_number": profile.grant_number or "",
        "period": period.key,
        "first_month": period.first.key,
        "last_month": period.last.key,
        "fiscal_year_start": str(profile.fiscal_year_start),
        "contact": profile.contact or "",
        "time_zone": time_zone,
        "suppression_threshold": str(t),
        "sections": ", ".join(profile.sections),
        "language": writing_language(),
        "generated_on": generated_on.isoformat(),
        "software": SOFTWARE,
    }
    return ReportDocument(
        program_name=profile.program_name,
        funder_name=profile.funder_name,
        grant_number=profile.grant_number,
        profile_name=profile.name,
        period_key=period.key,
        period_label=period.label,
        generated_on=generated_on,
        threshold=t,
        time_zone=time_zone,
        glance=glance,
        sections=sections,
        # A month of drug checks and no visits is not a month of zeros.
        no_activity=metrics.summary.visits == 0
        and not (metrics.drug_checking is not None and metrics.drug_checking.total),
        parameters=parameters,
        narrative=list(narrative or []),
        audit=result,
        release_snapshot=b.release.snapshot(),
        trail_head=archive.trail_head,
        language=writing_language(),
    )


# How a quantity of a longer period comes from its months' (a name's prefix decides).
_ADDS_UP = (
    "visits",
    "participant_visits",
    "walk_in_visits",
    "new_enrolments",
    "outreach_contacts",
    "outreach_code_contacts",
    "outreach_anonymous_contacts",
    "outreach_group_contacts",
    "outreach_anonymous_people",
    "secondary_reach",
    "syringes_distributed",
    "syringes_collected",
    "sharps_containers",
    "kits",
    "naloxone_doses",
    "reversals_reported",
    "referrals_made",
    "referrals_completed",
    "follow_ups_done",
    "follow_ups_unreachable",
    "drug_checks",
    "drug_checks.asked",
)
_ADDS_UP_PREFIXES = (
    "visits.site:",
    "visits.kind:",
    "units.item:",
    "units.category:",
    "kits.reason:",
    "service.times:",
    "referrals.made:",
    "referrals.completed:",
    "drug_checks.reaction:",
    "drug_checks.sold_as:",
    "drug_checks.tested:",
    "drug_checks.positive:",
)
# Unduplicated people: each month's count is at most the period's.
_AT_LEAST_EACH_MONTH = (
    "people_served",
    "outreach_people",
    "new_people_served",
    "people_receiving_syringes",
    "people_receiving_kits",
    "people_trained",
)
_AT_LEAST_EACH_MONTH_PREFIXES = (
    "people.site:",
    "people.kind:",
    "people.item:",
    "service.people:",
)
_MONTH_SECTIONS = ("summary", "supplies", "overdose", "services", "referrals", "drug_checking")


def _link_months(b: _Builder, months: list[MonthMetrics], declare: dict) -> None:
    """Declare each month's quantities (unprinted) and how the period's come from them:
    counts of visits, units and events add up; counts of people are at least each
    month's. A reader who holds the monthly reports can difference them; so can the
    audit."""
    if not months:
        return
    own = f"{b.prefix}|"
    period_keys = [k for k in b.release.cells if k.startswith(own)]
    for month in months:
        scoped = b.scoped(month.period.key)
        _glance_cells(glance_of(month), scoped)
        for name in _MONTH_SECTIONS:
            if getattr(month, name) is not None:
                declare[name](month, scoped)
    for key in period_keys:
        name = key[len(own) :]
        monthly = [f"{m.period.key}|{name}" for m in months]
        sensitive = b.release.cells[key].sensitive
        if name in _ADDS_UP or name.startswith(_ADDS_UP_PREFIXES):
            # A month without the quantity had none of it (no item line, no site visit).
            parts = [
                b.release.cell(k, 0, sensitive=sensitive) if k not in b.release.cells else k
                for k in monthly
            ]
            b.release.equal(key, parts)
        elif name in _AT_LEAST_EACH_MONTH or name.startswith(_AT_LEAST_EACH_MONTH_PREFIXES):
            for k in monthly:
                if k in b.release.cells:
                    b.release.at_most(k, key)


def _freeze_published_months(release: Release, first_published: dict[str, str]) -> None:
    """Months other than the report's own that were printed before are reprinted as
    first printed: a later report adds nothing to what the archive already says."""
    for key, cell in release.cells.items():
        if not key.startswith(release.period + "|") and key in first_published:
            cell.status = FROZEN
            cell.frozen_text = first_published[key]


def _fill_chart(release: Release, chart: Chart) -> Chart:
    keys = chart.values  # the builder puts keys here until the decisions are made
    return Chart(
        chart.key, str(chart.title), str(chart.unit), chart.labels, [release.shown(k) for k in keys]
    )


# --- the glance and the sections ----------------------------------------------------------


def _glance_cells(g: Glance, b: _Builder) -> list[tuple[str, object, str]]:
    """The glance's quantities for one period: (label, cell key or rate, counted as)."""
    new_people = b.cell("new_people_served", g.new_people_served, people=True)
    returning = b.cell("returning_people", g.people_served - g.new_people_served, people=True)
    rows = [
        (
            _("People served"),
            b.cell("people_served", g.people_served, people=True, rank=HEADLINE),
            PEOPLE,
        ),
        (
            _("Visits (including anonymous walk-ins)"),
            b.cell("visits", g.visits, people=True, rank=HEADLINE),
            VISITS,
        ),
        (
            _("New enrolments"),
            b.cell("new_enrolments", g.new_enrolments, people=True, rank=HEADLINE),
            _("People enrolled %(this_period)s", this_period=b.this_period),
        ),
        (
            _("New people served (enrolled %(this_period)s)", this_period=b.this_period),
            new_people,
            PEOPLE,
        ),
        (_("Returning people served"), returning, PEOPLE),
    ]
    participant_visits = b.cell(
        "participant_visits", g.participant_visits, people=True, rank=SUBTOTAL
    )
    walk_ins = b.cell("walk_in_visits", g.walk_in_visits, people=True)
    b.release.equal(_k(b, "visits"), [participant_visits, walk_ins])
    b.release.equal(_k(b, "people_served"), [new_people, returning])
    b.release.at_most(new_people, _k(b, "new_enrolments"))
    b.release.at_most(_k(b, "people_served"), participant_visits)
    if g.syringes_distributed is not None:
        rows += [
            (
                _("Syringes distributed"),
                b.cell("syringes_distributed", g.syringes_distributed, people=False, rank=HEADLINE),
                SYRINGE_UNITS,
            ),
            (
                _("Used syringes collected"),
                b.cell("syringes_collected", g.syringes_collected, people=False, rank=HEADLINE),
                SYRINGE_UNITS,
            ),
            (
                _("Used syringes collected per 100 distributed"),
                _PerHundred(_k(b, "syringes_collected"), _k(b, "syringes_distributed")),
                _("Return ratio"),
            ),
        ]
    if g.kits is not None:
        rows += [
            (
                _("Naloxone kits distributed"),
                b.cell("kits", g.kits, people=False, rank=HEADLINE),
                KITS,
            ),
            (
                _("Overdose reversals reported"),
                b.cell("reversals_reported", g.reversals_reported, people=True, rank=HEADLINE),
                REPORTS_FROM_PARTICIPANTS,
            ),
        ]
    if g.referrals_made is not None:
        rows.append(
            (
                _("Referrals made"),
                b.cell("referrals_made", g.referrals_made, people=True, rank=HEADLINE),
                _("Referrals"),
            )
        )
    return rows


def _glance(g: Glance, b: _Builder, compared: list[Glance]) -> None:
    """The glance: this period beside the period before and the same one a year earlier."""
    rows = _glance_cells(g, b)
    columns = [_column_label(g.period)]
    others = []
    for cg in compared:
        scoped = b.scoped(cg.period.key, cg.period.noun)
        others.append({label: key for label, key, _ in _glance_cells(cg, scoped)})
        columns.append(_column_label(cg.period))
    b.table(
        "glance",
        _("At a glance"),
        SEE_EACH_ROW,
        [*columns, COUNTED_AS],
        [
            (label, [key, *[o.get(label, Text("—")) for o in others], Text(unit)], False, False)
            for label, key, unit in rows
        ],
        headline=True,
    )


def _column_label(period) -> str:
    return period.label if period.length == 1 else period.short_label


def _summary(m: MonthMetrics, b: _Builder):
    s = m.summary
    reach = b.cell("secondary_reach", s.secondary_reach, people=True)
    b.table(
        "summary_people",
        _("People"),
        SEE_EACH_ROW,
        [COUNT, COUNTED_AS],
        [
            (_("People served"), [_k(b, "people_served"), Text(PEOPLE)], False, False),
            (
                _("New enrolments"),
                [
                    _k(b, "new_enrolments"),
                    Text(_("People enrolled %(this_period)s", this_period=b.this_period)),
                ],
                False,
                False,
            ),
            (
                _("People reached through secondary distribution"),
                [reach, Text(_("People, as reported by participants"))],
                False,
                False,
            ),
        ],
    )
    b.column(
        "summary_visits",
        VISITS,
        VISITS,
        VISITS,
        {
            _("Visits by participants with a code"): _k(b, "participant_visits"),
            _("Anonymous walk-in visits"): _k(b, "walk_in_visits"),
        },
        (_("All visits"), _k(b, "visits")),
    )
    site_visits = {
        name: b.cell(f"visits.site:{name}", n, people=True) for name, n in s.visits_by_site.items()
    }
    b.release.equal(_k(b, "visits"), list(site_visits.values()))
    b.column(
        "summary_sites",
        _("Visits by site"),
        VISITS,
        VISITS,
        site_visits,
        (_("All sites"), _k(b, "visits")),
    )
    _people_by(
        b,
        "site",
        _("People served by site"),
        s.people_by_site,
        site_visits,
        _(
            "A person who came to more than one site is counted at each, so these "
            "do not add up to the people served."
        ),
    )
    kinds = {
        label: b.cell(f"visits.kind:{label}", n, people=True)
        for label, n in s.visits_by_kind.items()
    }
    b.release.equal(_k(b, "visits"), list(kinds.values()))
    b.column(
        "summary_kinds",
        _("Visits by service model"),
        VISITS,
        VISITS,
        {b.word(label): key for label, key in kinds.items()},
        (_("All visits"), _k(b, "visits")),
    )
    _people_by(
        b,
        "kind",
        _("People served by service model"),
        s.people_by_kind,
        kinds,
        _(
            "A person served in more than one way is counted in each, so these do not "
            "add up to the people served."
        ),
        printed=b.word,
    )
    _outreach_contacts(s.outreach, b, kinds)
    return (
        _(
            "People are counted once however often they came (unduplicated); "
            "visits count every contact. Anonymous walk-ins are visits, never people."
        ),
        [
            "summary_people",
            "summary_visits",
            "summary_sites",
            "summary_site_people",
            "summary_kinds",
            "summary_kind_people",
            "summary_outreach",
        ],
        [],
    )


def _outreach_contacts(f: FieldContacts, b: _Builder, kinds: dict[str, str]) -> None:
    """Outreach and mobile unit contacts: contacts, group contacts and the people counted
    at them, kept apart from unduplicated people (a head count at an anonymous contact
    counts a person again at every contact)."""
    contacts = b.cell("outreach_contacts", f.contacts, people=True)
    with_code = b.cell("outreach_code_contacts", f.code_contacts, people=True)
    anonymous = b.cell("outreach_anonymous_contacts", f.anonymous_contacts, people=True)
    groups = b.cell("outreach_group_contacts", f.group_contacts, people=True)
    counted = b.cell("outreach_anonymous_people", f.anonymous_people, people=True)
    people = b.cell("outreach_people", f.people, people=True)
    release = b.release
    release.equal(contacts, [with_code, anonymous])
    release.equal(contacts, [kinds[english_label(kind)] for kind in FIELD_KINDS])
    release.at_most(with_code, _k(b, "participant_visits"))
    release.at_most(anonymous, _k(b, "walk_in_visits"))
    release.at_most(groups, anonymous)
    # Every anonymous contact counted at least one person, a group contact at least two.
    release.at_most([anonymous, groups], counted)
    release.at_most(people, with_code)
    release.at_most(people, _k(b, "people_served"))
    field_people = [_k(b, f"people.kind:{english_label(kind)}") for kind in FIELD_KINDS]
    release.at_most(people, field_people)
    for key in field_people:
        release.at_most(key, people)
    contact_unit = Text(_("Contacts"))
    b.table(
        "summary_outreach",
        _("Outreach and mobile unit contacts"),
        SEE_EACH_ROW,
        [COUNT, COUNTED_AS],
        [
            (_("All contacts"), [contacts, contact_unit], False, False),
            (_("Contacts with a participant code"), [with_code, contact_unit], False, False),
            (_("Anonymous contacts"), [anonymous, contact_unit], False, False),
            (
                _("Group contacts (anonymous, two or more people)"),
                [groups, contact_unit],
                False,
                False,
            ),
            (
                _("People counted at anonymous contacts"),
                [counted, Text(_("People, counted at each contact"))],
                False,
                False,
            ),
            (_("People with a code reached"), [people, Text(PEOPLE)], False, False),
        ],
        note=_(
            "A contact is one meeting, with one person or a group. At an anonymous "
            "contact the team counts the people there, so someone met twice is counted "
            "twice: those people are not unduplicated and are not in the people served."
        ),
    )


def _people_by(
    b: _Builder,
    by: str,
    title: str,
    counts: dict[str, int],
    visits: dict[str, str],
    note: str,
    printed=lambda label: label,
) -> None:
    """Unduplicated people per site (or per service model): each at most that group's
    visits and the people served, and together at least the people served. ``printed``:
    what a group's row prints (a site's name as typed; a service model in words)."""
    people = {label: b.cell(f"people.{by}:{label}", n, people=True) for label, n in counts.items()}
    for label, key in people.items():
        b.release.at_most(key, visits[label])
        b.release.at_most(key, _k(b, "people_served"))
    b.release.at_most(_k(b, "people_served"), list(people.values()))
    b.table(
        f"summary_{by}_people",
        title,
        PEOPLE,
        [_("People")],
        [(printed(label), [key], False, False) for label, key in people.items()],
        note=note,
    )


def _k(b: _Builder, key: str) -> str:
    return f"{b.prefix}|{key}"


CATEGORY_KEYS = {
    SupplyCategory.SYRINGE: "syringes_distributed",
    SupplyCategory.NALOXONE: "kits",
    SupplyCategory.DISPOSAL: "sharps_containers",
}


def _item_people(m: MonthMetrics, b: _Builder, category: SupplyCategory) -> list[str]:
    return [
        _k(b, f"people.item:{line.category.value}:{line.name}:{line.unit}")
        for line in m.supplies.items
        if line.category == category
    ]


def _supplies(m: MonthMetrics, b: _Builder):
    supplies = m.supplies
    rows: list = []
    for category in SupplyCategory:
        lines = [i for i in supplies.items if i.category == category]
        if not lines:
            continue
        total = b.cell(
            CATEGORY_KEYS.get(category, f"units.category:{category.value}"),
            sum(i.units for i in lines),
            people=False,
            rank=SUBTOTAL,
        )
        rows.append((str(category.label), [total, Text("")], False, True))
        parts = []
        for line in lines:
            ident = f"{line.category.value}:{line.name}:{line.unit}"
            units = b.cell(f"units.item:{ident}", line.units, people=False)
            people = b.cell(f"people.item:{ident}", line.people, people=True)
            b.release.at_most(people, units)
            b.release.at_most(people, _k(b, "people_served"))
            parts.append(units)
            rows.append(
                (
                    _("%(item)s (%(units)s)", item=line.name, units=unit_for(line.unit, 2)),
                    [units, people],
                    False,
                    False,
                )
            )
        b.release.equal(total, parts)
    if not rows:
        rows.append(
            (
                _("No supplies were handed out %(this_period)s", this_period=b.this_period),
                [Text("0"), Text("0")],
                False,
                False,
            )
        )
    b.table(
        "supplies_items",
        _("Supplies handed out"),
        _("Units; people receiving"),
        [_("Units"), _("People receiving (unduplicated)")],
        rows,
        note=_("Category rows give the units of all items in the category."),
    )
    distributed = b.cell(
        "syringes_distributed", supplies.syringes_distributed, people=False, rank=HEADLINE
    )
    collected = b.cell(
        "syringes_collected", supplies.syringes_collected, people=False, rank=HEADLINE
    )
    receiving = b.cell("people_receiving_syringes", supplies.people_receiving_syringes, people=True)
    sharps = b.cell("sharps_containers", supplies.sharps_containers, people=False, rank=SUBTOTAL)
    b.release.at_most(receiving, distributed)
    b.release.at_most(receiving, _k(b, "people_served"))
    syringe_people = _item_people(m, b, SupplyCategory.SYRINGE)
    for key in syringe_people:
        b.release.at_most(key, receiving)
    b.release.at_most(receiving, syringe_people)
    b.table(
        "supplies_syringes",
        _("Syringes out and in"),
        SEE_EACH_ROW,
        [COUNT, COUNTED_AS],
        [
            (_("Syringes distributed"), [distributed, Text(SYRINGE_UNITS)], False, False),
            (
                _("Used syringes collected and disposed of as sharps waste"),
                [collected, Text(SYRINGE_UNITS)],
                False,
                False,
            ),
            (_("People receiving syringes"), [receiving, Text(PEOPLE)], False, False),
            (_("Sharps containers given out"), [sharps, Text(_("Containers"))], False, False),
            (
                _("Used syringes collected per 100 distributed"),
                [_PerHundred(collected, distributed), Text(_("Ratio"))],
                False,
                False,
            ),
        ],
    )
    return (
        _(
            "Units of each item handed out during counted visits. Syringes are "
            "needle-and-syringe units."
        ),
        ["supplies_items", "supplies_syringes"],
        [],
    )


@dataclass(frozen=True)
class _PerHundred(Rate):
    """Used syringes collected per 100 distributed."""


def _overdose(m: MonthMetrics, b: _Builder):
    o = m.overdose
    kits = b.cell("kits", o.kits, people=False, rank=HEADLINE)
    reasons = {
        label: b.cell(f"kits.reason:{label}", n, people=False)
        for label, n in o.kits_by_reason.items()
    }
    b.release.equal(kits, list(reasons.values()))
    b.column(
        "overdose_reasons",
        _("Naloxone kits by reason"),
        KITS,
        KITS,
        {b.word(label): key for label, key in reasons.items()},
        (_("All naloxone kits"), kits),
    )
    # Doses: each item's units counted as many times as one unit holds doses, so the
    # audit knows doses and kits exactly as a reader who knows the catalogue does.
    item_units = [
        (b.cell(f"units.item:{':'.join(ident)}", units, people=False), per_unit)
        for ident, (units, per_unit) in sorted(o.units_and_doses.items())
    ]
    doses = b.cell(
        "naloxone_doses", sum(b.release.cells[k].value * n for k, n in item_units), people=False
    )
    b.release.equal(doses, [k for k, n in item_units for _ in range(n)])
    b.release.equal(kits, [k for k, _ in item_units])
    receiving = b.cell("people_receiving_kits", o.people_receiving_kits, people=True)
    reversals = b.cell("reversals_reported", o.reversals_reported, people=True, rank=HEADLINE)
    trained = b.cell("people_trained", o.people_trained, people=True)
    b.release.at_most(receiving, kits)
    b.release.at_most(receiving, _k(b, "people_served"))
    b.release.at_most(trained, _k(b, "people_served"))
    if m.supplies is not None:
        naloxone_people = _item_people(m, b, SupplyCategory.NALOXONE)
        for key in naloxone_people:
            b.release.at_most(key, receiving)
        b.release.at_most(receiving, naloxone_people)
    b.table(
        "overdose_people",
        _("Overdose response"),
        SEE_EACH_ROW,
        [COUNT, COUNTED_AS],
        [
            (_("Naloxone kits distributed"), [kits, Text(KITS)], False, False),
            (
                _("Naloxone doses distributed"),
                [doses, Text(_("Doses (kits times doses per kit)"))],
                False,
                False,
            ),
            (_("People receiving naloxone"), [receiving, Text(PEOPLE)], False, False),
            (
                _("Overdose reversals reported"),
                [reversals, Text(REPORTS_FROM_PARTICIPANTS)],
                False,
                False,
            ),
            (_("People trained to use naloxone"), [trained, Text(PEOPLE)], False, False),
        ],
        note=_(
            "Each visit that replaces a kit used on someone records at least one "
            "overdose reversal reported; a participant may report more than one, or a "
            "reversal with no kit to replace. Kits by reason count kits, reversals count "
            "what participants told staff, so the two need not match."
        ),
    )
    return (
        _("Naloxone kits handed out and why, and overdose reversals that participants reported."),
        ["overdose_reasons", "overdose_people"],
        [],
    )


def _services(m: MonthMetrics, b: _Builder):
    rows = []
    for label, (times, people) in m.services.items():
        times_key = b.cell(f"service.times:{label}", times, people=True)
        people_key = (
            b.cell("people_trained", people, people=True)
            if label == english_label(Service.NALOXONE_TRAINING)
            else b.cell(f"service.people:{label}", people, people=True)
        )
        b.release.at_most(people_key, times_key)
        b.release.at_most(people_key, _k(b, "people_served"))
        rows.append((b.word(label), [times_key, people_key], False, False))
    b.table(
        "services",
        _("Testing and services"),
        _("Services; people"),
        [_("Times given (services)"), _("People (unduplicated)")],
        rows,
    )
    return (_("Tests and services given during counted visits."), ["services"], [])


def _referrals(m: MonthMetrics, b: _Builder):
    r = m.referrals
    made_total = b.cell("referrals_made", sum(r.made.values()), people=True, rank=HEADLINE)
    done_total = b.cell(
        "referrals_completed", sum(r.completed.values()), people=True, rank=SUBTOTAL
    )
    both_total = b.cell(
        "referrals_both", sum(r.made_and_completed.values()), people=True, rank=SUBTOTAL
    )
    rows, made, done, both = [], [], [], []
    for label in r.made:
        a = b.cell(f"referrals.made:{label}", r.made[label], people=True)
        c = b.cell(f"referrals.completed:{label}", r.completed[label], people=True)
        ab = b.cell(f"referrals.both:{label}", r.made_and_completed[label], people=True)
        b.release.at_most(ab, a)
        b.release.at_most(ab, c)
        made.append(a)
        done.append(c)
        both.append(ab)
        rows.append((b.word(label), [a, c, ab, Rate(ab, a)], False, False))
    b.release.equal(made_total, made)
    b.release.equal(done_total, done)
    b.release.equal(both_total, both)
    b.release.at_most(both_total, made_total)
    b.release.at_most(both_total, done_total)
    rows.append(
        (
            _("All referrals"),
            [made_total, done_total, both_total, Rate(both_total, made_total)],
            True,
            False,
        )
    )
    this = b.this_period
    b.table(
        "referrals",
        _("Referrals by type"),
        _("Referrals"),
        [
            _("Made %(this_period)s", this_period=this),
            _("Completed %(this_period)s", this_period=this),
            _("Made and completed %(this_period)s", this_period=this),
            _("Completion rate"),
        ],
        rows,
        note=_("Substance use treatment referrals are MOUD and SUD treatment."),
    )
    follow = [
        (_("Follow-ups completed"), b.cell("follow_ups_done", r.follow_ups_done, people=True)),
        (
            _("Follow-ups closed as could not reach"),
            b.cell("follow_ups_unreachable", r.follow_ups_unreachable, people=True),
        ),
        (
            _("Follow-ups overdue at %(period_end)s", period_end=PERIOD_END[b.noun]),
            b.cell("follow_ups_overdue", r.follow_ups_overdue_at_month_end, people=True),
        ),
    ]
    follow_ups = _("Follow-ups")
    b.table(
        "follow_ups",
        follow_ups,
        SEE_EACH_ROW,
        [COUNT, COUNTED_AS],
        [(label, [key, Text(follow_ups)], False, False) for label, key in follow],
    )
    return (
        REFERRALS_INTRO[b.noun],
        ["referrals", "follow_ups"],
        [],
    )


def _demographics(m: MonthMetrics, b: _Builder):
    d = m.demographics
    keys = []
    for key, title, values in (
        ("age", _("People served by age"), d.age),
        ("gender", _("People served by gender"), d.gender),
        ("race", _("People served by race or ethnicity"), d.race_ethnicity),
    ):
        cells = {
            label: b.cell(f"people.{key}:{label}", n, people=True) for label, n in values.items()
        }
        b.release.equal(_k(b, "people_served"), list(cells.values()))
        b.column(
            f"demographics_{key}",
            title,
            PEOPLE,
            _("People"),
            {b.word(label): cell for label, cell in cells.items()},
            (_("All people served"), _k(b, "people_served")),
        )
        keys.append(f"demographics_{key}")
    return (
        _(
            "Unduplicated people served %(this_period)s, by what they chose to share. "
            "Age is the age reached this year.",
            this_period=b.this_period,
        ),
        keys,
        [],
    )


def _trends(m: MonthMetrics, b: _Builder):
    tr = m.trends
    # The charts start at the first month with a visit, not with a run of zeros from
    # before the program began (the period's last month always shows).
    start = next((i for i, v in enumerate(tr.visits) if v), len(tr.visits) - 1)
    periods = tr.periods[start:]
    labels = [p.short_label for p in periods]
    series = (
        ("trend_people", _("People served"), PEOPLE, "people_served", True, tr.participants_served),
        ("trend_visits", str(VISITS), VISITS, "visits", True, tr.visits),
        (
            "trend_syringes",
            _("Syringes distributed"),
            SYRINGE_UNITS,
            "syringes_distributed",
            False,
            tr.syringes_distributed,
        ),
        ("trend_naloxone", _("Naloxone kits distributed"), KITS, "kits", False, tr.naloxone_kits),
    )
    series = tuple((*rest, values[start:]) for *rest, values in series)
    rows, charts = [], []
    for key, title, unit, quantity, people, values in series:
        keys = [
            b.cell(
                f"{p.key}|{quantity}",
                v,
                people=people,
                rank=HEADLINE if p == m.period else 0,
            )
            for p, v in zip(periods, values, strict=True)
        ]
        rows.append((title, keys, False, False))
        charts.append(Chart(key, title, unit, labels, keys))
    for p in periods:
        if p != m.period:
            b.release.at_most(f"{p.key}|people_served", f"{p.key}|visits")
    b.table("trends", _("Monthly figures"), SEE_EACH_ROW, labels, rows)
    if m.period.length == 1:
        intro = _(
            "The report's month and up to eleven months before it, from the first month "
            "with a visit. Months already reported are shown as first published; months "
            "with a small count are left blank."
        )
    else:
        intro = _(
            "The report's last month of the period and up to eleven months before it, from "
            "the first month with a visit. Months already reported are shown as first "
            "published; months with a small count are left blank."
        )
    return (
        intro,
        ["trends"],
        charts,
    )


_NO_SAMPLES = _l("No samples were checked in this period.")
# What the findings print per test: samples tested, and of them positive (an unclear
# result counts as tested, not positive, as on the trends page). Unclear results are not
# printed: nearly always a small count, each one more for the audit to protect.
_OUTCOMES = ("tested", "positive")


def _drug_checking(m: MonthMetrics, b: _Builder):
    """Samples checked, by what they were sold as and with a bad reaction reported, and
    the findings by substance. Every count is of samples (a sample is one person's, so
    they are protected like counts of people), and each adds up over months. A sample
    counts once in each test run on it: per test, the samples tested are at most the
    samples sold as that, the positive at most those tested, and every sample had at
    least one test."""
    d = m.drug_checking
    total = b.cell("drug_checks", d.total, people=True, rank=HEADLINE)
    asked = b.cell("drug_checks.asked", d.asked, people=True, rank=SUBTOTAL)
    reactions = {
        value: b.cell(f"drug_checks.reaction:{value}", n, people=True)
        for value, n in d.reactions.items()
    }
    release = b.release
    release.equal(total, list(reactions.values()))
    release.equal(asked, [reactions["yes"], reactions["no"]])
    samples = {
        sold: b.cell(f"drug_checks.sold_as:{sold}", d.samples[sold], people=True)
        for sold in d.sold_as
    }
    release.equal(total, list(samples.values()))
    findings: dict[int, dict[int, list[str]]] = {}  # test -> sold as -> tested, positive
    subtotals: dict[int, list[str]] = {}
    for test in d.tests:
        rows = findings[test] = {}
        for sold in d.sold_as:
            cells = [
                b.cell(f"drug_checks.{what}:{test}:{sold}", n, people=True)
                for what, n in zip(_OUTCOMES, d.findings[(sold, test)][:2], strict=True)
            ]
            release.at_most(cells[1], cells[0])
            release.at_most(cells[0], samples[sold])
            rows[sold] = cells
        subtotals[test] = [
            b.cell(
                f"drug_checks.{what}:{test}",
                sum(d.findings[(sold, test)][i] for sold in d.sold_as),
                people=True,
                rank=SUBTOTAL,
            )
            for i, what in enumerate(_OUTCOMES)
        ]
        for i, key in enumerate(subtotals[test]):
            release.equal(key, [cells[i] for cells in rows.values()])
    if not d.untested:
        for sold, key in samples.items():
            release.at_most(key, [findings[test][sold][0] for test in d.tests])

    # The section's headline figure, in a table of its own that is never withheld (like
    # the glance): a breakdown that cannot be shown does not take it away.
    b.table(
        "drug_checking_samples",
        _("Samples checked"),
        SAMPLES,
        [COUNT, COUNTED_AS],
        [(_("All samples checked"), [total, Text(SAMPLES)], False, False)],
        headline=True,
    )
    if not d.total:
        return (_NO_SAMPLES, ["drug_checking_samples"], [])
    b.table(
        "drug_checking_reactions",
        _("Bad reactions reported"),
        SAMPLES,
        [COUNT, COUNTED_AS],
        [
            (
                _("Samples where the person was asked about a bad reaction"),
                [asked, Text(SAMPLES)],
                False,
                False,
            ),
            (
                _("Samples with a bad reaction reported (had or knew of one)"),
                [reactions["yes"], Text(SAMPLES)],
                False,
                False,
            ),
        ],
        note=_(
            "A bad reaction is one the person had, or knew of someone having, to the drug "
            "the sample came from."
        ),
    )
    b.column(
        "drug_checking_sold_as",
        _("Samples checked by what they were sold as"),
        SAMPLES,
        SAMPLES,
        {d.sold_as[sold]: key for sold, key in samples.items()},
        (_("All samples checked"), total),
    )
    columns = [_("Samples tested"), pgettext("samples", "Positive"), _("Positive rate")]
    b.table(
        "drug_checking_findings",
        _("Findings by substance"),
        SAMPLES,
        columns,
        [
            (
                f"{finds} ({name})",
                [*subtotals[test], Rate(subtotals[test][1], subtotals[test][0])],
                False,
                False,
            )
            for test, (name, finds) in d.tests.items()
        ],
        note=_(
            "A sample tested for several substances counts once under each; the positive "
            "rate is the share of the samples tested that tested positive. An unclear result "
            "counts as tested, not as positive."
        ),
    )
    keys = [
        "drug_checking_samples",
        "drug_checking_reactions",
        "drug_checking_sold_as",
        "drug_checking_findings",
    ]
    for test, (name, _finds) in d.tests.items():
        rows = [
            (d.sold_as[sold], [*cells, Rate(cells[1], cells[0])], False, False)
            for sold, cells in findings[test].items()
        ]
        sub = subtotals[test]
        rows.append((_("All samples tested"), [*sub, Rate(sub[1], sub[0])], True, False))
        b.table(
            f"drug_checking_test_{test}",
            _("%(test)s results by what the sample was sold as", test=name),
            SAMPLES,
            columns,
            rows,
        )
        keys.append(f"drug_checking_test_{test}")
    return (
        _(
            "Samples of drugs checked %(this_period)s: what they were sold or bought as, and "
            "what each test found. A sample is counted once however many tests were run on "
            "it; results taken out as entered by mistake are not counted.",
            this_period=b.this_period,
        ),
        keys,
        [],
    )


__all__ = ["ArchiveContext", "AuditResult", "ProfileSettings", "build_document"]

"""Turn a month's metrics into a report document: every table suppressed, every figure
labelled with what it counts (unduplicated people, or visits, units, reports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ssp.reporting.document import Chart, ReportDocument, Row, Section, Table
from ssp.reporting.funders import SECTIONS
from ssp.reporting.metrics import MonthMetrics
from ssp.reporting.suppression import (
    SuppressedTable,
    rate_text,
    small_count_text,
    suppress_small_cells,
)
from ssp.supplies.models import SupplyCategory

PEOPLE = "Unduplicated people"
VISITS = "Visits"
SOFTWARE = "ssp 0.1.0"


@dataclass(frozen=True)
class ProfileSettings:
    """What a funder profile says, as plain values (the builder never sees the database)."""

    name: str
    funder_name: str
    grant_number: str | None
    program_name: str
    sections: tuple[str, ...]
    threshold: int


class _Counter:
    """Builds tables and keeps count of what each one suppressed."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    def singles(
        self, key: str, title: str, rows: list[tuple[str, int, str]], note: str | None = None
    ) -> Table:
        """Stand-alone figures (no total beside them): only small ones are hidden.
        Each row is (label, value, what it counts)."""
        hidden = sum(1 for _, value, _ in rows if 0 < value < self.threshold)
        return Table(
            key,
            title,
            "See each row",
            ["Count", "Counted as"],
            [
                Row(label, [small_count_text(value, self.threshold), unit])
                for label, value, unit in rows
            ],
            note=note,
            primary_suppressed=hidden,
        )

    def column(
        self,
        key: str,
        title: str,
        unit: str,
        column: str,
        values: dict[str, int],
        total_label: str | None,
        note: str | None = None,
    ) -> tuple[Table, SuppressedTable]:
        """A list of counts, with a total row when ``total_label`` is given."""
        labels = list(values)
        grid = [[values[label]] for label in labels] or [[0]]
        table = suppress_small_cells(
            grid, threshold=self.threshold, column_totals=total_label is not None
        )
        rows = [Row(label, [table.text(i, 0)]) for i, label in enumerate(labels)]
        if total_label is not None:
            rows.append(Row(total_label, [table.text(-1, 0)], total=True))
        return (
            Table(
                key,
                title,
                unit,
                [column],
                rows,
                note=note,
                primary_suppressed=table.primary_count,
                complementary_suppressed=table.complementary_count,
            ),
            table,
        )


def build_document(
    metrics: MonthMetrics, profile: ProfileSettings, *, generated_on: dt.date, time_zone: str
) -> ReportDocument:
    """The report of ``metrics`` for ``profile``, every table suppressed."""
    t = profile.threshold
    counter = _Counter(t)
    summary = metrics.summary
    sections: list[Section] = []
    builders = {
        "summary": _summary_section,
        "supplies": _supplies_section,
        "overdose": _overdose_section,
        "services": _services_section,
        "referrals": _referrals_section,
        "demographics": _demographics_section,
        "trends": _trends_section,
    }
    for key in SECTIONS:
        if key in profile.sections:
            sections.append(builders[key](metrics, counter))

    glance_rows = [
        ("People served", summary.participants_served, PEOPLE),
        ("Visits (including anonymous walk-ins)", summary.visits, VISITS),
        ("New enrolments", summary.new_enrolments, "People enrolled this month"),
    ]
    if metrics.supplies is not None:
        glance_rows += [
            (
                "Syringes distributed",
                metrics.supplies.syringes_distributed,
                "Needle-and-syringe units",
            ),
            (
                "Used syringes collected",
                metrics.supplies.syringes_collected,
                "Needle-and-syringe units",
            ),
        ]
    if metrics.overdose is not None:
        glance_rows += [
            ("Naloxone kits distributed", metrics.overdose.kits, "Kits"),
            (
                "Overdose reversals reported",
                metrics.overdose.reversals_reported,
                "Reports from participants",
            ),
        ]
    if metrics.referrals is not None:
        glance_rows.append(("Referrals made", sum(metrics.referrals.made.values()), "Referrals"))
    glance = counter.singles("glance", "At a glance", glance_rows)

    parameters = {
        "profile": profile.name,
        "funder": profile.funder_name,
        "grant_number": profile.grant_number or "",
        "month": metrics.period.key,
        "time_zone": time_zone,
        "suppression_threshold": str(t),
        "sections": ", ".join(profile.sections),
        "generated_on": generated_on.isoformat(),
        "software": SOFTWARE,
    }
    return ReportDocument(
        program_name=profile.program_name,
        funder_name=profile.funder_name,
        grant_number=profile.grant_number,
        profile_name=profile.name,
        period_key=metrics.period.key,
        period_label=metrics.period.label,
        generated_on=generated_on,
        threshold=t,
        time_zone=time_zone,
        glance=glance,
        sections=sections,
        no_activity=summary.visits == 0,
        parameters=parameters,
    )


def _summary_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    s = metrics.summary
    section = Section(
        "summary",
        SECTIONS["summary"],
        "People are counted once however often they came (unduplicated); "
        "visits count every contact. Anonymous walk-ins are visits, never people.",
    )
    section.tables.append(
        counter.singles(
            "summary_people",
            "People",
            [
                ("People served", s.participants_served, PEOPLE),
                ("New enrolments", s.new_enrolments, "People enrolled this month"),
                (
                    "People reached through secondary distribution",
                    s.secondary_reach,
                    "People, as reported by participants",
                ),
            ],
        )
    )
    table, _ = counter.column(
        "summary_visits",
        "Visits",
        VISITS,
        "Visits",
        {
            "Visits by participants with a code": s.participant_visits,
            "Anonymous walk-in visits": s.walk_in_visits,
        },
        "All visits",
    )
    section.tables.append(table)
    table, _ = counter.column(
        "summary_sites", "Visits by site", VISITS, "Visits", s.visits_by_site, "All sites"
    )
    section.tables.append(table)
    table, _ = counter.column(
        "summary_site_people",
        "People served by site",
        PEOPLE,
        "People",
        s.people_by_site,
        None,
        note="A person who came to more than one site is counted at each, so these "
        "do not add up to the people served.",
    )
    section.tables.append(table)
    table, _ = counter.column(
        "summary_kinds", "Visits by service model", VISITS, "Visits", s.visits_by_kind, "All visits"
    )
    section.tables.append(table)
    return section


def _supplies_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    supplies = metrics.supplies
    t = counter.threshold
    section = Section(
        "supplies",
        SECTIONS["supplies"],
        "Units of each item handed out during counted visits. Syringes are "
        "needle-and-syringe units.",
    )
    rows: list[Row] = []
    primary = complementary = 0
    for category in SupplyCategory:
        lines = [i for i in supplies.items if i.category == category]
        if not lines:
            continue
        grid = suppress_small_cells(
            [[line.units] for line in lines], threshold=t, column_totals=True
        )
        primary += grid.primary_count
        complementary += grid.complementary_count
        rows.append(Row(category.label, [grid.text(-1, 0), ""], group=True))
        for n, line in enumerate(lines):
            people = small_count_text(line.people, t)
            primary += 1 if 0 < line.people < t else 0
            rows.append(Row(f"{line.name} ({line.unit}s)", [grid.text(n, 0), people]))
    if not rows:
        rows.append(Row("No supplies were handed out this month", ["0", "0"]))
    section.tables.append(
        Table(
            "supplies_items",
            "Supplies handed out",
            "Units; people receiving",
            ["Units", "People receiving (unduplicated)"],
            rows,
            note="Category rows give the units of all items in the category.",
            primary_suppressed=primary,
            complementary_suppressed=complementary,
        )
    )
    distributed, collected = supplies.syringes_distributed, supplies.syringes_collected
    ratio_hidden = 0 < distributed < t or 0 < collected < t
    section.tables.append(
        counter.singles(
            "supplies_syringes",
            "Syringes out and in",
            [
                ("Syringes distributed", distributed, "Needle-and-syringe units"),
                (
                    "Used syringes collected and disposed of as sharps waste",
                    collected,
                    "Needle-and-syringe units",
                ),
                ("People receiving syringes", supplies.people_receiving_syringes, PEOPLE),
                ("Sharps containers given out", supplies.sharps_containers, "Containers"),
            ],
            note="Used syringes collected per 100 distributed: "
            + _per_hundred(collected, distributed, hidden=ratio_hidden)
            + ".",
        )
    )
    return section


def _per_hundred(part: int, whole: int, *, hidden: bool) -> str:
    if hidden:
        return "* (hidden: it would reveal a small count)"
    if whole == 0:
        return "none distributed"
    return f"{100 * part / whole:.0f}"


def _overdose_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    o = metrics.overdose
    section = Section(
        "overdose",
        SECTIONS["overdose"],
        "Naloxone kits handed out and why, and overdose reversals that participants reported.",
    )
    table, _ = counter.column(
        "overdose_reasons",
        "Naloxone kits by reason",
        "Kits",
        "Kits",
        o.kits_by_reason,
        "All naloxone kits",
    )
    section.tables.append(table)
    section.tables.append(
        counter.singles(
            "overdose_people",
            "Overdose response",
            [
                ("People receiving naloxone", o.people_receiving_kits, PEOPLE),
                ("Overdose reversals reported", o.reversals_reported, "Reports from participants"),
                ("People trained to use naloxone", o.people_trained, PEOPLE),
            ],
        )
    )
    return section


def _services_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    t = counter.threshold
    rows, hidden = [], 0
    for label, (times, people) in metrics.services.items():
        hidden += (0 < times < t) + (0 < people < t)
        rows.append(Row(label, [small_count_text(times, t), small_count_text(people, t)]))
    section = Section(
        "services", SECTIONS["services"], "Tests and services given during counted visits."
    )
    section.tables.append(
        Table(
            "services",
            "Testing and services",
            "Services; people",
            ["Times given (services)", "People (unduplicated)"],
            rows,
            primary_suppressed=hidden,
        )
    )
    return section


def _referrals_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    r = metrics.referrals
    t = counter.threshold
    labels = list(r.made)
    grid = [[r.made[c], r.completed[c], r.made_and_completed[c]] for c in labels]
    table = suppress_small_cells(grid, threshold=t, column_totals=True)
    rows = []
    for i, label in enumerate(labels):
        rate = rate_text(
            grid[i][2], grid[i][0], hidden=table.is_suppressed(i, 0) or table.is_suppressed(i, 2)
        )
        rows.append(Row(label, [table.text(i, 0), table.text(i, 1), table.text(i, 2), rate]))
    totals = [sum(col) for col in zip(*grid, strict=True)] if grid else [0, 0, 0]
    total_rate = rate_text(
        totals[2], totals[0], hidden=table.is_suppressed(-1, 0) or table.is_suppressed(-1, 2)
    )
    rows.append(
        Row(
            "All referrals",
            [table.text(-1, 0), table.text(-1, 1), table.text(-1, 2), total_rate],
            total=True,
        )
    )
    section = Section(
        "referrals",
        SECTIONS["referrals"],
        "Referrals are counted when made and when completed (the person was "
        "linked to care). The completion rate is the share of this month's "
        "referrals completed by the month's end.",
    )
    section.tables.append(
        Table(
            "referrals",
            "Referrals by type",
            "Referrals",
            [
                "Made this month",
                "Completed this month",
                "Made and completed this month",
                "Completion rate",
            ],
            rows,
            note="Substance use treatment referrals are MOUD and SUD treatment.",
            primary_suppressed=table.primary_count,
            complementary_suppressed=table.complementary_count,
        )
    )
    section.tables.append(
        counter.singles(
            "follow_ups",
            "Follow-ups",
            [
                ("Follow-ups completed", r.follow_ups_done, "Follow-ups"),
                ("Follow-ups closed as could not reach", r.follow_ups_unreachable, "Follow-ups"),
                (
                    "Follow-ups overdue at the end of the month",
                    r.follow_ups_overdue_at_month_end,
                    "Follow-ups",
                ),
            ],
        )
    )
    return section


def _demographics_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    d = metrics.demographics
    section = Section(
        "demographics",
        SECTIONS["demographics"],
        "Unduplicated people served this month, by what they chose to share. "
        "Age is the age reached this year.",
    )
    for key, title, values in (
        ("age", "Age", d.age),
        ("gender", "Gender", d.gender),
        ("race", "Race or ethnicity", d.race_ethnicity),
    ):
        table, _ = counter.column(
            f"demographics_{key}",
            f"People served by {title.lower()}",
            PEOPLE,
            "People",
            values,
            "All people served",
        )
        section.tables.append(table)
    return section


def _trends_section(metrics: MonthMetrics, counter: _Counter) -> Section:
    tr = metrics.trends
    t = counter.threshold
    labels = [p.short_label for p in tr.periods]
    section = Section(
        "trends",
        SECTIONS["trends"],
        "The report month and the eleven months before it. Months with a "
        "small count are left blank.",
    )
    series = (
        ("trend_people", "People served", PEOPLE, tr.participants_served),
        ("trend_visits", "Visits", VISITS, tr.visits),
        (
            "trend_syringes",
            "Syringes distributed",
            "Needle-and-syringe units",
            tr.syringes_distributed,
        ),
        ("trend_naloxone", "Naloxone kits distributed", "Kits", tr.naloxone_kits),
    )
    for key, title, unit, values in series:
        section.charts.append(
            Chart(key, title, unit, labels, [None if 0 < v < t else v for v in values])
        )
    rows = [Row(title, [small_count_text(v, t) for v in values]) for _, title, _, values in series]
    hidden = sum(1 for *_, values in series for v in values if 0 < v < t)
    section.tables.append(
        Table("trends", "Monthly figures", "See each row", labels, rows, primary_suppressed=hidden)
    )
    return section

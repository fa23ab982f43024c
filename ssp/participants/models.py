"""The ``participants`` and ``participant_aliases`` tables.

A participant is an anonymous code and a few coarse, optional facts: never a name, a
full date of birth, an address or a phone number.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _l
from ssp.participants import code_search
from ssp.staff.models import Site
from ssp.timeutil import utcnow


class LabelledEnum(enum.StrEnum):
    """An enum whose members carry the label staff read."""

    @property
    def label(self) -> str:
        """The member as staff read it, in the current language."""
        return str(self.lazy_label)

    @property
    def lazy_label(self):
        """The label looked up when shown (form choices built at import time)."""
        return self._labels()[self.value]

    @classmethod
    def _labels(cls) -> dict:
        raise NotImplementedError


class Gender(LabelledEnum):
    """Gender as the person describes it (never part of the code)."""

    WOMAN = "woman"
    MAN = "man"
    TRANS_WOMAN = "trans_woman"
    TRANS_MAN = "trans_man"
    NONBINARY = "nonbinary"
    ANOTHER = "another"
    DECLINED = "declined"

    @classmethod
    def _labels(cls) -> dict:
        return {
            "woman": _l("Woman"),
            "man": _l("Man"),
            "trans_woman": _l("Transgender woman"),
            "trans_man": _l("Transgender man"),
            "nonbinary": _l("Non-binary or genderqueer"),
            "another": _l("Another gender"),
            "declined": _l("Prefers not to say"),
        }


class RaceEthnicity(LabelledEnum):
    """Race or ethnicity, in the federal (SPD 15, 2024) minimum categories."""

    AMERICAN_INDIAN = "american_indian"
    ASIAN = "asian"
    BLACK = "black"
    HISPANIC = "hispanic"
    MIDDLE_EASTERN = "middle_eastern"
    PACIFIC_ISLANDER = "pacific_islander"
    WHITE = "white"
    MULTIRACIAL = "multiracial"
    ANOTHER = "another"
    DECLINED = "declined"

    @classmethod
    def _labels(cls) -> dict:
        return {
            "american_indian": _l("American Indian or Alaska Native"),
            "asian": _l("Asian"),
            "black": _l("Black or African American"),
            "hispanic": _l("Hispanic or Latino"),
            "middle_eastern": _l("Middle Eastern or North African"),
            "pacific_islander": _l("Native Hawaiian or Pacific Islander"),
            "white": _l("White"),
            "multiracial": _l("More than one race or ethnicity"),
            "another": _l("Another race or ethnicity"),
            "declined": _l("Prefers not to say"),
        }


class Substance(LabelledEnum):
    """The substance the person says they use most."""

    OPIOIDS = "opioids"
    RX_OPIOIDS = "rx_opioids"
    METHAMPHETAMINE = "methamphetamine"
    COCAINE = "cocaine"
    OPIOIDS_AND_STIMULANTS = "opioids_and_stimulants"
    ALCOHOL = "alcohol"
    ANOTHER = "another"
    DECLINED = "declined"

    @classmethod
    def _labels(cls) -> dict:
        return {
            "opioids": _l("Heroin or fentanyl"),
            "rx_opioids": _l("Prescription opioids"),
            "methamphetamine": _l("Methamphetamine"),
            "cocaine": _l("Cocaine or crack"),
            "opioids_and_stimulants": _l("Opioids and stimulants together"),
            "alcohol": _l("Alcohol"),
            "another": _l("Another substance"),
            "declined": _l("Prefers not to say"),
        }


class Participant(db.Model):
    """A person served by the program, known only by an anonymous code."""

    __tablename__ = "participants"
    # Ids are never reused (SQLite would hand out a purged or merged person's id again,
    # and old audit rows would then point at someone else).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enrolled_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[Gender | None] = mapped_column(enum_column(Gender, "participant_gender"))
    race_ethnicity: Mapped[RaceEthnicity | None] = mapped_column(
        enum_column(RaceEthnicity, "participant_race_ethnicity")
    )
    zip3: Mapped[str | None] = mapped_column(String(3))
    primary_substance: Mapped[Substance | None] = mapped_column(
        enum_column(Substance, "participant_primary_substance")
    )
    injects: Mapped[bool | None] = mapped_column(Boolean)
    # Enrolled by an outreach contact's sync rather than at a desk; review_pending until a
    # manager has looked at it beside its near-duplicate codes.
    enrolled_in_field: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    review_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # First seen in an imported spreadsheet (ssp.imports): undoing that import removes
    # the participant again unless something else has been recorded for them since.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    enrolled_site: Mapped[Site | None] = relationship()

    def __repr__(self) -> str:
        return f"<Participant {self.id}>"  # never the code: reprs end up in logs


class ParticipantAlias(db.Model):
    """A code that still finds a participant after a merge (or a code change)."""

    __tablename__ = "participant_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    participant: Mapped[Participant] = relationship()


# Partial code search by index (ssp.participants.code_search), made with the tables.
code_search.install_hooks(Participant.__table__)
code_search.install_hooks(ParticipantAlias.__table__)

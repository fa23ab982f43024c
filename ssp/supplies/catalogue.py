"""The default catalogue a new program starts with: what a US SSP commonly hands out.

Names and units are marked for translation: a new database gets them in the program's
``LANGUAGE`` (``ssp.supplies.services.load_default_catalogue``). Once stored they are the
program's own words and never change with the reader's language.
"""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import LazyString

from ssp.i18n import _l
from ssp.supplies.models import SupplyCategory as C


class DefaultItem(NamedTuple):
    """One line of the default catalogue (no reorder level: low stock comes from each
    site's own use, see ``ssp.supplies.stock.ReorderRule``)."""

    name: LazyString
    category: C
    unit: LazyString
    units_per_pack: int
    doses_per_unit: int = 1


DEFAULT_CATALOGUE: tuple[DefaultItem, ...] = (
    DefaultItem(_l("Syringe 1 mL 27G 1/2 in"), C.SYRINGE, _l("syringe"), 100),
    DefaultItem(_l("Syringe 1 mL 28G 1/2 in"), C.SYRINGE, _l("syringe"), 100),
    DefaultItem(_l("Syringe 1 mL 29G 1/2 in"), C.SYRINGE, _l("syringe"), 100),
    DefaultItem(_l("Syringe 1 mL 31G 5/16 in"), C.SYRINGE, _l("syringe"), 100),
    DefaultItem(_l("Syringe 3 mL 25G 1 in"), C.SYRINGE, _l("syringe"), 100),
    DefaultItem(_l("Cooker"), C.INJECTION, _l("cooker"), 100),
    DefaultItem(_l("Cotton filter"), C.INJECTION, _l("filter"), 100),
    DefaultItem(_l("Sterile water ampoule"), C.INJECTION, _l("ampoule"), 100),
    DefaultItem(_l("Alcohol pad"), C.INJECTION, _l("pad"), 200),
    DefaultItem(_l("Tourniquet"), C.INJECTION, _l("tourniquet"), 50),
    DefaultItem(_l("Naloxone nasal spray 4 mg (2-dose kit)"), C.NALOXONE, _l("kit"), 12, 2),
    DefaultItem(_l("Naloxone IM 0.4 mg/mL (kit)"), C.NALOXONE, _l("kit"), 10),
    DefaultItem(_l("Fentanyl test strip"), C.TEST_STRIP, _l("strip"), 100),
    DefaultItem(_l("Xylazine test strip"), C.TEST_STRIP, _l("strip"), 100),
    DefaultItem(_l("Glass pipe (straight stem)"), C.SMOKING, _l("pipe"), 50),
    DefaultItem(_l("Mouthpiece"), C.SMOKING, _l("mouthpiece"), 100),
    DefaultItem(_l("Brass screen"), C.SMOKING, _l("screen"), 100),
    DefaultItem(_l("Foil sheet"), C.SMOKING, _l("sheet"), 100),
    DefaultItem(_l("Wound care kit"), C.WOUND_CARE, _l("kit"), 25),
    DefaultItem(_l("Hygiene kit"), C.HYGIENE, _l("kit"), 25),
    DefaultItem(_l("External condom"), C.SEXUAL_HEALTH, _l("condom"), 144),
    DefaultItem(_l("Internal condom"), C.SEXUAL_HEALTH, _l("condom"), 100),
    DefaultItem(_l("Lubricant packet"), C.SEXUAL_HEALTH, _l("packet"), 100),
    DefaultItem(_l("Sharps container 1 qt"), C.DISPOSAL, _l("container"), 24),
    DefaultItem(_l("Sharps container 1 gal"), C.DISPOSAL, _l("container"), 12),
)

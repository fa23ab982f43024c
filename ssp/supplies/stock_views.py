"""Inventory pages: stock on hand, receipts, transfers, physical counts, the movement ledger."""

from __future__ import annotations

import flask_babel
from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ssp.extensions import db
from ssp.forms import date_arg, parse_id, posted_ids, save
from ssp.i18n import format_number, ngettext
from ssp.security import Role, role_required
from ssp.staff.models import Site
from ssp.staff.services import active_sites
from ssp.supplies import bp, stock
from ssp.supplies.forms import count_form, receipt_form, transfer_form
from ssp.supplies.models import AdjustmentReason, MovementReason, SupplyItem
from ssp.supplies.services import active_catalogue, catalogue_items
from ssp.supplies.stock import CountLine, LedgerFilter, ReceiptLine
from ssp.supplies.units import unit_for
from ssp.timeutil import program_today, utcnow

MANAGERS = (Role.MANAGER, Role.ADMIN)


def one_decimal(value: float) -> str:
    """A daily use written the reader's way, to one decimal ("1,234.5" / "1.234,5")."""
    return flask_babel.format_decimal(value, "#,##0.0")


# The stock pages write "1,200 syringes" with the unit agreeing in the reader's language.
bp.add_app_template_global(unit_for, "unit_for")
bp.add_app_template_global(one_decimal, "one_decimal")


def _count_message(site: Site, lines: int, adjustments: int) -> str:
    if not adjustments:
        return ngettext(
            "Count recorded at %(site)s: %(count)s item counted; the shelf matches the books.",
            "Count recorded at %(site)s: %(count)s items counted; the shelf matches the books.",
            lines,
            site=site.name,
            count=format_number(lines),
        )
    return ngettext(
        "Count recorded at %(site)s: %(count)s item counted, %(adjustments)s to the books.",
        "Count recorded at %(site)s: %(count)s items counted, %(adjustments)s to the books.",
        lines,
        site=site.name,
        count=format_number(lines),
        adjustments=ngettext(
            "%(count)s adjustment",
            "%(count)s adjustments",
            adjustments,
            count=format_number(adjustments),
        ),
    )


def _status() -> int:
    return 422 if request.method == "POST" else 200


def _default_site_id() -> int | None:
    site = current_user.site
    if site is not None and site.active:
        return site.id
    sites = active_sites()
    return sites[0].id if sites else None


@bp.get("/stock")
def stock_page():
    """On hand per site and item, recent use, days of supply, when to reorder and how much;
    ``?low=1`` lists only what is low or below zero (the home page's lines)."""
    only_low = request.args.get("low", "")
    if only_low not in ("", "0", "1"):
        abort(400)
    only_low = only_low == "1"
    rule = stock.ReorderRule.from_config()
    levels = stock.stock_levels(rule=rule)
    flagged = sum(1 for level in levels if level.flagged)
    by_site: dict[Site, list] = {}
    for level in levels:
        lines = by_site.setdefault(level.site, [])
        if level.flagged or not only_low:
            lines.append(level)
    if only_low:
        # Sites with nothing low stay listed (saying so) only while they are in use.
        by_site = {site: lines for site, lines in by_site.items() if lines or site.active}
    return render_template(
        "supplies/stock.html",
        by_site=by_site,
        only_low=only_low,
        flagged=flagged,
        rule=rule,
        expiring=stock.expiring_naloxone(),
        window=stock.EXPIRY_WARNING_DAYS,
    )


@bp.route("/stock/receive", methods=["GET", "POST"])
@role_required(*MANAGERS)
def receive():
    """Record a shipment into a site."""
    form = receipt_form(active_catalogue(), active_sites())
    if request.method == "GET":
        form.site_id.data = _default_site_id()
        form.occurred_on.data = program_today()
    if form.validate_on_submit():
        lines = [
            ReceiptLine(
                supply_item_id=item.id,
                quantity=form[names["qty"]].data,
                in_packs=form[names["per"]].data == "packs",
                lot=form[names["lot"]].data if "lot" in names else None,
                expires_on=form[names["expires"]].data if "expires" in names else None,
            )
            for item, names in form.item_rows
            if form[names["qty"]].data is not None
        ]
        if save(
            form,
            lambda: stock.receive(
                site_id=form.site_id.data,
                occurred_on=form.occurred_on.data,
                lines=lines,
                source=form.source.data,
                user=current_user._get_current_object(),
            ),
            lambda movements: ngettext(
                "Receipt recorded: %(count)s item.",
                "Receipt recorded: %(count)s items.",
                len(movements),
                count=format_number(len(movements)),
            ),
        ):
            return redirect(url_for("supplies.stock_page"), 303)
    return render_template("supplies/receive.html", form=form), _status()


@bp.route("/stock/transfer", methods=["GET", "POST"])
@role_required(*MANAGERS)
def transfer():
    """Move stock from one site to another (load the van)."""
    form = transfer_form(active_catalogue(), active_sites())
    if request.method == "GET":
        form.from_site_id.data = _default_site_id()
        form.occurred_on.data = program_today()
    if form.validate_on_submit():
        quantities = {
            item.id: form[names["qty"]].data
            for item, names in form.item_rows
            if form[names["qty"]].data is not None
        }
        if save(
            form,
            lambda: stock.transfer(
                from_site_id=form.from_site_id.data,
                to_site_id=form.to_site_id.data,
                occurred_on=form.occurred_on.data,
                quantities=quantities,
                user=current_user._get_current_object(),
            ),
            lambda movements: ngettext(
                "Transfer recorded: %(count)s item from %(source)s to %(target)s.",
                "Transfer recorded: %(count)s items from %(source)s to %(target)s.",
                len(quantities),
                count=format_number(len(quantities)),
                source=movements[0].site.name,
                target=movements[0].counterpart_site.name,
            ),
        ):
            return redirect(url_for("supplies.stock_page"), 303)
    return render_template("supplies/transfer.html", form=form), _status()


@bp.route("/stock/count", methods=["GET", "POST"])
@role_required(*MANAGERS)
def count():
    """A physical count at one site; differences become adjustment movements."""
    site_arg = request.args.get("site", "")
    if site_arg and parse_id(site_arg) is None:
        abort(400)
    site = db.session.get(Site, parse_id(site_arg)) if site_arg else None
    if site_arg and (site is None or not site.active):
        abort(404)
    site = site or db.session.get(Site, _default_site_id() or 0)
    if site is None:
        abort(404)
    catalogue = active_catalogue()
    if request.method == "POST":
        # An item deactivated while the form was open is refused, not silently dropped.
        posted = posted_ids(request.form, "count_")
        known = {item.id for item in catalogue}
        catalogue += catalogue_items(posted - known)
    form = count_form(catalogue)
    if request.method == "GET":
        form.occurred_on.data = program_today()
    if form.validate_on_submit():
        lines = [
            CountLine(
                item.id, form[names["count"]].data, AdjustmentReason(form[names["reason"]].data)
            )
            for item, names in form.item_rows
            if form[names["count"]].data is not None
        ]
        if save(
            form,
            lambda: stock.count(
                site_id=site.id,
                occurred_on=form.occurred_on.data,
                lines=lines,
                user=current_user._get_current_object(),
            ),
            lambda movements: _count_message(site, len(lines), len(movements)),
        ):
            return redirect(url_for("supplies.stock_page"), 303)
    on_hand = {level.item.id: level.on_hand for level in stock.stock_levels(site_id=site.id)}
    return render_template(
        "supplies/count.html", form=form, site=site, sites=active_sites(), on_hand=on_hand
    ), _status()


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    number = parse_id(value)
    if number is None:
        abort(400)
    return number


def _ledger_filter() -> LedgerFilter:
    _int_arg("page")
    reason = request.args.get("reason", "")
    if reason and reason not in MovementReason._value2member_map_:
        abort(400)
    filters = LedgerFilter(
        site_id=_int_arg("site"),
        supply_item_id=_int_arg("item"),
        reason=MovementReason(reason) if reason else None,
        start=date_arg("start"),
        end=date_arg("end"),
    )
    if filters.start and filters.end and filters.start > filters.end:
        abort(400)
    return filters


@bp.get("/stock/movements")
@role_required(*MANAGERS)
def ledger():
    """Every stock movement, filtered and paged, to reconcile against invoices."""
    filters = _ledger_filter()
    page = db.paginate(
        stock.ledger_query(filters),
        per_page=current_app.config["LEDGER_PAGE_SIZE"],
        max_per_page=200,
        error_out=False,
    )
    return render_template(
        "supplies/ledger.html",
        page=page,
        filters=filters,
        sites=list(db.session.scalars(select(Site).order_by(Site.name))),
        items=list(db.session.scalars(select(SupplyItem).order_by(SupplyItem.name))),
        reasons=list(MovementReason),
        query_args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.get("/stock/movements.csv")
@role_required(*MANAGERS)
def ledger_csv():
    """The filtered ledger as CSV (UTF-8), oldest first."""
    filters = _ledger_filter()
    filename = f"stock-movements-{utcnow():%Y%m%d-%H%M}.csv"
    body = stream_with_context(stock.csv_text(stock.ledger_rows(filters)))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

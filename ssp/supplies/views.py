"""Admin pages for the supply catalogue."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ssp.extensions import db
from ssp.forms import ConfirmForm, require_confirmed_post, save
from ssp.i18n import _
from ssp.security import Role, role_required
from ssp.supplies import bp, services
from ssp.supplies.forms import SupplyItemForm
from ssp.supplies.models import SupplyItem


def _form_values(form: SupplyItemForm) -> dict:
    return {
        "name": form.name.data,
        "category": form.category.data,
        "unit": form.unit.data,
        "units_per_pack": form.units_per_pack.data,
        "max_per_visit": form.max_per_visit.data,
        "doses_per_unit": form.doses_per_unit.data or 1,
    }


@bp.get("/admin/supplies")
@role_required(Role.ADMIN)
def catalogue():
    """List catalogue items by category."""
    items = db.session.scalars(
        select(SupplyItem).order_by(SupplyItem.active.desc(), SupplyItem.category, SupplyItem.name)
    ).all()
    return render_template("supplies/catalogue.html", items=items, confirm=ConfirmForm())


@bp.route("/admin/supplies/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def item_new():
    """Add a catalogue item."""
    form = SupplyItemForm()
    if form.validate_on_submit() and save(
        form,
        lambda: services.create_item(**_form_values(form)),
        lambda item: _("%(item)s added to the catalogue.", item=item.name),
    ):
        return redirect(url_for("supplies.catalogue"))
    status = 422 if request.method == "POST" else 200
    return render_template("supplies/item_form.html", form=form, item=None), status


@bp.route("/admin/supplies/<int:item_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def item_edit(item_id: int):
    """Edit a catalogue item."""
    item = db.get_or_404(SupplyItem, item_id)
    form = SupplyItemForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        form.category.data = item.category.value
    if form.validate_on_submit() and save(
        form,
        lambda: services.update_item(item, **_form_values(form)),
        lambda _result: _("%(item)s saved.", item=item.name),
    ):
        return redirect(url_for("supplies.catalogue"))
    status = 422 if request.method == "POST" else 200
    return render_template("supplies/item_form.html", form=form, item=item), status


@bp.post("/admin/supplies/<int:item_id>/deactivate")
@role_required(Role.ADMIN)
def item_deactivate(item_id: int):
    """Take an item off the visit form."""
    return _set_active(item_id, False)


@bp.post("/admin/supplies/<int:item_id>/reactivate")
@role_required(Role.ADMIN)
def item_reactivate(item_id: int):
    """Put an item back on the visit form."""
    return _set_active(item_id, True)


def _set_active(item_id: int, active: bool):
    require_confirmed_post()
    item = db.get_or_404(SupplyItem, item_id)
    services.set_item_active(item, active)
    db.session.commit()
    if active:
        flash(_("%(item)s reactivated.", item=item.name), "success")
    else:
        flash(_("%(item)s deactivated.", item=item.name), "success")
    return redirect(url_for("supplies.catalogue"))

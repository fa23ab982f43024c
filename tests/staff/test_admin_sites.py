"""Admin pages for sites: create, rename, deactivate."""

from __future__ import annotations

from sqlalchemy import func, select

from ssp.audit import AuditEvent
from ssp.extensions import db
from ssp.staff.models import Site, SiteKind


def _sites(app) -> dict[str, Site]:
    with app.app_context():
        sites = db.session.scalars(select(Site)).all()
        for site in sites:
            db.session.expunge(site)
        return {s.name: s for s in sites}


def test_create_rename_and_deactivate_a_site(app, signed_in):
    admin = signed_in("admin")
    response = admin.post(
        "/admin/sites/new", {"name": "  Main   clinic ", "kind": "fixed"}, follow_redirects=True
    )
    assert "Site Main clinic added." in response.get_data(as_text=True)
    admin.post("/admin/sites/new", {"name": "Van 1", "kind": "mobile"})
    site = _sites(app)["Main clinic"]

    response = admin.post(
        f"/admin/sites/{site.id}", {"name": "Downtown", "kind": "satellite"}, follow_redirects=True
    )
    assert "Site Downtown saved." in response.get_data(as_text=True)  # the new name
    sites = _sites(app)
    assert sites["Downtown"].kind == SiteKind.SATELLITE and "Main clinic" not in sites

    response = admin.post(f"/admin/sites/{site.id}/deactivate", follow_redirects=True)
    assert "Site Downtown deactivated." in response.get_data(as_text=True)
    assert _sites(app)["Downtown"].active is False
    admin.post(f"/admin/sites/{site.id}/reactivate")
    assert _sites(app)["Downtown"].active is True

    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "site")
                .order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "site_created",
        "site_created",
        "site_updated",
        "site_deactivated",
        "site_reactivated",
    ]


def test_site_bad_input_writes_nothing(app, signed_in, factory):
    factory.site("Main site")
    other = factory.site("Van")
    admin = signed_in("admin")
    for data, message, url in [
        ({"name": "main SITE", "kind": "fixed"}, "There is already a site", "/admin/sites/new"),
        ({"name": "", "kind": "fixed"}, "Enter a name.", "/admin/sites/new"),
        ({"name": "X", "kind": "fixed"}, "between 2 and 80", "/admin/sites/new"),
        ({"name": "Somewhere", "kind": "spaceship"}, "Not a valid choice", "/admin/sites/new"),
        (
            {"name": "Main site", "kind": "mobile"},
            "There is already a site",
            f"/admin/sites/{other}",
        ),
    ]:
        response = admin.post(url, data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    sites = _sites(app)
    assert set(sites) == {"Main site", "Van"} and sites["Van"].kind == SiteKind.FIXED


def test_the_only_active_site_cannot_be_deactivated(app, signed_in, factory):
    site_id = factory.site("Only one")
    admin = signed_in("admin")
    response = admin.post(f"/admin/sites/{site_id}/deactivate", follow_redirects=True)
    assert "only site in use" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Site).where(Site.active)) == 1

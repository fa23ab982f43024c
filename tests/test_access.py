"""Who may open which page: every admin page refuses front desk and managers, and
sends signed-out visitors to sign in. A route missing from the table fails the test."""

from __future__ import annotations

import pytest

# endpoint -> roles allowed (None: public). Methods are checked as the route declares them.
EXPECTED = {
    "static": None,
    "staff.sign_in": None,
    "dashboard.health": None,
    "dashboard.index": {"front_desk", "manager", "admin"},
    "staff.sign_out": {"front_desk", "manager", "admin"},
    "staff.change_password": {"front_desk", "manager", "admin"},
    "staff.confirm_password": {"front_desk", "manager", "admin"},
    "staff.keepalive": {"front_desk", "manager", "admin"},
    "staff.users": {"admin"},
    "staff.user_new": {"admin"},
    "staff.user_edit": {"admin"},
    "staff.user_password": {"admin"},
    "staff.user_deactivate": {"admin"},
    "staff.user_reactivate": {"admin"},
    "staff.user_unlock": {"admin"},
    "staff.sites": {"admin"},
    "staff.site_new": {"admin"},
    "staff.site_edit": {"admin"},
    "staff.site_deactivate": {"admin"},
    "staff.site_reactivate": {"admin"},
    "staff.audit": {"admin"},
    "staff.audit_csv": {"admin"},
    "supplies.catalogue": {"admin"},
    "supplies.item_new": {"admin"},
    "supplies.item_edit": {"admin"},
    "supplies.item_deactivate": {"admin"},
    "supplies.item_reactivate": {"admin"},
    "participants.find": {"front_desk", "manager", "admin"},
    "participants.search_api": {"front_desk", "manager", "admin"},
    "participants.new": {"front_desk", "manager", "admin"},
    "participants.show": {"front_desk", "manager", "admin"},
    "participants.edit": {"front_desk", "manager", "admin"},
    "participants.merge": {"manager", "admin"},
    "visits.new": {"front_desk", "manager", "admin"},
    "visits.walk_in": {"front_desk", "manager", "admin"},
    "visits.show": {"front_desk", "manager", "admin"},
    "visits.edit": {"front_desk", "manager", "admin"},
    "visits.void": {"front_desk", "manager", "admin"},
    "referrals.partners": {"admin"},
    "referrals.partner_new": {"admin"},
    "referrals.partner_edit": {"admin"},
    "referrals.partner_deactivate": {"admin"},
    "referrals.partner_reactivate": {"admin"},
    "referrals.referral_new": {"front_desk", "manager", "admin"},
    "referrals.referral_show": {"front_desk", "manager", "admin"},
    "referrals.referral_status": {"front_desk", "manager", "admin"},
    "referrals.follow_up_new": {"front_desk", "manager", "admin"},
    "referrals.follow_up_show": {"front_desk", "manager", "admin"},
    "referrals.follow_up_outcome": {"front_desk", "manager", "admin"},
    "referrals.follow_up_cancel": {"front_desk", "manager", "admin"},
    "referrals.worklist": {"front_desk", "manager", "admin"},
    "supplies.stock_page": {"front_desk", "manager", "admin"},
    "supplies.receive": {"manager", "admin"},
    "supplies.transfer": {"manager", "admin"},
    "supplies.count": {"manager", "admin"},
    "supplies.ledger": {"manager", "admin"},
    "supplies.ledger_csv": {"manager", "admin"},
    "reporting.index": {"manager", "admin"},
    "reporting.preview": {"manager", "admin"},
    "reporting.preview_csv": {"manager", "admin"},
    "reporting.generate": {"manager", "admin"},
    "reporting.download": {"manager", "admin"},
    "reporting.profiles": {"admin"},
    "reporting.profile_defaults": {"admin"},
    "reporting.profile_new": {"admin"},
    "reporting.profile_edit": {"admin"},
    "reporting.profile_deactivate": {"admin"},
    "reporting.profile_reactivate": {"admin"},
}

ADMIN_ONLY = sorted(e for e, roles in EXPECTED.items() if roles == {"admin"})
MANAGERS_ONLY = sorted(e for e, roles in EXPECTED.items() if roles == {"manager", "admin"})


def _url(app, rule) -> str:
    values = {arg: 1 for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED), "add new routes to EXPECTED with the roles allowed"


@pytest.mark.parametrize("endpoint", ADMIN_ONLY)
def test_admin_pages_refuse_other_roles_and_signed_out_visitors(app, factory, endpoint):
    from tests.conftest import Browser

    rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    factory.site()  # so that id 1 exists where a route needs an object
    factory.supply_item()
    factory.partner()
    factory.profiles()
    factory.user("desk1", "front_desk")
    factory.user("boss1", "manager")
    for rule in rules:
        url = _url(app, rule)
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"

        anonymous = Browser(app.test_client())
        response = anonymous.post(url) if method == "POST" else anonymous.get(url)
        assert response.status_code == 302, (url, "signed out")
        assert "/sign-in" in response.headers["Location"]

        for username in ("desk1", "boss1"):
            browser = Browser(app.test_client())
            browser.sign_in(username)
            response = browser.post(url) if method == "POST" else browser.get(url)
            assert response.status_code == 403, (url, username)
            assert "Not open to your role" in response.get_data(as_text=True)


def test_navigation_shows_only_what_the_role_may_use(app, factory):
    from tests.conftest import Browser

    factory.user("desk1", "front_desk")
    factory.user("root1", "admin")
    desk = Browser(app.test_client())
    page = desk.sign_in("desk1").get_data(as_text=True)
    assert "/admin/users" not in page and "Supply catalogue" not in page
    admin = Browser(app.test_client())
    page = admin.sign_in("root1").get_data(as_text=True)
    assert "/admin/users" in page and "/admin/supplies" in page and "/admin/sites" in page


@pytest.mark.parametrize("endpoint", MANAGERS_ONLY)
def test_manager_pages_refuse_front_desk_and_open_for_managers(app, factory, endpoint):
    from tests.conftest import Browser

    rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    site = factory.site()
    factory.participant("MAPH0687")
    factory.profiles()
    factory.user("desk1", "front_desk", site_id=site)
    factory.user("boss1", "manager", site_id=site)
    for rule in rules:
        url = _url(app, rule)
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
        desk = Browser(app.test_client())
        desk.sign_in("desk1")
        response = desk.post(url) if method == "POST" else desk.get(url)
        assert response.status_code == 403, (url, "front desk")
        if method == "GET":
            manager = Browser(app.test_client())
            manager.sign_in("boss1")
            with manager.client.get(url) as response:
                # Allowed: the page answers (or says what is missing), never 302/403/500.
                assert response.status_code in (200, 400, 404), (url, "manager")

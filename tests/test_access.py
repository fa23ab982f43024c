"""Who may open which page: every admin page refuses front desk and managers, and
sends signed-out visitors to sign in. A route missing from the table fails the test."""

from __future__ import annotations

# endpoint -> roles allowed (None: public). Methods are checked as the route declares them.
EXPECTED = {
    "static": None,
    "staff.sign_in": None,
    "staff.sign_in_second_step": None,
    "staff.sign_in_passkey_options": None,
    "staff.sign_in_passkey": None,
    "staff.choose_language": None,
    "dashboard.health": None,
    "dashboard.index": {"front_desk", "manager", "admin"},
    "dashboard.admin": {"admin"},
    "staff.sign_out": {"front_desk", "manager", "admin"},
    "staff.change_password": {"front_desk", "manager", "admin"},
    "staff.confirm_password": {"front_desk", "manager", "admin"},
    "staff.keepalive": {"front_desk", "manager", "admin"},
    "staff.account": {"front_desk", "manager", "admin"},
    "staff.account_language": {"front_desk", "manager", "admin"},
    "staff.end_other_sessions": {"front_desk", "manager", "admin"},
    "staff.end_session": {"front_desk", "manager", "admin"},
    "staff.two_step_setup": {"front_desk", "manager", "admin"},
    "staff.two_step_recovery_codes": {"front_desk", "manager", "admin"},
    "staff.two_step_off": {"front_desk", "manager", "admin"},
    "staff.passkey_options": {"front_desk", "manager", "admin"},
    "staff.passkey_add": {"front_desk", "manager", "admin"},
    "staff.passkey_remove": {"front_desk", "manager", "admin"},
    "staff.confirm_passkey_options": {"front_desk", "manager", "admin"},
    "staff.confirm_passkey": {"front_desk", "manager", "admin"},
    "staff.users": {"admin"},
    "staff.user_new": {"admin"},
    "staff.user_edit": {"admin"},
    "staff.user_password": {"admin"},
    "staff.user_deactivate": {"admin"},
    "staff.user_reactivate": {"admin"},
    "staff.user_unlock": {"admin"},
    "staff.user_end_sessions": {"admin"},
    "staff.user_reset_two_step": {"admin"},
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
    "participants.card": {"front_desk", "manager", "admin"},
    "visits.new": {"front_desk", "manager", "admin"},
    "visits.walk_in": {"front_desk", "manager", "admin"},
    "visits.today": {"front_desk", "manager", "admin"},
    "outreach.screen": {"front_desk", "manager", "admin"},
    "outreach.service_worker": None,
    "outreach.setup": {"front_desk", "manager", "admin"},
    "outreach.sync": {"front_desk", "manager", "admin"},
    "outreach.zones": {"admin"},
    "outreach.zone_active": {"admin"},
    "outreach.review": {"manager", "admin"},
    "outreach.held_retry": {"manager", "admin"},
    "outreach.held_discard": {"manager", "admin"},
    "outreach.enrolment_reviewed": {"manager", "admin"},
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
    "referrals.referral_list": {"manager", "admin"},
    "supplies.stock_page": {"front_desk", "manager", "admin"},
    "supplies.receive": {"manager", "admin"},
    "supplies.transfer": {"manager", "admin"},
    "supplies.count": {"manager", "admin"},
    "supplies.ledger": {"manager", "admin"},
    "supplies.ledger_csv": {"manager", "admin"},
    "reporting.index": {"manager", "admin"},
    "reporting.preview": {"manager", "admin"},
    "reporting.preview_csv": {"manager", "admin"},
    "reporting.preview_html": {"manager", "admin"},
    "reporting.narrative": {"manager", "admin"},
    "reporting.generate": {"manager", "admin"},
    "reporting.download": {"manager", "admin"},
    "evaluation.export": {"manager", "admin"},
    "imports.index": {"manager", "admin"},
    "imports.upload": {"manager", "admin"},
    "imports.mapping": {"manager", "admin"},
    "imports.show_upload": {"manager", "admin"},
    "imports.start_import": {"manager", "admin"},
    "imports.discard": {"manager", "admin"},
    "imports.show_batch": {"manager", "admin"},
    "drugchecking.new_result": {"front_desk", "manager", "admin"},
    "drugchecking.trends_page": {"manager", "admin"},
    "drugchecking.void_result": {"manager", "admin"},
    "drugchecking.lists": {"admin"},
    "drugchecking.add_sold_as": {"admin"},
    "drugchecking.add_test": {"admin"},
    "drugchecking.toggle": {"admin"},
    "drugchecking.load_defaults": {"admin"},
    "alerts.alert_list": {"manager", "admin"},
    "alerts.new_alert": {"manager", "admin"},
    "alerts.edit_alert": {"manager", "admin"},
    "alerts.show_alert": {"front_desk", "manager", "admin"},
    "alerts.approve_alert": {"manager", "admin"},
    "alerts.withdraw_alert": {"manager", "admin"},
    "alerts.alert_flyer": {"front_desk", "manager", "admin"},
    "reporting.profiles": {"admin"},
    "reporting.profile_defaults": {"admin"},
    "reporting.profile_new": {"admin"},
    "reporting.profile_edit": {"admin"},
    "reporting.profile_deactivate": {"admin"},
    "reporting.profile_reactivate": {"admin"},
}

ROLES = ("front_desk", "manager", "admin")


def _url(app, rule) -> str:
    values = {arg: 1 for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(EXPECTED), "add new routes to EXPECTED with the roles allowed"


def _world(factory):
    """One of everything, so that id 1 exists wherever a route needs an object."""
    site = factory.site()
    factory.user("target", "front_desk", site_id=site)  # user 1: acted upon, never signs in
    factory.supply_item()
    factory.partner()
    factory.profiles()
    participant = factory.participant("MAPH0687", site_id=site)
    factory.visit(participant, user_id=1, site_id=site, items={1: 5})
    factory.referral(participant, user_id=1)
    for role in ROLES:
        factory.user(role.replace("_", ""), role, site_id=site)


def test_every_route_for_every_role(app, factory):
    """Signed out: sent to sign in. Signed in without the role: 403. With it: the page
    answers (or says what is missing), never a 403, a redirect to sign in, or a 500."""
    from tests.conftest import Browser

    _world(factory)
    browsers = {None: Browser(app.test_client())}
    for role in ROLES:
        browsers[role] = Browser(app.test_client())
        browsers[role].sign_in(role.replace("_", ""))
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "staff.sign_out")
    for rule in rules:
        if rule.endpoint == "static":
            continue
        url = _url(app, rule)
        method = "GET" if "GET" in rule.methods else "POST"
        allowed = EXPECTED[rule.endpoint]
        for role, browser in browsers.items():
            if method == "GET":
                with browser.client.get(url) as response:
                    status, location = response.status_code, response.headers.get("Location")
            else:
                response = browser.post(url, {})
                status, location = response.status_code, response.headers.get("Location")
            where = (rule.endpoint, role, status)
            assert status < 500, where
            if allowed is None:
                continue  # public
            if role is None:
                assert status == 302 and location.startswith("/sign-in"), where
            elif role not in allowed:
                assert status == 403, where
            else:
                assert status != 403, where
                if rule.endpoint != "staff.sign_out":  # which rightly ends at the sign-in page
                    assert not (location or "").startswith("/sign-in"), where


def test_navigation_shows_only_what_the_role_may_use(app, factory):
    from tests.conftest import Browser

    factory.user("desk1", "front_desk")
    factory.user("root1", "admin")
    desk = Browser(app.test_client())
    page = desk.sign_in("desk1").get_data(as_text=True)
    assert "/admin/users" not in page and "Supply catalogue" not in page
    assert "/reports" not in page and "/admin/audit" not in page
    assert 'href="/referrals"' not in page
    admin = Browser(app.test_client())
    page = admin.sign_in("root1").get_data(as_text=True)
    for link in (
        "/admin/users",
        "/admin/supplies",
        "/admin/sites",
        "/admin/partners",
        "/admin/funder-profiles",
        "/admin/audit",
        "/reports",
        "/stock",
        "/follow-ups",
        'href="/referrals"',
    ):
        assert link in page, link

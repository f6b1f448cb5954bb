"""The dispute pages in a real browser (headless Chromium, as ``tests/browser``): the lookup
result's button opens the filing form, the number typed there is hashed in the browser and
only its hash is sent; the respondent answers from its inbox; every page fits a phone."""

from __future__ import annotations

from playwright.sync_api import expect

from lenders.models import Member, User
from registry.choices import DisputeState
from registry.models import Dispute
from tests.browser.conftest import BLACK_NUMBER, PHONE
from tests.factories import MemberFactory, make_user

FITS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_file_from_a_lookup_and_answer_in_the_browser(world, page_as):
    filer_member: Member = MemberFactory(region=world.region, name="福田微众金融")  # type: ignore[assignment]
    filer = make_user(filer_member, ["ANALYST"], username="filer_analyst")
    User.objects.filter(pk=filer.pk).update(language="en")
    filer.refresh_from_db()

    desk = page_as(filer)
    page = desk.page
    desk.goto("/lookups/")
    page.fill("#raw-number", BLACK_NUMBER)
    page.select_option("select[name=purpose]", "DISPUTE_CHECK")
    page.locator("[data-subject-form] [data-submit]").click()
    page.locator("[data-dispute-link]").click()

    expect(page.locator("main h1")).to_have_text("File a dispute")
    # Prefilled from the lookup: the hash, not the number.
    expect(page.locator("input[name=subject_hash]")).to_have_value(world.hash(BLACK_NUMBER))
    page.locator("input[name=subject_hash]").fill("")
    page.fill("#raw-number", BLACK_NUMBER)
    expect(page.locator("[data-raw-status]")).to_contain_text(f"Valid: {BLACK_NUMBER}")
    page.select_option("select[name=grounds]", "NOT_ME")
    page.fill("textarea[name=statement]", "The subject never applied for this loan.")
    with page.expect_request(lambda r: r.method == "POST" and "/disputes/new/" in r.url) as posted:
        page.get_by_role("button", name="File the dispute").click()
    body = posted.value.post_data or ""
    assert f"subject_hash={world.hash(BLACK_NUMBER)}" in body
    assert BLACK_NUMBER not in body
    expect(page.locator("main h1")).to_contain_text("Dispute #")
    dispute = Dispute.objects.get()
    expect(page.locator("main h1")).to_have_text(f"Dispute #{dispute.pk}")
    expect(page.locator("[data-dispute-state]")).to_contain_text("Open")
    desk.screenshot("dispute-filed")

    respondent = page_as(world.users["ANALYST"])
    respondent.goto("/")
    expect(respondent.page.locator("[data-dashboard-disputes]")).to_contain_text("days left")
    respondent.goto("/disputes/inbox/")
    expect(respondent.page.locator("nav.main-nav [data-nav-badge]")).to_have_text("1 unread")
    respondent.screenshot("dispute-inbox")
    respondent.page.get_by_role("link", name="Answer").click()
    respondent.screenshot("dispute-answer")
    respondent.page.get_by_label("Withdraw the entry").check()
    respondent.page.fill("textarea[name=note]", "Identity theft confirmed by our branch.")
    respondent.page.get_by_role("button", name="Send the answer").click()
    expect(respondent.page.locator(".messages")).to_contain_text("Your answer was saved: Withdrawn.")
    respondent.screenshot("dispute-answered")

    other_analyst = make_user(world.other, ["ANALYST"], username="other_analyst")
    User.objects.filter(pk=other_analyst.pk).update(language="en")
    other_analyst.refresh_from_db()
    other = page_as(other_analyst)
    other.goto("/disputes/inbox/")
    other.page.get_by_role("link", name="Answer").click()
    other.page.get_by_label("Confirm the entry").check()
    other.page.fill("textarea[name=note]", "Our loan file is signed by the subject.")
    other.page.get_by_role("button", name="Send the answer").click()
    expect(other.page.locator(".messages")).to_contain_text("Your answer was saved: Confirmed.")
    assert Dispute.objects.get().state == DisputeState.RESOLVED

    for path in ("/disputes/filed/", f"/disputes/{dispute.pk}/", "/notifications/"):
        desk.page.set_viewport_size(PHONE)
        assert desk.goto(path).status == 200
        assert desk.page.evaluate(FITS), f"{path} is wider than a phone"


def test_the_operator_pages_in_the_browser(world, page_as):
    from lenders.choices import Role
    from tests.registry.disputes_portal.helpers import escalate, file_dispute

    filer: Member = MemberFactory(region=world.region, name="福田微众金融")  # type: ignore[assignment]
    dispute = escalate(file_dispute(filer, world.hash(BLACK_NUMBER)), filer, [world.member, world.other])
    admin = make_user(world.region.operator, [Role.OPERATOR_ADMIN], username="operator_admin")
    User.objects.filter(pk=admin.pk).update(language="en")
    admin.refresh_from_db()
    desk = page_as(admin)
    for path, name in (
        ("/disputes/arbitration/", "dispute-arbitration-queue"),
        ("/disputes/all/", "dispute-list-operator"),
        ("/disputes/statistics/", "dispute-statistics"),
        ("/", "dispute-dashboard-operator"),
    ):
        desk.page.set_viewport_size({"width": 1280, "height": 900})
        assert desk.goto(path).status == 200
        expect(desk.page.locator("main h1")).to_be_visible()
        desk.screenshot(name)
        desk.page.set_viewport_size(PHONE)
        desk.goto(path)
        assert desk.page.evaluate(FITS), f"{path} is wider than a phone"

    desk.page.set_viewport_size({"width": 1280, "height": 900})
    desk.goto("/disputes/arbitration/")
    forms = desk.page.locator("[data-queue-dispute] form")
    expect(forms).to_have_count(2)
    first = forms.nth(0)
    first.get_by_label("Remove the entry").check()
    first.locator("textarea").fill("The subject showed a court ruling.")
    first.get_by_role("button", name="Decide this item").click()
    expect(desk.page.locator(".messages")).to_contain_text("The decision was saved.")
    second = desk.page.locator("[data-queue-dispute] form")
    expect(second).to_have_count(1)
    second.get_by_label("Uphold the entry").check()
    second.locator("textarea").fill("The loan file holds.")
    second.get_by_role("button", name="Decide this item").click()
    expect(desk.page.locator(".messages")).to_contain_text(f"Dispute #{dispute.pk} is arbitrated")
    assert Dispute.objects.get().state == DisputeState.ARBITRATED

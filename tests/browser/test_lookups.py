"""The lookup page in the browser: the number is hashed there and only the hash is sent."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from registry.models import LookupRecord
from registry.views.lookups import dispute_new_url
from tests.browser.conftest import BLACK_NUMBER, UNKNOWN_NUMBER, WHITE_NUMBER

# The black number as a person might type it: spaced, with full-width digits.
TYPED_BLACK = "３６０４２６ 1991 0101 0071"


def _sent_anywhere(requests, text: str) -> list[str]:
    """The requests whose address or body carried ``text``."""
    found = []
    for request in requests:
        body = request.post_data or ""
        if text in request.url or text in body:
            found.append(f"{request.method} {request.url}")
    return found


def test_a_single_lookup_sends_only_the_hash(world, page_as):
    analyst = page_as(world.users["ANALYST"])
    analyst.goto("/lookups/")
    page = analyst.page
    page.fill("#raw-number", TYPED_BLACK)
    expect(page.locator("[data-raw-status]")).to_contain_text(f"Valid: {BLACK_NUMBER}")
    page.select_option("select[name=purpose]", "UNDERWRITING")
    page.fill("input[name=consent_reference]", "CONSENT-7")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/lookups/")) as posted:
        page.get_by_role("button", name="Look up", exact=True).click()
    form = posted.value.post_data or ""
    assert f"subject_hash={world.hash(BLACK_NUMBER)}" in form
    assert f"key_id={world.region.current_hash_key.key_id}" in form

    card = page.locator("#lookup-result")
    expect(card).to_be_visible()
    # Status in words (and a symbol), not by colour alone.
    expect(card.locator(".status-badge")).to_have_text("■ Black list")
    expect(card).to_have_class("card lookup-result lookup-black")
    expect(card.locator(".stats .stat-value").first).to_have_text("84")
    expect(card).to_contain_text("Over 90 days overdue (2 members)")
    # The analyst's own member's entry, in words.
    expect(card.locator(".facts")).to_contain_text("Black list Over 90 days overdue")
    expect(card).not_to_contain_text("You have no entry on this subject.")
    expect(card).to_contain_text("Status computed at")
    # "File a dispute" lights up once the disputes pages are installed, with the subject filled in.
    dispute_url = dispute_new_url("RIC", world.hash(BLACK_NUMBER))
    expect(card.locator("[data-dispute-link]")).to_have_count(1 if dispute_url else 0)
    if dispute_url:
        expect(card.locator("[data-dispute-link]")).to_have_attribute("href", dispute_url)
    analyst.screenshot("lookup-result")

    # The number never left the browser, in any form it was typed or canonicalised into.
    for form_of_number in (BLACK_NUMBER, TYPED_BLACK, "360426 1991"):
        assert not _sent_anywhere(analyst.requests, form_of_number), form_of_number
    record = LookupRecord.objects.get()
    assert bytes(record.subject_hash).hex() == world.hash(BLACK_NUMBER)
    assert (record.purpose, record.consent_reference, record.status) == ("UNDERWRITING", "CONSENT-7", "BLACK")


def test_an_invalid_number_is_refused_in_the_browser_and_nothing_is_sent(world, page_as):
    analyst = page_as(world.users["ANALYST"])
    analyst.goto("/lookups/")
    page = analyst.page
    page.fill("#raw-number", "360426199101010072")
    page.select_option("select[name=purpose]", "UNDERWRITING")
    page.get_by_role("button", name="Look up", exact=True).click()
    expect(page.locator("[data-raw-status]")).to_contain_text("The check digit of this resident ID is wrong")
    expect(page.locator("#raw-number")).to_have_attribute("aria-invalid", "true")
    assert not [r for r in analyst.requests if r.method == "POST"]
    assert not LookupRecord.objects.exists()


def test_a_batch_from_a_file_is_hashed_in_the_browser_sorted_and_downloaded(world, page_as, tmp_path):
    numbers = tmp_path / "borrowers.csv"
    numbers.write_text(
        "\n".join(
            [
                "id_type,number",
                WHITE_NUMBER,
                "360426199101010072",  # a wrong check digit: listed, not sent
                "",
                TYPED_BLACK,
                "MOBILE,+86 138 0013 8000",
                UNKNOWN_NUMBER.lower(),  # a lower-case x is fine
                "12345",
            ]
        ),
        encoding="utf-8",
    )
    analyst = page_as(world.users["ANALYST"])
    analyst.goto("/lookups/")
    page = analyst.page
    batch = page.locator("[data-lookup-batch]")
    expect(batch.locator("[data-batch-form]")).to_be_visible()
    batch.locator("[data-batch-file]").set_input_files(str(numbers))
    expect(batch.locator("[data-batch-numbers]")).to_have_value(numbers.read_text(encoding="utf-8"))
    batch.locator("[data-batch-purpose]").select_option("POST_LOAN")
    with page.expect_request(lambda r: r.url.endswith("/api/v1/lookups/batch")) as posted:
        batch.get_by_role("button", name="Hash and look up").click()
    sent = posted.value.post_data_json
    assert sent["purpose"] == "POST_LOAN"
    assert [s["id_type"] for s in sent["subjects"]] == ["RIC", "RIC", "MOBILE", "RIC"]
    assert sent["subjects"][1]["subject_hash"] == world.hash(BLACK_NUMBER)

    rows = batch.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(batch.locator("[data-batch-progress-text]")).to_have_text("4 subjects looked up; 2 lines not sent.")
    expect(batch.locator("[data-batch-bar]")).to_have_attribute("max", "6")
    invalid = batch.locator("[data-batch-invalid-list] li")
    expect(invalid).to_have_count(2)
    expect(invalid.nth(0)).to_contain_text("Line 3 (360426199101010072): The check digit of this resident ID is wrong")
    expect(invalid.nth(1)).to_contain_text("Line 8 (12345): A resident ID has 18 characters (or 15 digits), not 5.")
    # In file order first; the status column sorts by severity.
    expect(rows.nth(0).locator("[data-status]")).to_have_attribute("data-status", "WHITE")
    batch.get_by_role("button", name="Status", exact=True).click()
    expect(batch.locator("th[aria-sort=ascending]")).to_contain_text("Status")
    expect(rows.nth(0)).to_contain_text("■ Black list")
    expect(rows.nth(0)).to_contain_text("84")
    expect(rows.nth(0)).to_contain_text("Over 90 days overdue × 2")
    expect(rows.nth(3).locator("[data-status]")).to_have_attribute("data-status", "CLEAR")
    analyst.screenshot("lookup-batch")

    with page.expect_download() as downloaded:
        batch.get_by_role("button", name="Download as CSV").click()
    content = open(downloaded.value.path(), encoding="utf-8-sig").read()
    table = list(csv.DictReader(io.StringIO(content)))
    # The file is the table as sorted on the page.
    assert [(row["Line"], row["Status"], row["Black score"]) for row in table] == [
        ("5", "BLACK", "84"),
        ("2", "WHITE", "0"),
        ("6", "CLEAR", "0"),
        ("7", "CLEAR", "0"),
    ]
    mobile = next(row for row in table if row["ID type"] == "MOBILE")
    assert mobile["Number"] == "'+86 138 0013 8000"  # formula-safe: a leading + is quoted
    for raw in (BLACK_NUMBER, WHITE_NUMBER, UNKNOWN_NUMBER, "13800138000"):
        assert not _sent_anywhere(analyst.requests, raw), raw
    assert LookupRecord.objects.filter(purpose="POST_LOAN").count() == 4

"""Sending a file from the uploads page and following it to its end, with the real job."""

from __future__ import annotations

from playwright.sync_api import expect

from registry.models import Entry, Upload
from tests.registry.helpers import days_ago


def _csv(world, rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["id_type,subject_hash,list,reason,event_date"]
    lines += [f"RIC,{world.hash(raw)},{kind},{reason},{day}" for raw, kind, reason, day in rows]
    return "\n".join(lines) + "\n"


def _send(uploader, path) -> None:
    uploader.goto("/uploads/")
    form = uploader.page.locator("form[data-upload-form]")
    form.locator("input[name=file]").set_input_files(str(path))
    form.get_by_role("button", name="Send the file").click()
    uploader.page.wait_for_url("**/uploads/*/")


def test_an_upload_is_followed_to_succeeded(world, page_as, background_jobs, tmp_path):
    path = tmp_path / "nightly.csv"
    path.write_text(
        _csv(
            world,
            [
                ("440305198807150015", "BLACK", "COURT_ENFORCED", days_ago(20)),
                ("11010519491231002X", "BLACK", "FRAUD", days_ago(40)),
                ("440304198512120031", "WHITE", "GOOD_REPAYMENT", days_ago(10)),
            ],
        ),
        encoding="utf-8",
    )
    uploader = page_as(world.users["UPLOADER"])
    _send(uploader, path)
    page = uploader.page
    progress = page.locator("section[aria-labelledby=upload-progress]")
    # The page follows the job by itself (uploads.js) until the badge says it is done.
    expect(progress.locator("[data-upload-field=state_label]")).to_have_text("Succeeded", timeout=60_000)
    expect(progress.locator("progress[data-upload-field=bar]")).to_have_js_property("position", 1)
    expect(progress.locator("[data-upload-field=created]")).to_have_text("3")
    expect(page.get_by_text("Applied: lookups already show the regional status with these changes.")).to_be_visible()
    uploader.screenshot("upload-succeeded")
    upload = Upload.objects.get()
    assert upload.state == "SUCCEEDED"
    assert Entry.objects.filter(member=world.member).count() == 1 + 3  # world's entry and the file's

    uploader.goto("/uploads/")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("nightly.csv")
    expect(row.locator("[data-upload-field=state_label]")).to_have_text("Succeeded")
    uploader.screenshot("uploads")


def test_a_rejected_upload_shows_its_errors(world, page_as, background_jobs, tmp_path):
    path = tmp_path / "broken.csv"
    content = _csv(world, [("440305198807150015", "BLACK", "COURT_ENFORCED", days_ago(20))])
    content += f"RIC,{'ab' * 31},BLACK,FRAUD,{days_ago(5)}\n"  # a hash too short
    content += f"RIC,{world.hash('440303199002280025')},BLACK,GOOD_REPAYMENT,{days_ago(5)}\n"  # a white reason
    path.write_text(content, encoding="utf-8")
    uploader = page_as(world.users["UPLOADER"])
    _send(uploader, path)
    page = uploader.page
    expect(page.locator(".page-head [data-upload-field=state_label]")).to_have_text("Rejected", timeout=60_000)
    expect(page.get_by_role("alert")).to_contain_text("The file was refused: nothing of it was applied.")
    errors = page.locator("section[aria-labelledby=upload-errors] tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0).locator("td").first).to_have_text("3")
    expect(errors.nth(0)).to_contain_text("subject_hash")
    expect(errors.nth(1).locator("td").first).to_have_text("4")
    expect(errors.nth(1)).to_contain_text("reason")
    uploader.screenshot("upload-rejected")
    assert Upload.objects.get().state == "REJECTED"
    assert Entry.objects.filter(member=world.member).count() == 1  # only world's own entry

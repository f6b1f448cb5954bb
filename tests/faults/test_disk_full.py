"""The disk full while a file arrives (``quality.md``, Reliability): the sender gets 507 in
the error shape (the portal: the form with the reason), nothing half-written stays on the
disk, no upload row is made, and the next file that fits is accepted.

The media folder is a real, tiny tmpfs (mounting needs root; skipped otherwise), so the
operating system itself answers ENOSPC while the request body streams to disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Upload
from tests.registry.uploads.helpers import csv_bytes, row

pytestmark = [pytest.mark.postgres]
TMPFS_BYTES = 256 * 1024
MOUNT, UMOUNT = shutil.which("mount") or "/bin/mount", shutil.which("umount") or "/bin/umount"


@pytest.fixture
def tiny_disk(postgres_only: None, settings, tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    media = tmp_path / "tiny-media"
    media.mkdir()
    subprocess.run(  # noqa: S603 - a fixed mount of a private folder
        [MOUNT, "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(media)], check=True
    )
    settings.MEDIA_ROOT = str(media)
    try:
        yield media
    finally:
        subprocess.run([UMOUNT, "-l", str(media)], check=False)  # noqa: S603


def _files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def _big_file() -> bytes:
    content = csv_bytes(row(f"disk-{n}", reference=f"case-{n:08d}") for n in range(8000))
    assert len(content) > 2 * TMPFS_BYTES
    return content


def test_a_file_that_fills_the_disk_is_refused_with_507_and_nothing_is_kept(tiny_disk, member, key_client):
    client = key_client(member, scopes=["upload"])

    response = client.post("/api/v1/uploads", {"file": SimpleUploadedFile("big.csv", _big_file())}, format="multipart")

    assert response.status_code == 507, response.content
    assert response.json()["error"]["code"] == "insufficient_storage"
    assert int(response["Retry-After"]) > 0
    assert not Upload.objects.exists()
    assert _files_in(tiny_disk) == []

    small = client.post(
        "/api/v1/uploads", {"file": SimpleUploadedFile("small.csv", csv_bytes([row("disk-ok")]))}, format="multipart"
    )
    assert small.status_code == 202, small.content
    assert [path.name for path in _files_in(tiny_disk)] == [Path(Upload.objects.get().file_path).name]


def test_the_portal_form_says_the_disk_is_full(tiny_disk, member, user_with):
    from django.test import Client

    client = Client()
    client.force_login(user_with(member, "UPLOADER"))
    client.get("/uploads/")  # sets the CSRF cookie, as a browser would
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value

    response = client.post(
        "/uploads/",
        {"file": SimpleUploadedFile("big.csv", _big_file()), "mode": "delta", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 507
    assert "no room to store this file" in response.content.decode() or "没有空间" in response.content.decode()
    assert not Upload.objects.exists()
    assert _files_in(tiny_disk) == []

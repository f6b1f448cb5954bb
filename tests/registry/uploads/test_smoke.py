from registry.choices import UploadState
from tests.registry.uploads.helpers import csv_bytes, row


def test_a_small_file_is_applied(send, member):
    response = send(csv_bytes([row(1), row(2, "WHITE", "GOOD_REPAYMENT")]))
    assert response.status_code == 202, response.content
    upload = response.upload
    assert upload.state == UploadState.SUCCEEDED, upload.message
    assert (upload.created, upload.updated, upload.invalid) == (2, 0, 0)

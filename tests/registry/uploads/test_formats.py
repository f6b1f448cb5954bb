"""What spreadsheets and export jobs really write (``csv.md``, Format): GBK with CRLF from a
Chinese desktop, UTF-8 with a byte-order mark, gzip, header names in any case with spaces,
quoted fields spanning lines, blank trailing rows."""

from __future__ import annotations

import pytest

from registry.choices import UploadState
from tests.registry.helpers import days_ago, entry_of, subject, submit
from tests.registry.uploads.helpers import csv_bytes, report_of, row

# How WPS or Excel on a Chinese desktop writes a sheet saved as "CSV (逗号分隔)": headers as the
# user typed them, Chinese case numbers, CRLF, trailing empty rows of commas.
SHEET_HEADER = ("ID_Type", " Subject_Hash ", "LIST", "Reason", "Event_Date", "reference")


def _sheet_rows() -> list[list[str]]:
    return [
        ["RIC", subject("sheet-1"), "BLACK", "SEVERE_OVERDUE", days_ago(40), "深圳前海-逾期-0001"],
        ["USCC", subject("sheet-2").upper(), "white", "verified_business", days_ago(100), "南山分行 核实"],
        ["MOBILE", subject("sheet-3"), "BLACK", "FRAUD", days_ago(5), ""],
        ["", "", "", "", "", ""],
        ["", "", "", "", "", ""],
    ]


@pytest.mark.parametrize(
    ("encoding", "prefix", "detected"),
    [("gbk", b"", "gb18030"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"), ("utf-8", b"", "utf-8")],
    ids=["gbk-crlf", "utf8-bom-crlf", "utf8-crlf"],
)
def test_a_spreadsheet_export_imports(send, member, encoding, prefix, detected):
    content = prefix + csv_bytes(_sheet_rows(), SHEET_HEADER, encoding=encoding, newline="\r\n")

    upload = send(content).upload

    assert upload.state == UploadState.SUCCEEDED, (upload.message, report_of(upload))
    assert (upload.rows_total, upload.created, upload.invalid) == (3, 3, 0)
    assert upload.detected_encoding == detected
    assert entry_of(member, subject("sheet-1")).reference == "深圳前海-逾期-0001"
    second = entry_of(member, subject("sheet-2"), id_type="USCC")
    assert (second.list, second.reason, second.reference) == ("WHITE", "VERIFIED_BUSINESS", "南山分行 核实")


def test_a_named_encoding_is_used_and_gzip_is_recognised_by_its_content(send, member):
    content = csv_bytes(_sheet_rows(), SHEET_HEADER, encoding="gb18030", newline="\r\n", gzipped=True)

    upload = send(content, name="entries.csv", encoding="GBK").upload

    assert upload.state == UploadState.SUCCEEDED, upload.message
    assert upload.gzipped is True
    assert (upload.encoding, upload.detected_encoding) == ("gbk", "gb18030")
    assert entry_of(member, subject("sheet-1")).reference == "深圳前海-逾期-0001"


def test_a_record_spanning_lines_is_reported_at_its_first_line(send):
    content = (
        b"id_type,subject_hash,list,reason,event_date,reference\n"
        + f'RIC,{subject(1)},BLACK,FRAUD,{days_ago(3)},"case\n'.encode()
        + b'continued on a second line"\n'
        + f"RIC,{subject(2)},BLACK,FRAUD,not-a-date,\n".encode()
    )

    upload = send(content, error_policy="skip_invalid_rows").upload

    assert report_of(upload) == [(2, "reference", "reference_not_printable"), (4, "event_date", "invalid_date")]
    assert (upload.rows_total, upload.invalid) == (2, 2)


def test_only_the_columns_a_row_needs_are_required_when_there_is_an_action_column(send, member):
    submit(member, subject("gone"))
    content = b"action,subject_hash,id_type\nWITHDRAW," + subject("gone").encode() + b",RIC\n"

    upload = send(content).upload

    assert upload.state == UploadState.SUCCEEDED, upload.message
    assert upload.withdrawn == 1
    assert entry_of(member, subject("gone")).state == "WITHDRAWN"


def test_a_file_without_a_final_line_break_is_read_whole(send):
    content = csv_bytes([row(1), row(2)]).rstrip(b"\n")

    upload = send(content).upload

    assert (upload.state, upload.created) == (UploadState.SUCCEEDED, 2)

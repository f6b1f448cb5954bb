"""``registry-client hash`` (``commands.md``) with the spec's test key: the output's columns,
the vectors' hashes, invalid numbers reported by line and never echoed, exit codes, encodings."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

VECTORS = json.loads((Path(__file__).parent / "hash-vectors.json").read_text(encoding="utf-8"))


def write_raw(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def read_hashed(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as text:
        return list(csv.reader(text))


def vectors(id_type: str, kind: str = "valid") -> list[dict[str, str]]:
    return [v for v in VECTORS[kind] if v["id_type"] == id_type]


@pytest.mark.parametrize("id_type", ["RIC", "USCC", "MOBILE"])
def test_every_valid_vector_is_hashed_and_the_other_columns_kept_in_order(
    cli: Any, tmp_path: Path, key_file: Path, id_type: str
) -> None:
    rows = [["list", "证件号码", "reason", "event_date", "reference"]]
    rows += [["BLACK", v["input"], "FRAUD", "2025-03-01", f"LN{i:04d}"] for i, v in enumerate(vectors(id_type))]
    raw = write_raw(tmp_path / "raw.csv", rows)
    hashed = tmp_path / "hashed.csv"

    result = cli("hash", "--type", id_type, "--id-column", "证件号码", "--key-file", key_file, raw, hashed)

    assert result.code == 0, result.err
    written = read_hashed(hashed)
    assert written[0] == ["id_type", "subject_hash", "list", "reason", "event_date", "reference"]
    expected = [
        [id_type, v["subject_hash"], "BLACK", "FRAUD", "2025-03-01", f"LN{i:04d}"]
        for i, v in enumerate(vectors(id_type))
    ]
    assert written[1:] == expected
    assert result.json == {"rows": len(expected), "written": len(expected), "invalid": 0}
    assert f"key_id: {VECTORS['key_id']}" in result.err


@pytest.mark.parametrize("id_type", ["RIC", "USCC", "MOBILE"])
def test_invalid_numbers_are_listed_by_line_and_rule_and_never_echoed(
    cli: Any, tmp_path: Path, key_file: Path, id_type: str
) -> None:
    good = vectors(id_type)[0]
    bad = vectors(id_type, "invalid")
    rows = [["number", "list"], [good["input"], "BLACK"]] + [[v["input"], "BLACK"] for v in bad]
    raw = write_raw(tmp_path / "raw.csv", rows)
    hashed = tmp_path / "hashed.csv"

    result = cli("hash", "--type", id_type, "--id-column", "number", "--key-file", key_file, raw, hashed)

    assert result.code == 1
    assert result.json == {"rows": 1 + len(bad), "written": 1, "invalid": len(bad)}
    for line in range(3, 3 + len(bad)):
        assert f"line {line}: " in result.err
    assert read_hashed(hashed) == [["id_type", "subject_hash", "list"], [id_type, good["subject_hash"], "BLACK"]]
    everything = result.out + result.err + hashed.read_text(encoding="utf-8")
    for raw_number in [good["input"], good["canonical"], *(v["input"] for v in bad)]:
        assert raw_number not in everything


def test_an_invalid_line_names_the_rule_it_breaks(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id"], ["360426199101010072"], ["3604261991010100"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "out.csv")

    assert "line 2: checksum: the check digit of this resident ID is wrong" in result.err
    assert "line 3: length: " in result.err


def test_skip_invalid_exits_0_and_still_leaves_them_out(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id"], ["360426199101010071"], ["360426199101010072"]])
    hashed = tmp_path / "hashed.csv"

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, "--skip-invalid", raw, hashed)

    assert result.code == 0
    assert result.json == {"rows": 2, "written": 1, "invalid": 1}
    assert len(read_hashed(hashed)) == 2


def test_gb18030_file_from_a_chinese_spreadsheet_is_read(cli: Any, tmp_path: Path, key_file: Path) -> None:
    vector = vectors("RIC")[0]
    rows = [["身份证号", "list", "reason", "event_date", "reference"]]
    rows.append([vector["input"], "BLACK", "COURT_ENFORCED", "2025-06-01", "(2025)粤0305执1234号"])
    raw = write_raw(tmp_path / "raw.csv", rows, encoding="gb18030")
    hashed = tmp_path / "hashed.csv"

    result = cli("hash", "--type", "RIC", "--id-column", "身份证号", "--key-file", key_file, raw, hashed)

    assert result.code == 0, result.err
    assert read_hashed(hashed)[1] == [
        "RIC",
        vector["subject_hash"],
        "BLACK",
        "COURT_ENFORCED",
        "2025-06-01",
        "(2025)粤0305执1234号",
    ]


def test_utf8_byte_order_mark_is_not_part_of_the_first_column(cli: Any, tmp_path: Path, key_file: Path) -> None:
    vector = vectors("MOBILE")[0]
    raw = write_raw(tmp_path / "raw.csv", [["手机号", "list"], [vector["input"], "WHITE"]], encoding="utf-8-sig")
    hashed = tmp_path / "hashed.csv"

    result = cli("hash", "--type", "MOBILE", "--id-column", "手机号", "--key-file", key_file, raw, hashed)

    assert result.code == 0, result.err
    assert read_hashed(hashed)[1] == ["MOBILE", vector["subject_hash"], "WHITE"]


def test_line_numbers_are_physical_lines_and_blank_lines_are_skipped(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_text(
        'id,reference\n360426199101010071,"two\nlines"\n\n360426199101010072,x\n', encoding="utf-8", newline=""
    )
    hashed = tmp_path / "hashed.csv"

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, hashed)

    assert "line 5: checksum" in result.err
    assert result.json == {"rows": 2, "written": 1, "invalid": 1}
    assert read_hashed(hashed)[1:] == [["RIC", vectors("RIC")[0]["subject_hash"], "two\nlines"]]


def test_a_line_with_more_values_than_the_header_is_invalid(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id", "list"], ["360426199101010071", "BLACK", "extra"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "out.csv")

    assert result.code == 1
    assert "line 2: columns: this line has 3 values; the header has 2" in result.err


def test_the_id_column_is_matched_without_regard_to_case_or_spaces(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [[" ID_Number "], ["360426199101010071"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id_number", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 0, result.err


def test_a_missing_id_column_exits_2_and_lists_the_columns(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["number", "list"], ["360426199101010071", "BLACK"]])

    result = cli("hash", "--type", "RIC", "--id-column", "身份证号", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 2
    assert "'number', 'list'" in result.err
    assert not (tmp_path / "o.csv").exists()


def test_a_file_without_header_exits_2_without_echoing_its_first_line(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["360426199101010071", "BLACK"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 2
    assert "header" in result.err
    assert "360426199101010071" not in result.err


def test_an_empty_file_exits_1(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_bytes(b"")

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 1
    assert "empty" in result.err


def test_a_file_that_already_has_a_subject_hash_column_is_refused(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id", "Subject_Hash"], ["360426199101010071", "x"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 2


def test_a_column_outside_the_upload_format_is_warned_about(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id", "客户姓名"], ["360426199101010071", "张三"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 0
    assert "Warning: column '客户姓名'" in result.err


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"key_id": "k"}),
        json.dumps({"key_id": "k", "key_b64": "AAEC"}),  # 3 bytes, not 32
    ],
)
def test_a_bad_key_file_exits_2(cli: Any, tmp_path: Path, content: str) -> None:
    key = tmp_path / "key.json"
    key.write_text(content, encoding="utf-8")
    raw = write_raw(tmp_path / "raw.csv", [["id"], ["360426199101010071"]])

    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key, raw, tmp_path / "o.csv")

    assert result.code == 2


def test_a_missing_raw_file_exits_2(cli: Any, tmp_path: Path, key_file: Path) -> None:
    result = cli("hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, tmp_path / "no.csv", "o.csv")

    assert result.code == 2


def test_an_unknown_type_exits_2(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id"], ["E12345678"]])

    result = cli("hash", "--type", "PASSPORT", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "o.csv")

    assert result.code == 2


def test_gzip_raw_file_in_and_gzip_upload_file_out(cli: Any, tmp_path: Path, key_file: Path) -> None:
    vector = vectors("USCC")[0]
    raw = tmp_path / "raw.csv.gz"
    raw.write_bytes(gzip.compress(f"code,list\n{vector['input']},BLACK\n".encode()))
    hashed = tmp_path / "hashed.csv.gz"

    result = cli("hash", "--type", "USCC", "--id-column", "code", "--key-file", key_file, raw, hashed)

    assert result.code == 0, result.err
    text = gzip.decompress(hashed.read_bytes()).decode("utf-8")
    assert text == f"id_type,subject_hash,list\nUSCC,{vector['subject_hash']},BLACK\n"


def test_the_key_is_fetched_from_the_api_without_a_key_file(cli: Any, tmp_path: Path, registry: Any) -> None:
    vector = vectors("RIC")[0]
    raw = write_raw(tmp_path / "raw.csv", [["id"], [vector["input"]]])
    hashed = tmp_path / "hashed.csv"

    result = cli(
        "hash", "--url", registry.url, "--api-key", registry.api_key, "--type", "RIC", "--id-column", "id", raw, hashed
    )

    assert result.code == 0, result.err
    assert read_hashed(hashed)[1] == ["RIC", vector["subject_hash"]]
    [fetch] = registry.requests_to("GET", "region/hash-key")
    assert fetch.headers["Authorization"] == f"Api-Key {registry.api_key}"
    assert VECTORS["key_b64"] not in result.out + result.err


def test_the_key_is_not_fetched_for_a_file_that_cannot_be_hashed(cli: Any, tmp_path: Path, registry: Any) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["number"], ["360426199101010071"]])

    result = cli(
        "hash", "--url", registry.url, "--api-key", registry.api_key, "--type", "RIC", "--id-column", "id", raw, "o.csv"
    )

    assert result.code == 2
    assert registry.requests == []


def test_an_unknown_encoding_exits_2(cli: Any, tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id"], ["360426199101010071"]])

    result = cli(
        "hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, "--encoding", "klingon", raw, "o.csv"
    )

    assert result.code == 2


def test_the_installed_program_exits_with_the_code_and_prints_json_last(tmp_path: Path, key_file: Path) -> None:
    raw = write_raw(tmp_path / "raw.csv", [["id"], ["360426199101010071"], ["360426199101010072"]])

    command = ["hash", "--type", "RIC", "--id-column", "id", "--key-file", key_file, raw, tmp_path / "hashed.csv"]
    done = subprocess.run(  # noqa: S603 (the test's own interpreter)
        [sys.executable, "-m", "registry_client", *map(str, command)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1
    assert json.loads(done.stdout.splitlines()[-1]) == {"rows": 2, "written": 1, "invalid": 1}
    assert "360426199101010072" not in done.stderr

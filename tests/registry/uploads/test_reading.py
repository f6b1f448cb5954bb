"""Reading a file as a stream (``registry.uploads.reading``): physical line numbers, encoding
detection at the first non-ASCII line, over-long lines skipped without being held, limits
counted while streaming, and memory that does not grow with the file."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from registry.sql import imports as imports_sql
from registry.uploads.reading import FileRefused, Limits, LineSource, open_stream, records
from registry.uploads.staging import ErrorSink
from registry.uploads.validation import Progress, validate_stream
from tests.registry.uploads.helpers import csv_bytes, row

LIMITS = Limits(max_bytes=10**9, max_line_bytes=4096)


def _lines(data: bytes, encoding: str = "", limits: Limits = LIMITS) -> LineSource:
    stream, _gzipped = open_stream(io.BytesIO(data))
    return LineSource(stream, encoding=encoding, limits=limits)


def _records(data: bytes, **options: Any) -> list[tuple[int, list[str] | None]]:
    return list(records(_lines(data, **options)))


def test_records_carry_the_physical_line_they_start_on():
    data = b'a,b\r\n1,"two\r\nlines"\r\n\r\n3,"x""y"\r\n4,z'

    assert _records(data) == [(1, ["a", "b"]), (2, ["1", "two\r\nlines"]), (4, []), (5, ["3", 'x"y']), (6, ["4", "z"])]


def test_the_encoding_is_decided_at_the_first_line_that_is_not_ascii():
    data = b"a,b\n1,2\n" + "3,深圳\n".encode("gbk") + "4,福田\n".encode("gbk")
    lines = _lines(data)

    assert [fields for _line, fields in records(lines)][-1] == ["4", "福田"]
    assert lines.encoding == "gb18030"


def test_utf8_then_something_else_is_undecodable_at_its_line():
    data = "a,b\n1,深圳\n".encode() + "2,福田\n".encode("gbk")

    with pytest.raises(FileRefused) as refused:
        _records(data)

    assert (refused.value.code, refused.value.line) == ("undecodable", 3)


def test_a_byte_order_mark_is_utf8_and_is_not_part_of_the_first_column():
    lines = _lines(b"\xef\xbb\xbfid_type,b\n1,2\n")

    assert next(records(lines))[1] == ["id_type", "b"]
    assert lines.encoding == "utf-8-sig"


def test_an_over_long_line_is_skipped_in_bounded_reads():
    reads: list[int] = []

    class Spy(io.BytesIO):
        def readline(self, size: int | None = -1) -> bytes:
            line = super().readline(size)
            reads.append(len(line))
            return line

    data = b"a,b\n" + b"1," + b"x" * 5_000_000 + b"\n2,y\n"
    lines = LineSource(Spy(data), encoding="", limits=LIMITS)  # type: ignore[arg-type]

    assert list(records(lines)) == [(1, ["a", "b"]), (2, None), (3, ["2", "y"])]
    assert max(reads) <= 64 * 1024


def test_the_uncompressed_size_is_counted_as_it_streams():
    data = gzip.compress(b"a,b\n" + b"1,2\n" * 10_000)

    with pytest.raises(FileRefused) as refused:
        _records(data, limits=Limits(max_bytes=1000, max_line_bytes=4096))

    assert refused.value.code == "file_too_large"
    assert refused.value.line is not None and refused.value.line < 300


def test_validation_memory_does_not_grow_with_the_file(db: None, region: Any):
    """Ten times the rows, about the same peak memory: rows are staged a chunk at a time."""

    def peak(rows: int) -> int:
        content = csv_bytes(row(n, reference=f"case-{n:08d}") for n in range(rows))
        with connection.cursor() as cursor:
            imports_sql.stage_create(cursor)
            tracemalloc.start()
            validate_stream(
                io.BytesIO(content),
                region=region,
                today=timezone.localdate(),
                encoding="",
                cursor=cursor,
                errors=ErrorSink(0, cap=10),
                chunk_rows=250,
                progress=Progress(),
                report=lambda progress: None,
            )
            _current, top = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            imports_sql.drop_all(cursor)
        return top

    small, large = peak(1_000), peak(10_000)

    assert large < small * 1.5 + 256 * 1024, (small, large)

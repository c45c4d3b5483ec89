import json
import os

import pytest

from gkd.io import append_jsonl, cache_lock, file_lock, read_jsonl, write_json


def test_appended_records_read_back_in_order(tmp_path):
    path = tmp_path / "sub" / "runs.jsonl"
    assert read_jsonl(path) == []
    for i in range(3):
        append_jsonl(path, {"i": i, "text": "line\nbreak"})
    assert [r["i"] for r in read_jsonl(path)] == [0, 1, 2]
    assert len(path.read_text().splitlines()) == 3


def test_a_torn_last_line_is_ignored_and_repaired(tmp_path):
    path = tmp_path / "runs.jsonl"
    append_jsonl(path, {"i": 0})
    with open(path, "a") as f:
        f.write('{"i": 1, "unfini')
    assert read_jsonl(path) == [{"i": 0}]
    assert path.read_text().endswith("unfini")  # reading alone changes nothing
    assert read_jsonl(path, repair=True) == [{"i": 0}]
    append_jsonl(path, {"i": 2})
    assert [json.loads(line)["i"] for line in path.read_text().splitlines()] == [0, 2]


def test_a_whole_last_record_without_its_newline_is_kept_and_ended(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"i": 0}\n{"i": 1}')  # as an editor that strips the last newline saves it
    assert read_jsonl(path) == [{"i": 0}, {"i": 1}]
    assert path.read_text().endswith("}")  # reading alone changes nothing
    assert read_jsonl(path, repair=True) == [{"i": 0}, {"i": 1}]
    append_jsonl(path, {"i": 2})
    assert [json.loads(line)["i"] for line in path.read_text().splitlines()] == [0, 1, 2]


def test_a_corrupt_middle_line_is_named(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"i": 0}\nnot json\n{"i": 2}\n')
    with pytest.raises(ValueError, match="line 2: not a JSON record"):
        read_jsonl(path)


def test_line_separators_inside_json_strings_and_non_utf8_lines(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_bytes('{"note": "a\u2028b\x85c"}\n{"i": 1}\n'.encode())
    assert read_jsonl(path) == [{"note": "a\u2028b\x85c"}, {"i": 1}]
    path.write_bytes(b'{"i": 0}\n{"i": "\xff"}\n')
    with pytest.raises(ValueError, match=r"runs.jsonl, line 2: not UTF-8 text"):
        read_jsonl(path)


def test_write_json_replaces_atomically_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"a": 1})
    write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert os.listdir(tmp_path) == ["out.json"]


def test_a_held_lock_is_refused_without_waiting_and_free_afterwards(tmp_path):
    path = tmp_path / "cache" / "entry.lock"
    with file_lock(path) as held:
        assert held
        with file_lock(path, wait=False) as second:
            assert not second
    with file_lock(path, wait=False) as again:
        assert again


def test_a_disabled_cache_lock_creates_nothing(tmp_path):
    with cache_lock(tmp_path / "entry.pt", enabled=False) as held:
        assert held
    assert not any(tmp_path.iterdir())
    with cache_lock(tmp_path / "entry.pt"):
        assert (tmp_path / "entry.lock").is_file()


def test_writes_to_a_folder_or_under_a_file_are_named(tmp_path):
    from gkd.errors import GkdError

    with pytest.raises(GkdError, match="it is a folder; give a file path"):
        write_json(tmp_path, {})
    (tmp_path / "file").write_text("")
    with pytest.raises(GkdError, match="file' is not a folder"):
        write_json(tmp_path / "file" / "x.json", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]

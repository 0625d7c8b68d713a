"""Zip-packaged models told by the member names of the central directory (Stable-Baselines3, Keras 3,
TorchServe, skops, PyTorch under other names), zips that are not models, and hostile archive shapes
that must neither raise nor read past the directory caps."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

import pytest

from common.scanner.detectors import model_files
from common.scanner.detectors.base import FileReport
from common.scanner.detectors.model_files import ModelFileDetector, zip_directory
from tests.unit.detector_helpers import write

FIXED_TIME = (2024, 1, 1, 0, 0, 0)


class _Shell:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def zip_bytes(members: dict[str, bytes | str], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = compression
            archive.writestr(info, content)
    return buffer.getvalue()


def torch_members(folder: str, payload: object) -> dict[str, bytes | str]:
    return {
        f"{folder}/data.pkl": pickle.dumps(payload, protocol=2),
        f"{folder}/version": "3\n",
        f"{folder}/data/0": b"\0" * 16,
    }


STABLE_BASELINES3 = {
    "data": '{"policy_class": {":type:": "<class \'abc.ABCMeta\'>", ":serialized:": "gAWVAAAA"}}',
    "policy.optimizer.pth": zip_bytes(torch_members("archive", {"state": {}})),
    "policy.pth": zip_bytes(torch_members("archive", {"w": [0.5]})),
    "pytorch_variables.pth": zip_bytes(torch_members("archive", {})),
    "_stable_baselines3_version": "2.3.2",
    "system_info.txt": "- OS: Linux\n",
}
KERAS = {
    "metadata.json": '{"keras_version": "3.4.1"}',
    "config.json": "{}",
    "model.weights.h5": b"\x89HDF\r\n\x1a\n",
}


def detect(tmp_path: Path, relpath: str, content: bytes):
    source = write(tmp_path, relpath, content)
    detector = ModelFileDetector()
    report = FileReport()
    assert detector.applies_to(source)
    return list(detector.detect(source, report)), report


@pytest.mark.parametrize(
    ("relpath", "members", "format_", "flags"),
    [
        ("agents/ppo_cartpole.zip", STABLE_BASELINES3, "stable_baselines3 (zip)", {"unsafe_model_format"}),
        (
            "checkpoints/rl_model_1000_steps.zip",
            STABLE_BASELINES3,
            "stable_baselines3 (zip)",
            {"unsafe_model_format"},
        ),
        ("export/classifier.zip", KERAS, "keras_v3", set()),
        (
            "serve/resnet.mar",
            {"MAR-INF/MANIFEST.json": "{}", "resnet18.pt": b"PK", "handler.py": "def handle(data, ctx): ..."},
            "torchserve_mar",
            {"unsafe_model_format"},
        ),
        (
            "serve/bert.mar",
            {"MAR-INF/MANIFEST.json": "{}", "bert.onnx": b"\x08\x07", "index_to_name.json": "{}"},
            "torchserve_mar",
            set(),
        ),
        (
            "models/forest.skops",
            {"schema.json": "{}", "3f2a.npy": b"\x93NUMPY", "9c1e.npy": b"\x93NUMPY"},
            "skops",
            set(),
        ),
        ("models/logreg.skops", {"schema.json": "{}"}, "skops", set()),
        (
            "runs/model_best.pth.tar",
            torch_members("model_best", {"epoch": 3}),
            "pytorch (zip+pickle)",
            {"unsafe_model_format"},
        ),
        (
            "weights/encoder.zip",
            torch_members("archive", {"w": [1.0]}),
            "pytorch (zip+pickle)",
            {"unsafe_model_format"},
        ),
        (
            "weights/legacy.zip",
            {"archive/data.pkl": pickle.dumps({}), "archive/.data/version": "3"},
            "pytorch (zip+pickle)",
            {"unsafe_model_format"},
        ),
    ],
)
def test_zip_packaged_models_by_member_names(tmp_path, relpath, members, format_, flags):
    content = zip_bytes(members)
    findings, report = detect(tmp_path, relpath, content)
    assert len(findings) == 1, report.warnings
    finding = findings[0]
    assert finding.key == f"model_file:{relpath.lower()}" and finding.name == relpath
    assert finding.metadata["format"] == format_ and finding.flags == flags
    assert finding.metadata["archive_entries"] == len(members)
    assert finding.metadata["size_bytes"] == len(content)
    assert finding.metadata["sha256"] == hashlib.sha256(content).hexdigest()


def test_stable_baselines3_archive_compressed_as_sb3_writes_it(tmp_path):
    findings, _ = detect(tmp_path, "ppo.zip", zip_bytes(STABLE_BASELINES3, zipfile.ZIP_DEFLATED))
    assert findings[0].metadata["format"] == "stable_baselines3 (zip)"


def test_torchserve_archive_lists_its_model_members(tmp_path):
    members = {"MAR-INF/MANIFEST.json": "{}", "model/weights.safetensors": b"{}", "handler.py": ""}
    findings, _ = detect(tmp_path, "m.mar", zip_bytes(members))
    assert findings[0].metadata["model_members"] == ["model/weights.safetensors"]


def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("policy.pth")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"\0\0\0\0"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("relpath", "content"),
    [
        (
            "dist/source.zip",
            zip_bytes({"app/main.py": "print(1)", "app/model.py": "class Model: ...", "setup.py": ""}),
        ),
        (
            "docs/handbook.zip",
            zip_bytes({"handbook.pdf": b"%PDF-1.7", "README.md": "# docs", "config.json": "{}"}),
        ),
        ("data/bundle.zip", zip_bytes({"train.csv": "a,b\n", "config.json": "{}", "metadata.json": "{}"})),
        ("data/arrays.zip", zip_bytes({"schema.json": "{}", "x.npy": b"\x93NUMPY"})),
        ("data/arrays.skops", zip_bytes({"schema.json": "{}", "loader.py": "import os"})),
        ("data/pickles.zip", zip_bytes({"cache/rows.pkl": pickle.dumps([1, 2])})),
        (
            "data/sb3_notes.zip",
            zip_bytes({"data": "{}", "_stable_baselines3_version": "2.0", "notes.txt": ""}),
        ),
        ("data/nested/keras.zip", zip_bytes({"export/config.json": "{}", "export/model.weights.h5": b""})),
        ("backups/site.mar", zip_bytes({"index.html": "<html>"})),
        ("backups/weights.tar", _tar_bytes()),
        ("data/not-a-zip.zip", b"this is a text file named zip"),
        ("data/empty.zip", zip_bytes({})),
    ],
)
def test_archives_that_are_not_models(tmp_path, relpath, content):
    findings, report = detect(tmp_path, relpath, content)
    assert findings == [] and report.warnings == []


def test_deflated_torch_pickle_is_still_inspected(tmp_path):
    content = zip_bytes(torch_members("archive", _Shell()), zipfile.ZIP_DEFLATED)
    findings, _ = detect(tmp_path, "evil.pth", content)
    assert findings[0].flags == {"unsafe_model_format", "dangerous_code"}
    assert findings[0].metadata["dangerous_globals"] == ["posix.system"]


def test_torch_pickle_in_a_method_that_is_not_read_counts_as_unresolved(tmp_path):
    content = bytearray(zip_bytes(torch_members("archive", {"w": 1})))
    # mark data.pkl as bzip2 (method 12) in its central directory entry: it is then not read
    entry = content.index(b"PK\x01\x02")
    content[entry + 10 : entry + 12] = struct.pack("<H", 12)
    findings, _ = detect(tmp_path, "odd.pth", bytes(content))
    assert findings[0].flags == {"unsafe_model_format", "dangerous_code"}
    assert "could not be read" in findings[0].metadata["unresolved_pickle_calls"][0]


def test_zip64_end_record_is_followed(tmp_path):
    content = bytearray(zip_bytes(STABLE_BASELINES3))
    end = content.rindex(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack_from("<II", content, end + 12)
    count = len(STABLE_BASELINES3)
    zip64_end = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, directory_size, directory_offset
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    classic = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    forged = bytes(content[:end]) + zip64_end + locator + classic
    findings, _ = detect(tmp_path, "big_agent.zip", forged)
    assert findings[0].metadata["format"] == "stable_baselines3 (zip)"


class _CountingReader(io.BytesIO):
    """Counts the bytes the directory reader asks for, to show it stays within its caps."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def _with_end_record(body: bytes, count: int, directory_size: int, directory_offset: int) -> bytes:
    return body + struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0
    )


SAMPLE = zip_bytes(STABLE_BASELINES3)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(SAMPLE[: len(SAMPLE) // 2], id="truncated-before-directory"),
        pytest.param(SAMPLE[:-10], id="end-record-cut"),
        pytest.param(_with_end_record(b"PK\x03\x04" + b"\0" * 100, 0xFFFE, 40, 4), id="count-over-directory"),
        pytest.param(
            _with_end_record(b"PK\x03\x04" + b"\0" * 100, 3, 2**31, 4), id="directory-size-over-cap"
        ),
        pytest.param(_with_end_record(b"PK\x03\x04" + b"\0" * 100, 3, 60, 2**31), id="offset-past-file"),
        pytest.param(
            _with_end_record(
                b"PK\x03\x04"
                + b"PK\x01\x02"
                + b"\0" * 24
                + struct.pack("<HHH", 0xFFFF, 0xFFFF, 0xFFFF)
                + b"\0" * 12,
                5,
                46,
                4,
            ),
            id="name-length-past-directory",
        ),
        pytest.param(
            b"PK\x03\x04"
            + b"\0" * 40
            + struct.pack("<4sIQI", b"PK\x06\x07", 0, 2**62, 1)
            + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0),
            id="zip64-locator-past-file",
        ),
        pytest.param(
            b"PK\x03\x04" + os.urandom(3000) + b"PK\x05\x06" + os.urandom(18), id="random-with-signatures"
        ),
        pytest.param(b"PK\x03\x04" + b"PK\x05\x06" * 8000, id="end-signatures-everywhere"),
    ],
)
def test_hostile_archive_shapes_neither_raise_nor_report(tmp_path, content):
    for relpath in ("hostile.zip", "hostile.pt", "hostile.mar"):
        findings, report = detect(tmp_path, relpath, content)
        assert findings == [] and report.warnings == []


def test_directory_caps_bound_what_is_read():
    members = {f"part_{index}.txt": "" for index in range(50)}
    content = zip_bytes({**members, **STABLE_BASELINES3})
    handle = _CountingReader(content)
    assert len(zip_directory(handle, len(content), 1 << 20, 100)) == 56
    over_entries = _CountingReader(content)
    assert zip_directory(over_entries, len(content), 1 << 20, 55) is None
    assert over_entries.bytes_read <= model_files.ZIP_END_SEARCH_BYTES
    claimed = _with_end_record(b"PK\x03\x04" + b"\0" * 10_000, 9, 4 * 1024 * 1024 + 1, 4)
    over_bytes = _CountingReader(claimed)
    assert zip_directory(over_bytes, len(claimed), 4 * 1024 * 1024, 10_000) is None
    assert over_bytes.bytes_read <= len(claimed) and over_bytes.bytes_read <= model_files.ZIP_END_SEARCH_BYTES


def test_archive_over_the_entry_cap_is_not_classified(tmp_path, monkeypatch):
    monkeypatch.setitem(model_files.load_config(), "zip_max_entries", 3)
    findings, report = detect(tmp_path, "ppo.zip", zip_bytes(STABLE_BASELINES3))
    assert findings == [] and report.warnings == []


def _with_zip64_extra_on_first_entry(content: bytes) -> bytes:
    """The first directory entry rewritten as a >4 GiB writer leaves it: sizes and header offset
    set to 0xFFFFFFFF, their real values in a zip64 extra field."""
    end = content.rindex(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack_from("<II", content, end + 12)
    entry = bytearray(content[directory_offset : directory_offset + 46])
    compressed, uncompressed = struct.unpack_from("<II", entry, 20)
    name_length, extra_length = struct.unpack_from("<HH", entry, 28)
    (header_offset,) = struct.unpack_from("<I", entry, 42)
    rest_start = directory_offset + 46
    name = content[rest_start : rest_start + name_length]
    old_extra = content[rest_start + name_length : rest_start + name_length + extra_length]
    extra = struct.pack("<HHQQQ", 1, 24, uncompressed, compressed, header_offset) + old_extra
    struct.pack_into("<II", entry, 20, 0xFFFFFFFF, 0xFFFFFFFF)
    struct.pack_into("<H", entry, 30, len(extra))
    struct.pack_into("<I", entry, 42, 0xFFFFFFFF)
    tail_start = rest_start + name_length + extra_length
    directory = bytes(entry) + name + extra + content[tail_start:end]
    end_record = bytearray(content[end:])
    struct.pack_into("<I", end_record, 12, directory_size + 24)
    return content[:directory_offset] + directory + bytes(end_record)


def test_zip64_extra_field_gives_the_pickle_member_offset(tmp_path):
    content = _with_zip64_extra_on_first_entry(zip_bytes(torch_members("archive", _Shell())))
    findings, _ = detect(tmp_path, "huge.pt", content)
    assert findings[0].metadata["dangerous_globals"] == ["posix.system"]
    assert "unresolved_pickle_calls" not in findings[0].metadata


def test_encrypted_torch_pickle_is_unresolved_not_read(tmp_path):
    content = bytearray(zip_bytes(torch_members("archive", {"w": 1})))
    entry = content.index(b"PK\x01\x02")
    content[entry + 8] |= 0x1
    findings, _ = detect(tmp_path, "locked.pt", bytes(content))
    assert findings[0].flags == {"unsafe_model_format", "dangerous_code"}
    assert "(encrypted)" in findings[0].metadata["unresolved_pickle_calls"][0]


LFS_POINTER_TEXT = (
    "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 148211\n"
).encode()


@pytest.mark.parametrize(
    ("relpath", "reported"),
    [
        ("agents/ppo.zip", False),
        ("serve/resnet.mar", False),
        ("runs/best.pth.tar", False),
        ("m/clf.skops", True),
    ],
)
def test_lfs_pointer_is_a_model_only_under_a_model_extension(tmp_path, relpath, reported):
    findings, report = detect(tmp_path, relpath, LFS_POINTER_TEXT)
    assert report.warnings == []
    assert [f.metadata["format"] for f in findings] == (["git-lfs pointer"] if reported else [])

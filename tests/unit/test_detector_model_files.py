"""The model-file detector: formats read from headers, metadata, pickle payloads, size thresholds
and unreadable files."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from common.scanner.detectors import model_files
from common.scanner.detectors.base import FileReport, SourceFile
from common.scanner.detectors.model_files import ModelFileDetector
from tests.unit.detector_helpers import write


class _Shell:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def gguf_bytes() -> bytes:
    def text(value: str) -> bytes:
        raw = value.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = (
        text("general.architecture") + struct.pack("<I", 8) + text("llama")
        + text("general.name") + struct.pack("<I", 8) + text("TinyLlama")
        + text("llama.context_length") + struct.pack("<I", 4) + struct.pack("<I", 2048)
    )  # fmt: skip
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 3) + kv + b"\0" * 64


def safetensors_bytes() -> bytes:
    header = json.dumps(
        {"__metadata__": {"format": "pt"}, "w": {"dtype": "F16", "shape": [4, 8], "data_offsets": [0, 64]}}
    ).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 64


def torch_zip(path: Path, payload: object) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))
        archive.writestr("archive/version", "3\n")


def detect_model(tmp_path: Path, relpath: str, content: bytes | None = None):
    source = (
        SourceFile(path=tmp_path / relpath, relpath=relpath, size=(tmp_path / relpath).stat().st_size)
        if (content is None)
        else write(tmp_path, relpath, content)
    )
    detector = ModelFileDetector()
    report = FileReport()
    assert detector.applies_to(source)
    return list(detector.detect(source, report)), report


@pytest.mark.parametrize(
    ("relpath", "content", "format_", "flags"),
    [
        ("models/tiny.gguf", gguf_bytes(), "gguf", set()),
        ("models/tiny-gguf.bin", gguf_bytes(), "gguf", set()),
        ("models/model.safetensors", safetensors_bytes(), "safetensors", set()),
        (
            "models/model.onnx",
            bytes([8, 7, 0x12, 7]) + b"pytorch" + b"\x1a\x052.1.0" + b"\0" * 40,
            "onnx",
            set(),
        ),
        ("models/weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "hdf5", set()),
        ("models/m.tflite", b"\x1c\0\0\0TFL3" + b"\0" * 100, "tflite", set()),
        (
            "models/clf.pkl",
            pickle.dumps({"weights": [1, 2, 3]}, protocol=4),
            "pickle",
            {"unsafe_model_format"},
        ),
        ("models/old.pkl", pickle.dumps({"weights": [1, 2]}, protocol=0), "pickle", {"unsafe_model_format"}),
        (
            "models/payload.bin",
            pickle.dumps(_Shell(), protocol=4),
            "pickle",
            {"unsafe_model_format", "dangerous_code"},
        ),
        (
            "models/clf.joblib",
            b"\x78\x9c" + b"\x01" * 80,
            "compressed pickle (zlib)",
            {"unsafe_model_format"},
        ),
    ],
)
def test_model_formats_from_header(tmp_path, relpath, content, format_, flags):
    findings, report = detect_model(tmp_path, relpath, content)
    assert len(findings) == 1, report.warnings
    finding = findings[0]
    assert finding.key == f"model_file:{relpath}" and finding.type == "model_file"
    assert finding.metadata["format"] == format_
    assert finding.flags == flags
    assert finding.metadata["size_bytes"] == len(content)
    assert finding.metadata["sha256"] == hashlib.sha256(content).hexdigest()


def test_gguf_header_metadata_and_safetensors_details(tmp_path):
    findings, _ = detect_model(tmp_path, "a.gguf", gguf_bytes())
    assert findings[0].metadata["architecture"] == "llama" and findings[0].model_name == "TinyLlama"
    findings, _ = detect_model(tmp_path, "b.safetensors", safetensors_bytes())
    assert findings[0].metadata["parameters"] == 32 and findings[0].metadata["dtypes"] == ["F16"]


def test_pytorch_zip_and_keras_v3(tmp_path):
    torch_zip(tmp_path / "pytorch_model.bin", {"layer.weight": [0.1]})
    findings, _ = detect_model(tmp_path, "pytorch_model.bin")
    assert findings[0].metadata["format"] == "pytorch (zip+pickle)"
    assert findings[0].flags == {"unsafe_model_format"}
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("metadata.json", "{}")
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    findings, _ = detect_model(tmp_path, "model.keras")
    assert findings[0].metadata["format"] == "keras_v3" and findings[0].flags == set()


@pytest.mark.parametrize(
    ("relpath", "content"),
    [
        ("data/random.bin", os.urandom(4096)),
        ("data/notes.pkl", b"hello, this is text and not a pickle"),
        ("data/firmware.bin", b"\x7fELF" + b"\0" * 200),
        ("data/assets.pt", b""),
        ("data/compressed.bin", b"\x78\x9c" + b"\x01" * 80),
        ("data/fake.onnx", b"ONNX model goes here"),
    ],
)
def test_files_that_are_not_models(tmp_path, relpath, content):
    findings, report = detect_model(tmp_path, relpath, content)
    assert findings == [] and report.warnings == []


def test_zip_without_pickle_is_not_a_model(tmp_path):
    with zipfile.ZipFile(tmp_path / "bundle.pt", "w") as archive:
        archive.writestr("readme.txt", "hello")
    findings, _ = detect_model(tmp_path, "bundle.pt")
    assert findings == []


def test_large_model_file_threshold_and_streamed_hash(tmp_path, monkeypatch):
    monkeypatch.setitem(model_files.load_config(), "large_model_file_bytes", 3 * 1024 * 1024)
    content = gguf_bytes() + b"\x01" * (4 * 1024 * 1024)
    findings, _ = detect_model(tmp_path, "big.gguf", content)
    assert findings[0].flags == {"large_model_file"}
    assert findings[0].metadata["sha256"] == hashlib.sha256(content).hexdigest()


def test_unreadable_model_file_is_a_warning(tmp_path):
    source = SourceFile(path=tmp_path / "gone.gguf", relpath="gone.gguf", size=10)
    report = FileReport()
    assert list(ModelFileDetector().detect(source, report)) == []
    assert "cannot read" in report.warnings[0]


def test_model_file_detector_reads_binaries_itself():
    assert ModelFileDetector.text_only is False

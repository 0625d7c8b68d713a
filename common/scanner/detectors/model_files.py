"""Model weight files: .gguf, .safetensors, .onnx, .pt/.pth/.bin/.pkl/.joblib/.sav, .h5/.keras, .tflite,
Core ML's .mlmodel and compiled .mlmodelc, and zip-packaged models (.zip, .mar, .skops, .pth.tar).

The extension only nominates a file; its format is read from the header magic (GGUF, safetensors
header, ONNX protobuf, pickle protocol, zip with ``data.pkl``, HDF5, TFLite flatbuffer, compressed
joblib), so a ``.bin`` that is not a model is not reported and a pickle named ``.bin`` is. A zip is
told by the member names in its central directory, read with caps and without decompressing
(Stable-Baselines3, Keras 3, TorchServe, skops, PyTorch layouts); a zip of anything else is not a
model. Each model file is a ``model_file`` component named by its relative path, with size and a
streamed sha256 (the file is never held in memory). Pickle-based formats are
``unsafe_model_format``; a pickle whose globals run commands (``os.system``, ``subprocess`` …) is
also ``dangerous_code``; files over ``large_model_file_bytes`` are ``large_model_file``
(thresholds in ``data/model_files.yaml``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import math
import os
import pickletools
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from common.scanner.catalog import load_yaml
from common.scanner.detectors.base import Detector, FileReport, Finding, SourceFile
from common.scanner.keys import component_key
from common.scanner.limits import linear, parse_json
from common.scanner.redaction import clip

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "model_files.yaml"
HEADER_BYTES = 64
HASH_CHUNK = 1024 * 1024
PICKLE_MAX_OPCODES = 500_000
GGUF_METADATA_BYTES = 1024 * 1024
SAFETENSORS_HEADER_LIMIT = 16 * 1024 * 1024
SAFETENSORS_MAX_DIMENSIONS = 16
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_LOCAL_SIGNATURE = b"PK\x03\x04"
ZIP_ENTRY_SIGNATURE = b"PK\x01\x02"
ZIP_END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_END_SIGNATURE = b"PK\x06\x06"
ZIP_END_SEARCH_BYTES = 22 + 0xFFFF  # the end record and the longest archive comment
STABLE_BASELINES3_WEIGHTS = {"policy.pth", "pytorch_variables.pth"}
KERAS_WEIGHTS = {"model.weights.h5", "model.weights.npz"}
TORCHSERVE_MANIFEST = "MAR-INF/MANIFEST.json"
PICKLE_WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt", ".joblib")
ARCHIVED_MODEL_SUFFIXES = (
    *PICKLE_WEIGHT_SUFFIXES,
    ".onnx",
    ".safetensors",
    ".h5",
    ".keras",
    ".tflite",
    ".gguf",
)
HDF5_OFFSETS = (0, 512, 1024, 2048)
COMPRESSED_MAGIC = {
    b"\x78\x01": "zlib",
    b"\x78\x5e": "zlib",
    b"\x78\x9c": "zlib",
    b"\x78\xda": "zlib",
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x04\x22\x4d\x18": "lz4",
    b"ZF0x": "joblib-zfile",
}
ONNX_SECOND_FIELD_TAGS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42}
PICKLE_STRING_OPCODES = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
}


@cache
def load_config() -> dict:
    data = load_yaml(DATA_FILE)
    data["extensions"] = tuple(data["extensions"])
    data["pickle_extensions"] = tuple(data["pickle_extensions"])
    data["archive_extensions"] = tuple(data["archive_extensions"])
    return data


@dataclass
class ModelFormat:
    format: str
    unsafe: bool = False
    details: dict = field(default_factory=dict)
    pickle_globals: list[str] = field(default_factory=list)
    unresolved_calls: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# Header readers
# ---------------------------------------------------------------------------------------------------


def read_gguf_metadata(handle) -> dict:
    """``general.*`` keys of a GGUF header (architecture, name …); stops at the first array."""
    handle.seek(0)
    buffer = handle.read(GGUF_METADATA_BYTES)
    if len(buffer) < 24:
        return {}
    version, tensors, count = struct.unpack_from("<IQQ", buffer, 4)
    details: dict = {"gguf_version": version, "tensor_count": tensors}
    offset = 24
    scalar_formats = {
        0: "B",
        1: "b",
        2: "H",
        3: "h",
        4: "I",
        5: "i",
        6: "f",
        7: "?",
        10: "Q",
        11: "q",
        12: "d",
    }
    try:
        for _ in range(min(count, 256)):
            (key_length,) = struct.unpack_from("<Q", buffer, offset)
            key = buffer[offset + 8 : offset + 8 + key_length].decode("utf-8", "replace")
            offset += 8 + key_length
            (value_type,) = struct.unpack_from("<I", buffer, offset)
            offset += 4
            if value_type == 8:
                (length,) = struct.unpack_from("<Q", buffer, offset)
                # clipped as any stored value: 256 strings of a 1 MiB header would be a megabyte of result
                value: object = clip(buffer[offset + 8 : offset + 8 + length].decode("utf-8", "replace"))
                offset += 8 + length
            elif value_type in scalar_formats:
                fmt = "<" + scalar_formats[value_type]
                (value,) = struct.unpack_from(fmt, buffer, offset)
                offset += struct.calcsize(fmt)
            else:
                break
            if key.startswith("general.") and key != "general.source.url":
                details[key.removeprefix("general.")] = value
    except struct.error:
        pass  # the metadata runs past the bytes read; what was parsed is enough
    return details


def _plausible_shape(shape: object) -> bool:
    """A real tensor shape: a few non-negative dimensions of sane size. Anything else is not
    multiplied out (a header can list thousands of huge numbers to make ``math.prod`` crawl)."""
    return (
        isinstance(shape, list)
        and len(shape) <= SAFETENSORS_MAX_DIMENSIONS
        and all(type(dim) is int and 0 <= dim < 2**40 for dim in shape)
    )


def _offsets_within(offsets: object, data_bytes: int) -> bool:
    return (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(value) is int for value in offsets)
        and 0 <= offsets[0] <= offsets[1] <= data_bytes
    )


def read_safetensors(handle, size: int, header: bytes) -> dict | None:
    if len(header) < 9 or header[8:9] != b"{":
        return None
    (length,) = struct.unpack_from("<Q", header, 0)
    if not 2 <= length <= size - 8:
        return None
    if length > SAFETENSORS_HEADER_LIMIT:
        return {"header_bytes": length}
    handle.seek(8)
    try:
        table = parse_json(handle.read(length))
    except (ValueError, RecursionError):
        return None
    if not isinstance(table, dict):
        return None
    tensors = {k: v for k, v in table.items() if k != "__metadata__" and isinstance(v, dict)}
    shapes = [t.get("shape") for t in tensors.values()]
    parameters = sum(math.prod(shape or [1]) for shape in shapes if _plausible_shape(shape))
    details = {"tensor_count": len(tensors), "parameters": parameters}
    data_bytes = size - 8 - length
    if any(not _offsets_within(t.get("data_offsets"), data_bytes) for t in tensors.values()):
        details["offsets_beyond_file"] = True
    dtypes = sorted({str(t.get("dtype")) for t in tensors.values() if t.get("dtype")})
    if dtypes:
        details["dtypes"] = dtypes
    if isinstance(table.get("__metadata__"), dict):
        details["metadata"] = {str(k): clip(str(v)) for k, v in list(table["__metadata__"].items())[:20]}
    return details


def looks_like_coreml(header: bytes) -> dict | None:
    """Core ML's ``Model`` protobuf (an ``.mlmodel``, also the spec inside an ``.mlpackage``): field 1
    specificationVersion (varint), then field 2, the model's description."""
    if len(header) < 3 or header[0] != 0x08 or not 1 <= header[1] <= 20 or header[2] != 0x12:
        return None
    return {"specification_version": header[1]}


def looks_like_onnx(header: bytes, strict: bool) -> dict | None:
    """ONNX ModelProto: field 1 ir_version (varint), then producer_name/graph/opset fields."""
    if len(header) < 4 or header[0] != 0x08 or not 1 <= header[1] <= 20:
        return None
    if header[2] not in ONNX_SECOND_FIELD_TAGS:
        return None
    details = {"ir_version": header[1]}
    if header[2] == 0x12 and 0 < header[3] < 60:
        producer = header[4 : 4 + header[3]]
        if producer.isascii() and producer.decode("ascii").isprintable():
            details["producer"] = producer.decode("ascii")
    if strict and "producer" not in details:
        return None
    return details


class _Mark:
    """The MARK object on the simulated pickle stack."""


_MARK = _Mark()
_UNKNOWN = object()  # a stack item whose value the analysis does not track


def _pop_to_mark(stack: list) -> list:
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] is _MARK:
            items = stack[index + 1 :]
            del stack[index:]
            return items
    raise IndexError("no mark on the stack")


def pickle_globals(stream: bytes) -> tuple[int | None, list[str], list[str]]:
    """Protocol, the globals a pickle imports, and the calls it makes that cannot be resolved,
    from a disassembly that never executes it.

    The stack is simulated (memo included), so ``STACK_GLOBAL`` takes its module and name from
    the real stack state: a ``POP`` of junk in between cannot rename ``os.system``. A
    ``STACK_GLOBAL`` whose operands are not known strings, a call (``REDUCE``, ``OBJ``,
    ``NEWOBJ``) of something that is not a resolved global, and extension-registry globals are
    returned as unresolved; so is a pickle with more than ``PICKLE_MAX_OPCODES`` opcodes, whose
    tail is not read."""
    protocol = None
    found: list[str] = []
    unresolved: list[str] = []
    stack: list = []
    memo: dict = {}
    position = 0
    try:
        for count, (opcode, arg, position) in enumerate(pickletools.genops(io.BytesIO(stream))):
            name = opcode.name
            if count >= PICKLE_MAX_OPCODES:
                unresolved.append(f"more than {PICKLE_MAX_OPCODES} opcodes; the rest was not analysed")
                break
            if name == "STOP" or len(found) > 200 or len(unresolved) > 50:
                break
            if name == "PROTO":
                protocol = arg
            elif name in PICKLE_STRING_OPCODES and isinstance(arg, str | bytes):
                stack.append(arg if isinstance(arg, str) else arg.decode("latin-1"))
            elif name in ("GLOBAL", "INST"):
                qualified = str(arg).replace(" ", ".")
                found.append(qualified)
                if name == "INST":
                    _pop_to_mark(stack)
                stack.append(("global", qualified))
            elif name == "STACK_GLOBAL":
                attribute, module = stack.pop(), stack.pop()
                if isinstance(module, str) and isinstance(attribute, str):
                    qualified = f"{module}.{attribute}"
                    found.append(qualified)
                    stack.append(("global", qualified))
                else:
                    unresolved.append(f"STACK_GLOBAL at byte {position} with operands not known strings")
                    stack.append(_UNKNOWN)
            elif name in ("EXT1", "EXT2", "EXT4"):
                unresolved.append(f"{name} {arg} (extension registry global) at byte {position}")
                stack.append(_UNKNOWN)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(arg, _UNKNOWN))
            elif name == "DUP":
                stack.append(stack[-1])
            elif name in ("REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ"):
                if name == "OBJ":
                    items = _pop_to_mark(stack)
                    target = items[0] if items else _UNKNOWN
                else:
                    operands = [stack.pop() for _ in opcode.stack_before]
                    target = operands[-1]
                if not (isinstance(target, tuple) and target[0] == "global"):
                    unresolved.append(f"{name} at byte {position} calls something that is not a known global")
                stack.append(_UNKNOWN)
            else:
                before = opcode.stack_before
                if pickletools.markobject in before:
                    _pop_to_mark(stack)
                    before = before[: before.index(pickletools.markobject)]
                for _ in before:
                    stack.pop()
                stack.extend(
                    _MARK if item is pickletools.markobject else _UNKNOWN for item in opcode.stack_after
                )
    except IndexError:
        pass  # the stack underflows: unpickling would fail here, so nothing after it runs
    except (ValueError, EOFError, struct.error, UnicodeDecodeError):
        pass  # truncated or not a pickle past this point; what was read stands
    return protocol, sorted(set(found)), unresolved


def parses_as_pickle(data: bytes, opcodes_needed: int = 3) -> bool:
    count = 0
    try:
        for _ in pickletools.genops(io.BytesIO(data)):
            count += 1
            if count >= opcodes_needed:
                return True
    except (ValueError, EOFError, struct.error, UnicodeDecodeError):
        return False
    return count > 0


def is_pickle_start(header: bytes, trusted_extension: bool) -> bool:
    if len(header) >= 2 and header[0] == 0x80 and 2 <= header[1] <= 5:
        return True
    # protocol 0/1 pickles have no signature: believe them only under a pickle extension
    return trusted_extension and header[:1] in (b"(", b"c", b"}", b"]", b")") and parses_as_pickle(header)


@dataclass
class ZipEntry:
    name: str
    method: int
    compressed_size: int
    header_offset: int
    encrypted: bool = False


def _zip64_sizes(extra: bytes, sizes: tuple[int, int, int]) -> tuple[int, int, int]:
    """Uncompressed size, compressed size and local-header offset with the zip64 extra field's
    values for those the directory entry marks as overflowed (0xFFFFFFFF), in that order."""
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        if tag == 0x0001:
            body = extra[position + 4 : position + 4 + length]
            values = iter(v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8]))
            uncompressed, compressed, offset = (next(values, v) if v == 0xFFFFFFFF else v for v in sizes)
            return uncompressed, compressed, offset
        position += 4 + length
    return sizes


def _zip_end_record(handle, size: int) -> tuple[int, int, int, int] | None:
    """Entry count, directory size, directory offset and end-record position from the end of
    central directory record (its zip64 form when the classic one overflows)."""
    tail_size = min(size, ZIP_END_SEARCH_BYTES)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    end = tail.rfind(ZIP_END_SIGNATURE)
    if end < 0 or end + 22 > len(tail):
        return None
    count, directory_size, directory_offset = struct.unpack_from("<HII", tail, end + 10)
    end_position = size - tail_size + end
    if count != 0xFFFF and 0xFFFFFFFF not in (directory_size, directory_offset):
        return count, directory_size, directory_offset, end_position
    locator = end - 20
    if locator < 0 or tail[locator : locator + 4] != ZIP64_LOCATOR_SIGNATURE:
        return None
    (zip64_end,) = struct.unpack_from("<Q", tail, locator + 8)
    if zip64_end + 56 > end_position:
        return None
    handle.seek(zip64_end)
    record = handle.read(56)
    if len(record) < 56 or record[:4] != ZIP64_END_SIGNATURE:
        return None
    count, directory_size, directory_offset = struct.unpack_from("<QQQ", record, 32)
    return count, directory_size, directory_offset, zip64_end


def zip_directory(handle, size: int, max_bytes: int, max_entries: int) -> list[ZipEntry] | None:
    """The entries a zip's central directory lists, or None for a file that is not a readable zip or
    whose directory is over the caps. Only the end record and the directory are read: nothing is
    decompressed or extracted, so a hostile archive costs at most ``max_bytes`` of parsing."""
    record = _zip_end_record(handle, size)
    if record is None:
        return None
    count, directory_size, directory_offset, end_position = record
    if count > max_entries or directory_size > max_bytes or directory_offset + directory_size > end_position:
        return None
    handle.seek(directory_offset)
    directory = handle.read(directory_size)
    entries = []
    position = 0
    for _ in range(count):
        if directory[position : position + 4] != ZIP_ENTRY_SIGNATURE or position + 46 > len(directory):
            break  # a truncated or forged directory: the entries read so far stand
        flags, method = struct.unpack_from("<HH", directory, position + 8)
        compressed_size, uncompressed_size = struct.unpack_from("<II", directory, position + 20)
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", directory, position + 28)
        (header_offset,) = struct.unpack_from("<I", directory, position + 42)
        name_end = position + 46 + name_length
        name = directory[position + 46 : name_end].decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if 0xFFFFFFFF in (compressed_size, uncompressed_size, header_offset):
            extra = directory[name_end : name_end + extra_length]
            _, compressed_size, header_offset = _zip64_sizes(
                extra, (uncompressed_size, compressed_size, header_offset)
            )
        entries.append(ZipEntry(name, method, compressed_size, header_offset, bool(flags & 0x1)))
        position += 46 + name_length + extra_length + comment_length
    return entries


def read_zip_member(handle, entry: ZipEntry, limit: int) -> bytes | None:
    """At most ``limit`` bytes of one member, for the pickle analysis only: stored members are read
    as they are, deflated ones inflated to at most ``limit`` bytes; encrypted members and other
    methods are not read."""
    if entry.encrypted:
        return None
    handle.seek(entry.header_offset)
    local = handle.read(30)
    if len(local) < 30 or local[:4] != ZIP_LOCAL_SIGNATURE:
        return None
    name_length, extra_length = struct.unpack_from("<HH", local, 26)
    handle.seek(entry.header_offset + 30 + name_length + extra_length)
    raw = handle.read(min(entry.compressed_size, limit))
    if entry.method == 0:
        return raw
    if entry.method == 8:
        try:
            return zlib.decompressobj(-15).decompress(raw, limit)
        except zlib.error:
            return None
    return None


def zip_layout(names: list[str], suffix: str) -> ModelFormat | None:
    """A model format told by member names alone, each from the layout its library writes:
    Stable-Baselines3 ``save`` (``data`` JSON with cloudpickled objects, ``policy.pth``), Keras 3
    ``.keras``, TorchServe's ``MAR-INF/MANIFEST.json`` and skops (``schema.json`` beside ``.npy``
    arrays, only under its own extension: elsewhere that is a plain data bundle)."""
    root = {n for n in names if "/" not in n}
    details: dict = {"archive_entries": len(names)}
    if "_stable_baselines3_version" in root and "data" in root and root & STABLE_BASELINES3_WEIGHTS:
        return ModelFormat("stable_baselines3 (zip)", True, details)
    if "config.json" in root and root & KERAS_WEIGHTS:
        return ModelFormat("keras_v3", False, details)
    if TORCHSERVE_MANIFEST in names:
        members = [n for n in names if n.lower().endswith(ARCHIVED_MODEL_SUFFIXES)]
        if members:
            details["model_members"] = members[:10]
        unsafe = any(n.lower().endswith(PICKLE_WEIGHT_SUFFIXES) for n in members)
        return ModelFormat("torchserve_mar", unsafe, details)
    others = [n for n in names if n != "schema.json"]
    if suffix == ".skops" and "schema.json" in root and all(n.endswith((".npy", ".npz")) for n in others):
        return ModelFormat("skops", False, details)
    return None


def read_zip(handle, size: int, suffix: str) -> ModelFormat | None:
    config = load_config()
    entries = zip_directory(handle, size, config["zip_directory_max_bytes"], config["zip_max_entries"])
    if not entries:
        return None
    files = [e for e in entries if not e.name.endswith("/")]
    names = [e.name for e in files]
    if (layout := zip_layout(names, suffix)) is not None:
        return layout
    name_set = set(names)
    torch_pickle = next(
        (e for e in files if e.name.endswith("/data.pkl") and _torch_version_record(e.name) & name_set), None
    )
    if torch_pickle is None and suffix in config["archive_extensions"]:
        return None  # a pickle in a .zip/.mar/.tar without a model layout is a data bundle
    entry = torch_pickle or next((e for e in files if e.name.endswith((".pkl", ".pickle"))), None)
    if entry is None:
        return None
    kind = "pytorch" if any(n.endswith(("/version", "/data.pkl")) for n in names) else "zip"
    details = {"archive_entries": len(names), "pickle_member": entry.name}
    payload = read_zip_member(handle, entry, config["pickle_scan_bytes"])
    if payload is None:
        protocol, globals_ = None, []
        state = "encrypted" if entry.encrypted else f"compression method {entry.method}"
        unresolved = [f"pickle member {clip(entry.name)} ({state}) could not be read"]
    else:
        protocol, globals_, unresolved = pickle_globals(payload)
    if protocol is not None:
        details["pickle_protocol"] = protocol
    return ModelFormat(f"{kind} (zip+pickle)", True, details, globals_, unresolved)


def _torch_version_record(pickle_name: str) -> set[str]:
    """Where ``torch.save`` writes the format version beside ``<archive>/data.pkl``."""
    folder = pickle_name.removesuffix("data.pkl")
    return {folder + "version", folder + ".data/version"}


# a weights file committed through Git LFS is, in the tree, a small text pointer to the real object:
# still a committed model, whose pointer gives the object's sha256 and size
LFS_POINTER = b"version https://git-lfs.github.com/spec/v1"
LFS_FIELDS = linear(r"(?m)^oid sha256:([0-9a-f]{64})\s*$|^size (\d{1,20})\s*$")
LFS_POINTER_MAX_BYTES = 1024


def read_lfs_pointer(handle, size: int) -> dict | None:
    """The object id and size a Git LFS pointer file names, or None when the file is no pointer."""
    if size > LFS_POINTER_MAX_BYTES:
        return None
    handle.seek(0)
    text = handle.read(LFS_POINTER_MAX_BYTES)
    if not text.startswith(LFS_POINTER):
        return None
    details: dict = {}
    for match in LFS_FIELDS.finditer(text.decode("ascii", errors="replace")):
        if match.group(1):
            details["lfs_oid_sha256"] = match.group(1)
        else:
            details["lfs_size_bytes"] = int(match.group(2))
    return details if "lfs_oid_sha256" in details else None


def sniff(handle, size: int, suffix: str) -> ModelFormat | None:
    config = load_config()
    handle.seek(0)
    header = handle.read(HEADER_BYTES)
    archive_only = suffix in config["archive_extensions"]
    # a pointer to a .zip/.mar/.tar hides the member names that tell a model from any other archive
    lfs_candidate = not archive_only and header.startswith(LFS_POINTER[:HEADER_BYTES])
    if lfs_candidate and (pointer := read_lfs_pointer(handle, size)):
        return ModelFormat("git-lfs pointer", False, pointer)
    trusted_pickle = suffix in config["pickle_extensions"]
    if header[:4] == b"GGUF":
        return ModelFormat("gguf", False, read_gguf_metadata(handle))
    if header[:4] in (b"lmgg", b"fmgg", b"tjgg"):
        return ModelFormat("ggml", False, {})
    if header[:4] == ZIP_LOCAL_SIGNATURE:
        return read_zip(handle, size, suffix)
    if archive_only:
        return None
    for offset in HDF5_OFFSETS:
        if offset + 8 <= size:
            if offset >= len(header):
                handle.seek(offset)
                probe = handle.read(8)
            else:
                probe = header[offset : offset + 8]
            if probe == HDF5_SIGNATURE:
                return ModelFormat("hdf5", False, {"signature_offset": offset})
    if header[4:8] == b"TFL3":
        return ModelFormat("tflite", False, {})
    if (details := read_safetensors(handle, size, header)) is not None:
        return ModelFormat("safetensors", False, details)
    if is_pickle_start(header, trusted_pickle):
        handle.seek(0)
        protocol, globals_, unresolved = pickle_globals(handle.read(config["pickle_scan_bytes"]))
        details = {"pickle_protocol": protocol} if protocol is not None else {}
        kind = "joblib (pickle)" if suffix == ".joblib" else "pickle"
        return ModelFormat(kind, True, details, globals_, unresolved)
    if trusted_pickle:
        codec = next((c for magic, c in COMPRESSED_MAGIC.items() if header.startswith(magic)), None)
        if codec:
            return ModelFormat(f"compressed pickle ({codec})", True, {"compression": codec})
    if suffix == ".mlmodel":  # shaped like ONNX's header: told by its suffix first
        details = looks_like_coreml(header)
        return ModelFormat("coreml", False, details) if details is not None else None
    if (details := looks_like_onnx(header, strict=suffix != ".onnx")) is not None:
        return ModelFormat("onnx", False, details)
    return None


def dangerous_globals(globals_: list[str]) -> list[str]:
    patterns = load_config()["dangerous_pickle_globals"]
    return [g for g in globals_ if any(fnmatch.fnmatchcase(g, p) for p in patterns)]


def is_document_store(globals_: list[str]) -> bool:
    """Whether a pickle holds a saved vector store's documents (its docstore and id map), not weights."""
    patterns = load_config()["document_store_pickle_globals"]
    allowed = patterns["docstores"] + patterns["documents"]
    return any(fnmatch.fnmatchcase(g, p) for g in globals_ for p in patterns["docstores"]) and all(
        any(fnmatch.fnmatchcase(g, p) for p in allowed) for g in globals_
    )


def is_vector_index_segment(file: SourceFile) -> bool:
    """Whether the file is a Chroma HNSW segment's metadata pickle (``vector_index_segment``)."""
    segment = load_config()["vector_index_segment"]
    return file.name == segment["pickle"] and any(
        (file.path.parent / name).is_file() for name in segment["beside"]
    )


def is_fitted_preprocessor(globals_: list[str]) -> bool:
    """Whether a pickle holds a fitted scikit-learn preprocessor (a scaler, an encoder, a vectorizer) and
    nothing else: it transforms a model's inputs, it is no model."""
    patterns = load_config()["preprocessor_pickle_globals"]
    allowed = patterns["preprocessors"] + patterns["arrays"]
    return any(fnmatch.fnmatchcase(g, p) for g in globals_ for p in patterns["preprocessors"]) and all(
        any(fnmatch.fnmatchcase(g, p) for p in allowed) for g in globals_
    )


def sha256_of(handle) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def hash_refusal(stat: os.stat_result, limit: int) -> str | None:
    """Why a file is not hashed, if it is not: a declared size is the repository's to choose,
    and a sparse file can claim terabytes that cost nothing on disk but all of them to read."""
    if stat.st_size > HASH_CHUNK and stat.st_blocks * 512 < stat.st_size // 2:
        return "sparse file (mostly unallocated)"
    if stat.st_size > limit:
        return f"over the {human_size(limit)} hash limit"
    return None


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


# Xcode compiles an .mlmodel into an ``.mlmodelc`` folder, the form an app bundles and loads
# (``MLModel(contentsOf:)``); its ``coremldata.bin`` has no magic of its own, its place says what it is
COMPILED_COREML = ModelFormat("coreml (compiled)", False, {})


def compiled_coreml(file: SourceFile) -> bool:
    """The ``coremldata.bin`` at the top of a compiled Core ML model (not the ones of its parts)."""
    return file.name == "coremldata.bin" and file.path.parent.name.endswith(".mlmodelc")


class ModelFileDetector(Detector):
    name = "model_files"
    text_only = False  # model files are binary and may be larger than the text size limit

    def applies_to(self, file: SourceFile) -> bool:
        return file.suffix in load_config()["extensions"]

    def detect(self, file: SourceFile, report: FileReport) -> Iterable[Finding]:
        config = load_config()
        if is_vector_index_segment(file):
            return []
        try:
            with file.open() as handle:
                stat = os.fstat(handle.fileno())
                size = stat.st_size
                model = COMPILED_COREML if compiled_coreml(file) else sniff(handle, size, file.suffix)
                if model is None or (
                    model.pickle_globals
                    and (
                        is_document_store(model.pickle_globals)
                        or is_fitted_preprocessor(model.pickle_globals)
                    )
                ):
                    return []
                unhashed = hash_refusal(stat, config["hash_max_bytes"])
                digest = None if unhashed else sha256_of(handle)
        except OSError as exc:
            report.warnings.append(f"model_files: cannot read {file.relpath}: {exc.strerror or exc}")
            return []
        flags = set()
        if model.unsafe:
            flags.add("unsafe_model_format")
        risky = dangerous_globals(model.pickle_globals)
        if risky or model.unresolved_calls:
            flags.add("dangerous_code")
        if "lfs_oid_sha256" in model.details:  # the model is the object the pointer names
            size = model.details.get("lfs_size_bytes", size)
            digest, unhashed = model.details["lfs_oid_sha256"], None
        if size > config["large_model_file_bytes"]:
            flags.add("large_model_file")
        metadata = {"format": model.format, "size_bytes": size, **model.details}
        if digest:
            metadata["sha256"] = digest
        else:
            metadata["sha256_skipped"] = unhashed
        if model.pickle_globals:
            metadata["pickle_globals"] = model.pickle_globals[:50]
        if risky:
            metadata["dangerous_globals"] = risky
        if model.unresolved_calls:
            metadata["unresolved_pickle_calls"] = model.unresolved_calls[:20]
        label = " ".join(str(model.details[k]) for k in ("architecture", "name") if k in model.details)
        snippet = f"{model.format}{' ' + label if label else ''}, {human_size(size)}"
        return [
            Finding(
                key=component_key("model_file", file.relpath.lower()),
                name=file.relpath,
                type="model_file",
                location=file.location(0, snippet),
                detector=self.name,
                model_name=model.details.get("name") if isinstance(model.details.get("name"), str) else None,
                flags=flags,
                metadata=metadata,
            )
        ]

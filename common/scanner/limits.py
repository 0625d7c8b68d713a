"""Bounded work on repository content: parsers with limits, linear-time patterns, line numbers.

A repository chooses its files, so a parse must not be able to explode. YAML aliases are
counted as they would expand (a "billion laughs" file is refused instead of being walked), and
nesting is bounded before anything recursive runs: libyaml's composer recurses in C and
crashes the process on ``model: [[[[…]]]]``, so depth is measured on the flat event stream
first. JSON nesting is measured on the brackets outside strings before ``json.loads``.
Limit errors subclass what callers already catch (``RecursionError``, ``yaml.YAMLError``).
Python source is parsed behind a recursion guard. Patterns that read repository content are
compiled with RE2 (``linear``, ``BoundedPattern``), and match offsets become line numbers by
binary search (``line_at``), so no file shape makes matching or counting quadratic.

PyYAML and RE2 are imported on first use (``SAFE_LOADER`` and ``AliasExpansionTooLarge`` are
module attributes resolved then): a tree without YAML never pays for PyYAML's import.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from array import array
from bisect import bisect_right
from functools import cache, lru_cache
from itertools import accumulate

from common.scanner.lazy import DEFERRED_MODULES

DEFERRED_MODULES.update(("yaml", "re2"))  # imported inside the functions that use them
MAX_NESTING = 200
MAX_YAML_EXPANDED_NODES = 100_000  # nodes added by aliases, over the whole stream
# scalar characters added by aliases, over the whole stream: one long scalar aliased a thousand times is a
# few nodes, but every detector reading the text of each (a workflow's ``run: *script``) reads it a
# thousand times
MAX_YAML_EXPANDED_CHARACTERS = 2_000_000
MAX_TOML_KEY_PARTS = 256  # real keys have a handful; ``tomllib`` pays quadratically for each
_BRACKET = re.compile(r"[\[\]{}]")  # one character class: nothing to backtrack, linear in any engine
# an opening bracket as the signed byte 1, a closing one as -1 (0xFF), summed in C by ``accumulate``
_BRACKET_STEP = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


class NestingTooDeep(RecursionError):
    """A document nested deeper than ``MAX_NESTING``: reported like any too-deep document."""


@lru_cache(maxsize=1)
def _yaml_names() -> dict:
    import yaml

    class AliasExpansionTooLarge(yaml.YAMLError):
        """YAML whose aliases would add more than ``MAX_YAML_EXPANDED_NODES`` nodes when expanded."""

    AliasExpansionTooLarge.__module__ = __name__
    AliasExpansionTooLarge.__qualname__ = "AliasExpansionTooLarge"
    return {
        "SAFE_LOADER": getattr(yaml, "CSafeLoader", yaml.SafeLoader),
        "AliasExpansionTooLarge": AliasExpansionTooLarge,
    }


def __getattr__(name: str):
    if name in ("SAFE_LOADER", "AliasExpansionTooLarge"):
        return _yaml_names()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_LAST_CHECKED_YAML: list[str] = []  # the last text that passed ``check_yaml``


def check_yaml(text: str) -> None:
    """Raise unless every document of ``text`` is within the nesting and alias-expansion limits.

    Several detectors read the same YAML file one after another, so the last text that passed is
    remembered and not walked again (a text that fails is walked every time, raising as before)."""
    if _LAST_CHECKED_YAML and _LAST_CHECKED_YAML[0] == text:
        return
    _check_yaml_events(text)
    _LAST_CHECKED_YAML[:] = [text]


def _check_yaml_events(text: str) -> None:
    """``check_yaml``'s walk.

    Walks the parser's events (libyaml's parser keeps an explicit stack, so this cannot crash)
    and sizes every anchored node, so an alias costs what its anchor would expand to."""
    import yaml

    sizes: list[int] = []  # expanded node count of each open collection
    lengths: list[int] = []  # expanded scalar characters of each open collection
    anchored: list[str | None] = []
    anchors: dict[str, tuple[int, int]] = {}
    expanded_by_aliases = expanded_characters = 0
    for event in yaml.parse(text, Loader=_yaml_names()["SAFE_LOADER"]):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(sizes) >= MAX_NESTING:
                raise NestingTooDeep(f"nested deeper than {MAX_NESTING} levels")
            sizes.append(1)
            lengths.append(0)
            anchored.append(event.anchor)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size, length, anchor = sizes.pop(), lengths.pop(), anchored.pop()
        elif isinstance(event, yaml.ScalarEvent):
            size, length, anchor = 1, len(event.value), event.anchor
        elif isinstance(event, yaml.AliasEvent):
            (size, length), anchor = anchors.get(event.anchor, (1, 0)), None
            expanded_by_aliases += size
            expanded_characters += length
            if expanded_by_aliases > MAX_YAML_EXPANDED_NODES:
                raise _yaml_names()["AliasExpansionTooLarge"](
                    f"aliases expand to more than {MAX_YAML_EXPANDED_NODES} nodes"
                )
            if expanded_characters > MAX_YAML_EXPANDED_CHARACTERS:
                raise _yaml_names()["AliasExpansionTooLarge"](
                    f"aliases expand to more than {MAX_YAML_EXPANDED_CHARACTERS} characters of text"
                )
        else:
            continue
        if anchor is not None:
            anchors[anchor] = (size, length)
        if sizes:
            sizes[-1] += size
            lengths[-1] += length


class _LastComposedYaml:
    """The node trees of the last YAML text composed: the configuration, container, IaC and MCP
    detectors each read the same file, and composing it is most of what reading it costs. ``error`` is
    the YAML error that stopped the stream after ``documents`` (a stream is read up to its error)."""

    text: str | None = None
    documents: list = []
    error: Exception | None = None


def _composed(text: str) -> tuple[list, Exception | None]:
    """Every document's node tree up to the stream's first YAML error, and that error (None without
    one); the last text's are kept. Anything else raised (the file's CPU budget) keeps nothing."""
    import yaml

    if _LastComposedYaml.text is not None and _LastComposedYaml.text == text:
        return _LastComposedYaml.documents, _LastComposedYaml.error
    documents: list = []
    error = None
    try:
        for document in yaml.compose_all(text, Loader=_yaml_names()["SAFE_LOADER"]):
            documents.append(document)
    except yaml.YAMLError as exc:
        error = exc.with_traceback(None)
    _LastComposedYaml.text, _LastComposedYaml.documents, _LastComposedYaml.error = text, documents, error
    return documents, error


def _forget_composed() -> None:
    _LastComposedYaml.text, _LastComposedYaml.documents, _LastComposedYaml.error = None, [], None


def compose_yaml_all(text: str) -> list:
    """Node trees (with line numbers) of every document, after ``check_yaml``. The trees are shared by
    every reader of the text: read them, never change them."""
    check_yaml(text)
    documents, error = _composed(text)
    if error is not None:
        raise error.with_traceback(None)
    return [doc for doc in documents if doc is not None]


# the tags whose keys ``SafeConstructor.flatten_mapping`` rewrites in the node tree it constructs from
_FLATTENED_KEY_TAGS = frozenset(("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"))


@lru_cache(maxsize=16)
def _constructing_from_shared(loader: type) -> type:
    """``loader`` noting whether construction rewrote the node tree (a merge key ``<<`` is replaced by
    the merged entries, a value key ``=`` retagged): a tree so changed is no longer the text's."""

    class NoteRewrites(loader):
        rewrote_nodes = False

        def flatten_mapping(self, node) -> None:
            if not self.rewrote_nodes:
                self.rewrote_nodes = any(key.tag in _FLATTENED_KEY_TAGS for key, _ in node.value)
            super().flatten_mapping(node)

    return NoteRewrites


# what PyYAML's safe constructors raise on a malformed explicit tag (``!!timestamp nope``,
# ``!!binary`` that is not base64, ``!!int 0x`` …) instead of a ``YAMLError``: the readers catch that
_CONSTRUCTOR_SLIPS = (AttributeError, ValueError, TypeError, OverflowError, UnicodeError)


def load_yaml_all(text: str, loader=None) -> list:
    """Python values of every document, after ``check_yaml`` (``loader``: the safe loader by default, or
    a subclass with constructors of its own; its resolver must be the safe loader's). Constructed from
    the shared node trees, document by document as ``yaml.load_all`` does, so an error in a document
    comes before a syntax error further down, as it did; a construction that rewrote the trees drops
    them, so the next reader composes the text again."""
    check_yaml(text)
    documents, error = _composed(text)
    loader = loader or _yaml_names()["SAFE_LOADER"]
    # a merge or value key is a plain ``<<`` or ``=``, or written with an explicit tag (``!``)
    rewrites = "<<" in text or "=" in text or "!" in text
    constructor = (_constructing_from_shared(loader) if rewrites else loader)("")
    try:
        values = [constructor.construct_document(document) for document in documents]
    except _CONSTRUCTOR_SLIPS as exc:
        from yaml.constructor import ConstructorError

        raise ConstructorError(None, None, f"{type(exc).__name__}: {exc}") from None
    finally:
        constructor.dispose()
        if rewrites and constructor.rewrote_nodes:
            _forget_composed()
    if error is not None:
        raise error.with_traceback(None)
    return values


def json_too_deep(text: str) -> bool:
    """Is any bracket outside strings nested deeper than ``MAX_NESTING``? Linear, and in C but for
    the final pass over the brackets: escapes are removed left to right as a JSON reader pairs them
    (``\\\\`` before ``\\"``), so the quotes left delimit the strings, and every other piece of a
    split on them is outside a string. (A per-match pattern substitution was the slowest step of
    scanning a large lock file.)"""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return False
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    brackets = "".join(_BRACKET.findall("".join(unescaped.split('"')[::2])))
    if len(brackets) <= MAX_NESTING:
        return False
    steps = array("b", brackets.translate(_BRACKET_STEP).encode("latin-1"))
    return max(accumulate(steps)) > MAX_NESTING


def parse_json(text: str | bytes) -> object:
    """``json.loads`` that refuses documents nested deeper than ``MAX_NESTING``."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8", errors="replace")
    if json_too_deep(text):
        raise NestingTooDeep(f"nested deeper than {MAX_NESTING} levels")
    return json.loads(text)


def parse_toml(text: str) -> dict:
    """``tomllib.loads`` that refuses a key of more than ``MAX_TOML_KEY_PARTS`` dotted parts: the
    standard library's parser adds each part to a tuple, so ``openai.openai.…`` cost time quadratic
    in its parts (4.75 s for a 400 KB line of them; a 5 MB one would never finish)."""
    refuse_long_toml_keys(text)
    return tomllib.loads(text)


def refuse_long_toml_keys(text: str) -> None:
    """``parse_toml``'s refusal of a key of more than ``MAX_TOML_KEY_PARTS`` dotted parts."""
    if text.count(".") >= MAX_TOML_KEY_PARTS and _LONG_DOTTED_KEY.search(text):
        raise tomllib.TOMLDecodeError(f"a dotted key of more than {MAX_TOML_KEY_PARTS} parts")


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse`` with a recursion guard: CPython's parser reports a too-deep expression as
    ``MemoryError`` (its stack) or ``RecursionError`` (building the tree); both become
    ``NestingTooDeep``. Walking the tree afterwards stays under the interpreter's recursion limit."""
    try:
        return ast.parse(source, filename=filename)
    except (RecursionError, MemoryError) as exc:
        raise NestingTooDeep("Python source nested too deeply to parse") from exc


_INLINE_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


@lru_cache(maxsize=1024)
def linear(pattern: str, flags: int = 0):
    """Compile ``pattern`` with RE2: matching time is linear in the text, whatever the pattern
    and the text (no backtracking, so no catastrophic or quadratic searches). The object has
    ``re``'s methods; RE2 has no look-around or backreferences (``BoundedPattern`` covers the
    token-boundary look-arounds), and its ``\\w``/``\\s``/``\\d`` are ASCII. Detectors build
    patterns per file from the names they meet, so the last compilations are kept (bounded: a
    repository chooses those names)."""
    unknown = flags & ~(re.IGNORECASE | re.MULTILINE | re.DOTALL)
    if unknown:
        raise ValueError(f"flags RE2 cannot express: {unknown}")
    inline = "".join(letter for flag, letter in _INLINE_FLAGS if flags & flag)
    return _LazyRegex(f"(?{inline}){pattern}" if inline else pattern)


class _LazyRegex:
    """An RE2 pattern compiled on its first use: detector modules compile dozens at import, and a
    small tree's files use a few of them. Each attribute (``search``, ``finditer``, …) is looked
    up on the compiled pattern once and then kept on the instance, so later calls cost nothing
    extra. A pattern RE2 rejects raises on first use, inside the detector that uses it."""

    def __init__(self, source: str) -> None:
        self._source = source

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        compiled = self.__dict__.get("compiled")
        if compiled is None:
            import re2

            compiled = self.__dict__["compiled"] = re2.compile(self._source)
        value = getattr(compiled, name)
        if name in _ANCHORS:
            value = _miss_first(compiled, value, _ANCHORS[name])
        elif name in _ASCII_PATHS:
            value = _ASCII_PATHS[name](compiled, value)
        setattr(self, name, value)
        return value


_ANCHORS = {"search": "UNANCHORED", "match": "ANCHOR_START", "fullmatch": "ANCHOR_BOTH"}


def _binding(compiled, anchor_name: str):
    """The RE2 binding's compiled object, its ``anchor_name`` value and its match class, or None
    where the binding is not the one these fast paths were written against (they then step aside)."""
    regexp = getattr(compiled, "_regexp", None)
    anchors = getattr(getattr(regexp, "__class__", None), "Anchor", None)
    anchor = getattr(anchors, anchor_name, None)
    match_type = getattr(sys.modules.get(type(compiled).__module__), "_Match", None)
    if regexp is None or anchor is None or match_type is None:
        return None
    return regexp, anchor, _quick_match_type(match_type)


@cache
def _quick_match_type(base: type) -> type:
    """The binding's match class with one group number's text, start, end and span read from the
    spans directly: the binding checks the number against the pattern's group count, asked of RE2
    on every call, and ``group`` builds a generator for one item. The spans hold every group (RE2
    reports them all), so a number below their count is a valid one; anything else (names, several
    groups, bad numbers) goes to the binding's own methods."""

    class QuickMatch(base):
        __slots__ = ()

        def __getitem__(self, group):
            if type(group) is int and 0 <= group < len(self._spans):
                span = self._spans[group]
                return None if span == _NO_MATCH else self._text[span[0] : span[1]]
            return base.__getitem__(self, group)

        def group(self, *groups):
            if len(groups) == 1:
                return self.__getitem__(groups[0])
            return self.__getitem__(0) if not groups else base.group(self, *groups)

        def start(self, group=0):
            if type(group) is int and 0 <= group < len(self._spans):
                return self._spans[group][0]
            return base.start(self, group)

        def end(self, group=0):
            if type(group) is int and 0 <= group < len(self._spans):
                return self._spans[group][1]
            return base.end(self, group)

        def span(self, group=0):
            if type(group) is int and 0 <= group < len(self._spans):
                return self._spans[group]
            return base.span(self, group)

    return QuickMatch


_NO_MATCH = (-1, -1)
# characters between two remembered byte offsets of a text that is not ASCII (``_Encoded.marks``)
_MARK_CHARS = 256


class _Encoded:
    """A text matched recently: its UTF-8 bytes and, when it is not ASCII, the byte offset of every
    ``_MARK_CHARS``-th character. The binding encodes the whole text on every call (and counts
    characters from its start to convert offsets), so the dozens of patterns a detector tries on one
    file's text each paid for its encoding, and a parser matching at each position of one file
    (``P.match(text, pos)``) was quadratic in the file, whatever the pattern. The bytes are kept; the
    marks are worked out on the first positional call (an offset is then converted by encoding or
    decoding at most ``_MARK_CHARS`` characters)."""

    __slots__ = ("data", "marked", "marks", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.marks: list[int] | None = None
        self.marked = False


# The last short and the last long text: a parser walking a file by position and matching a short piece
# of it in between (a tag it found) evicted the file's bytes from a single slot, and encoded the whole
# file again at every step (a component of 100,000 ``<script>`` pairs took seconds, quadratically).
# A slot is replaced, never changed, so a thread holds a consistent text and bytes.
_SHORT_TEXT = 4096
_REMEMBERED = [_Encoded(""), _Encoded("")]


def _slot(text: str) -> _Encoded:
    """The remembered encoding of ``text``, made when its slot held another text."""
    long = len(text) >= _SHORT_TEXT
    slot = _REMEMBERED[long]
    if slot.text is not text:
        slot = _REMEMBERED[long] = _Encoded(text)
    return slot


def _utf8(text: str) -> bytes:
    """``text``'s UTF-8 bytes, remembered for the last short and the last long text."""
    return _slot(text).data


def _encoded(text: str) -> tuple[bytes, list[int] | None]:
    """``text``'s UTF-8 bytes and its byte marks (None when it is ASCII: byte offsets are then character
    offsets), remembered for the last short and the last long text."""
    slot = _slot(text)
    if not slot.marked:
        if len(slot.data) != len(text):
            pieces = (
                len(text[start : start + _MARK_CHARS].encode("utf-8"))
                for start in range(0, len(text), _MARK_CHARS)
            )
            # the byte offset of every character at a multiple of _MARK_CHARS, the text's end included
            slot.marks = [0, *accumulate(pieces)][: len(text) // _MARK_CHARS + 1]
        slot.marked = True
    return slot.data, slot.marks


def _byte_offset(text: str, marks: list[int], offset: int) -> int:
    """The byte offset of character ``offset`` of a text that is not ASCII."""
    mark = offset // _MARK_CHARS
    return marks[mark] + len(text[mark * _MARK_CHARS : offset].encode("utf-8"))


def _char_span(data: bytes, marks: list[int], span: tuple[int, int]) -> tuple[int, int]:
    """A match's byte span in the bytes of a text that is not ASCII, in characters."""
    if span == _NO_MATCH:
        return span
    return _char_offset(data, marks, span[0]), _char_offset(data, marks, span[1])


def _char_offset(data: bytes, marks: list[int], offset: int) -> int:
    mark = bisect_right(marks, offset) - 1
    return mark * _MARK_CHARS + len(data[marks[mark] : offset].decode("utf-8"))


def _utf8_length(lead: int) -> int:
    """Bytes of the UTF-8 character that starts with byte ``lead``."""
    return 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


def _clamped(text: str, pos: int | None, endpos: int | None) -> tuple[int, int]:
    """``pos`` and ``endpos`` bounded to ``text`` as ``re`` and the binding bound them."""
    start = 0 if pos is None else max(0, min(pos, len(text)))
    return start, len(text) if endpos is None else max(0, min(endpos, len(text)))


def _miss_first(compiled, method, anchor_name: str):
    """``method`` (RE2's ``search``/``match``/``fullmatch``) with the common case, no match in the
    whole text, answered by one call into RE2. The binding's wrapper otherwise converts offsets and
    builds a generator per call, which costs more than the matching on a typical line. An ASCII
    text that matches gets its match object from that same call (its byte offsets are its character
    offsets, so the wrapper's conversion would change nothing); any other text that matches goes
    through the kept bytes' character marks, as a positional match does."""
    binding = _binding(compiled, anchor_name)
    if binding is None:
        return method
    regexp, anchor, match_type = binding

    def first_checked(text, pos=None, endpos=None):
        if isinstance(text, str) and (pos is not None or endpos is not None):
            data, marks = _encoded(text)
            start, end = _clamped(text, pos, endpos)
            if start > end:
                return None
            if marks is None:
                spans = regexp.Match(anchor, data, start, end)
                return None if spans[0] == _NO_MATCH else match_type(compiled, text, start, end, spans)
            spans = regexp.Match(
                anchor, data, _byte_offset(text, marks, start), _byte_offset(text, marks, end)
            )
            if spans[0] == _NO_MATCH:
                return None
            return match_type(compiled, text, start, end, [_char_span(data, marks, span) for span in spans])
        if pos is None and endpos is None and isinstance(text, str):
            encoded = _utf8(text)
            spans = regexp.Match(anchor, encoded, 0, len(encoded))
            if spans[0] == _NO_MATCH:
                return None
            if len(encoded) == len(text):
                return match_type(compiled, text, 0, len(text), spans)
            _, marks = _encoded(text)
            return match_type(
                compiled, text, 0, len(text), [_char_span(encoded, marks, span) for span in spans]
            )
        return method(text, pos, endpos)

    return first_checked


def _ascii_finditer(compiled, method):
    """``finditer`` that walks an ASCII text by RE2's byte offsets directly (the binding's generator
    converts every match's offsets from bytes to characters, a no-op on ASCII); the same matches,
    in the same order, as the binding's own loop. A text that is not ASCII, searched from a position,
    goes through ``_positional_finditer``; other texts through the binding."""
    binding = _binding(compiled, "UNANCHORED")
    if binding is None:
        return method
    regexp, anchor, match_type = binding

    def finditer(text, pos=None, endpos=None):
        if not isinstance(text, str):
            yield from method(text, pos, endpos)
            return
        encoded, marks = _encoded(text)
        if marks is not None:
            if pos is None and endpos is None:  # the binding converts offsets in one pass over the text
                yield from method(text, pos, endpos)
            else:
                yield from _positional_finditer(compiled, regexp, anchor, match_type, text, pos, endpos)
            return
        start, end = _clamped(text, pos, endpos)
        if start > end:
            return
        position = start
        while True:
            spans = regexp.Match(anchor, encoded, position, end)
            if spans[0] == _NO_MATCH:
                return
            yield match_type(compiled, text, start, end, spans)
            if position == end:
                return
            # an empty match at ``position`` would match again: step one character
            position = position + 1 if position == spans[0][1] else spans[0][1]

    return finditer


def _positional_finditer(compiled, regexp, anchor, match_type, text: str, pos, endpos):
    """The binding's matches of a text that is not ASCII from ``pos`` to ``endpos``, in the same order,
    with offsets converted through the text's marks (the binding counts characters from the start of the
    text, so a loop searching from successive positions was quadratic)."""
    data, marks = _encoded(text)
    start, end = _clamped(text, pos, endpos)
    if start > end:
        return
    position, byte_end = _byte_offset(text, marks, start), _byte_offset(text, marks, end)
    while True:
        spans = regexp.Match(anchor, data, position, byte_end)
        if spans[0] == _NO_MATCH:
            return
        yield match_type(compiled, text, start, end, [_char_span(data, marks, span) for span in spans])
        if position == byte_end:
            return
        # an empty match at ``position`` would match again: step one character
        position = position + _utf8_length(data[position]) if position == spans[0][1] else spans[0][1]


def _ascii_findall(compiled, method):
    """``findall`` over ``_ascii_finditer``'s matches, with the binding's items: the whole match, the
    one group, or a tuple of the groups (an unmatched group as an empty string)."""
    finditer = _ascii_finditer(compiled, compiled.finditer)
    if finditer is compiled.finditer:
        return method
    groups = compiled.groups

    def findall(text, pos=None, endpos=None):
        if pos is not None or endpos is not None or not isinstance(text, str):
            return method(text, pos, endpos)
        items = []
        for match in finditer(text):
            spans = match._spans
            if not groups:
                start, end = spans[0]
                items.append(text[start:end])
            elif groups == 1:
                items.append("" if spans[1] == _NO_MATCH else text[spans[1][0] : spans[1][1]])
            else:
                items.append(
                    tuple("" if span == _NO_MATCH else text[span[0] : span[1]] for span in spans[1:])
                )
        return items

    return findall


_ASCII_PATHS = {"finditer": _ascii_finditer, "findall": _ascii_findall}


class _InnerMatch:
    """A match of ``BoundedPattern``'s token: group ``n`` is the compiled pattern's ``n + 1``."""

    __slots__ = ("_match",)

    def __init__(self, match) -> None:
        self._match = match

    def group(self, index: int = 0) -> str:
        return self._match.group(index + 1)

    def span(self, index: int = 0) -> tuple[int, int]:
        return self._match.span(index + 1)

    def start(self, index: int = 0) -> int:
        return self._match.start(index + 1)

    def end(self, index: int = 0) -> int:
        return self._match.end(index + 1)


class BoundedPattern:
    """``(?<![B])token(?![B])`` for RE2: a token not glued to characters of the class ``B``.

    The leading boundary is matched (and consumed) by RE2, the trailing one is checked on the
    character after the token, so two tokens one separator apart are both found. Offers the
    ``finditer``/``search``/``sub`` that detectors use, with spans of the token alone."""

    def __init__(self, token: str, boundary: str, flags: int = 0) -> None:
        self._regex = linear(f"(?:^|[^{boundary}])({token})", flags)
        self._glued = linear(f"[{boundary}]")
        self.pattern = token

    def finditer(self, text: str):
        for match in self._regex.finditer(text):
            end = match.end(1)
            if end == len(text) or not self._glued.match(text[end]):
                yield _InnerMatch(match)

    def search(self, text: str):
        return next(self.finditer(text), None)

    def sub(self, replacement, text: str) -> str:
        pieces, last = [], 0
        for match in self.finditer(text):
            start, end = match.span()
            pieces += [text[last:start], replacement(match) if callable(replacement) else replacement]
            last = end
        return "".join([*pieces, text[last:]]) if pieces else text


class _LineStarts:
    text: str | None = None
    starts: list[int] = []


def line_at(text: str, offset: int) -> int:
    """1-based line of ``offset`` in ``text``. Counting newlines per call is linear each time,
    so a file with many matches would cost quadratic time; the line starts of the last text
    seen are kept instead, and each call is a binary search."""
    if _LineStarts.text is not text:
        # after each newline: the running sum of the lengths of the pieces between them, plus one
        _LineStarts.starts = [0, *accumulate(map((1).__add__, map(len, text.split("\n")[:-1])))]
        _LineStarts.text = text
    return bisect_right(_LineStarts.starts, offset)


def line_start(text: str, offset: int) -> int:
    """Offset of the start of the line holding ``offset``, from ``line_at``'s kept line starts:
    ``text.rfind("\n", 0, offset)`` per match reads back to the line's start each time, quadratic
    for many matches on one long line."""
    line = line_at(text, offset)  # first: it replaces the kept starts when ``text`` is another text
    return _LineStarts.starts[line - 1]


# more than ``MAX_TOML_KEY_PARTS`` key parts (bare or quoted) joined by dots, as ``parse_toml`` refuses
_LONG_DOTTED_KEY = linear(
    r"""(?:(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')[ \t]*\.[ \t]*){""" + str(MAX_TOML_KEY_PARTS) + "}"
)

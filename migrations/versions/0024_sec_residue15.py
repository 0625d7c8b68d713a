"""Found secrets stored under the scanner's earlier mask are masked again with the current rule; an index
on schedules.last_scan_id

The scanner's mask (``common/scanner/textutil.py::mask_secret``) kept a secret's first 3 to 8 and last 2
or 4 characters whatever its length: ``hun******22`` of ``hunter22``. It now shows the ends only when at
least 16 characters stay hidden, else ``******``; results stored before kept the old masks in their
components' locations (snippets) and metadata (the ``secrets`` records) and in the scans' warnings until
retention removed them. The secret itself is gone, so each old mask is judged by what it shows: the old
rule kept 2 last characters only of a secret shorter than 16, and 5 or more first characters only of one
of 25 or more (the new rule shows those ends too). Any other mask loses the characters around it.
Idempotent: a bare ``******`` and a mask the new rule keeps are left as they are.

Also an index on ``schedules.last_scan_id``: the scans worker now asks of every scan whether a schedule
queued it (a scheduled scan whose creator left is not run).

Revision ID: 0024_sec_residue15
Revises: 0023_sec_residue13
Create Date: 2026-12-07 06:40:00.000000
"""

import re

import sqlalchemy as sa
from alembic import op

from common.db import JSONType

revision = "0024_sec_residue15"
down_revision = "0023_sec_residue13"
branch_labels = None
depends_on = None

MASK = "******"
# Exactly six stars: ``********`` (saved credentials' mask) and longer runs are something else.
_MASK = re.compile(r"(?<!\*)\*{6}(?!\*)")
# What a masked value's ends are made of: not a boundary of the masking rules' values; at its start not
# ``=`` or ``:`` either (``key=…``), in a URL's password not ``/``, ``:`` or ``@`` (``https://u:…@host``).
_SECRET_CHAR = re.compile(r"[^\s\"'`,;<>(){}\[\]|\\*]")
_SECRET_START = re.compile(r"[^\s\"'`,;<>(){}\[\]|\\*=:]")
_URL_SECRET_CHAR = re.compile(r"[^\s\"'`,;<>(){}\[\]|\\*=:/@]")
_KEY_CHAR = re.compile(r"[A-Za-z0-9_-]")  # a key's first characters, which no boundary character joins
BATCH = 500


def _run(text: str, start: int, step: int, pattern: re.Pattern, limit: int) -> int:
    """How many characters from ``start`` on (backwards when ``step`` is -1) match ``pattern``, at most
    ``limit``."""
    count, index = 0, start
    while count < limit and 0 <= index < len(text) and pattern.match(text[index]):
        count, index = count + 1, index + step
    return count


def _masked_again(text: str) -> str:
    """``text`` with every mask the current rule would not show as it is reduced to ``******``."""
    if MASK not in text:
        return text
    pieces, last = [], 0
    for match in _MASK.finditer(text):
        start, end = match.span()
        if start < last:
            continue
        in_url = "://" in text[:start].rsplit(None, 1)[-1] if start else False
        shown_after = _run(text, end, 1, _URL_SECRET_CHAR if in_url else _SECRET_CHAR, 64)
        key_before = _run(text, start - 1, -1, _KEY_CHAR, 64)
        shown_before = _run(text, start - 1, -1, _URL_SECRET_CHAR if in_url else _SECRET_START, 8)
        if shown_after == 0:
            continue  # the bare mask (an old one always shows its last characters), after ``key=`` say
        if shown_after == 4 and key_before >= 5:
            continue  # at least 25 characters: the current rule shows these ends too
        if shown_after == 2:  # shorter than 16: its first 3 characters and last 2
            cut_before, cut_after = min(3, shown_before), 2
        elif shown_after == 4 and key_before >= 3:  # 16 to 24 characters: its first 3 or 4 and last 4
            cut_before, cut_after = key_before, 4
        else:  # ends the old rule's shape does not explain: everything that may be the secret's
            cut_before, cut_after = shown_before, min(shown_after, 4)
        pieces += [text[last : start - cut_before], MASK]
        last = end + cut_after
    return "".join([*pieces, text[last:]]) if pieces else text


def _remasked(value):
    if isinstance(value, str):
        return _masked_again(value)
    if isinstance(value, list):
        return [_remasked(item) for item in value]
    if isinstance(value, dict):
        return {key: _remasked(item) for key, item in value.items()}
    return value


def _mask_column_values(table: str, columns: tuple[str, ...]) -> None:
    connection = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.String), *(sa.column(name, JSONType) for name in columns))
    holding_mask = sa.or_(
        *(sa.cast(rows.c[name], sa.Text).contains(MASK, autoescape=True) for name in columns)
    )
    ids = connection.execute(sa.select(rows.c.id).where(holding_mask).order_by(rows.c.id)).scalars().all()
    for offset in range(0, len(ids), BATCH):
        batch = ids[offset : offset + BATCH]
        for row in connection.execute(sa.select(rows).where(rows.c.id.in_(batch))).mappings():
            changed = {name: _remasked(row[name]) for name in columns}
            changed = {name: value for name, value in changed.items() if value != row[name]}
            if changed:
                connection.execute(sa.update(rows).where(rows.c.id == row["id"]).values(**changed))


def upgrade() -> None:
    _mask_column_values("components", ("locations", "metadata"))
    _mask_column_values("scans", ("warnings",))
    # The scans worker asks, for every scan it runs, whether a schedule queued it (``last_scan_id``).
    op.create_index("ix_schedules_last_scan_id", "schedules", ["last_scan_id"])


def downgrade() -> None:
    """The earlier masks showed more of a secret than anyone should see again: only the index goes."""
    op.drop_index("ix_schedules_last_scan_id", table_name="schedules")

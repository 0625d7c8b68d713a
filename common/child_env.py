"""The environment a process the platform starts is given: named variables only.

The API and the workers hold their secrets in the environment (``SECRET_KEY``, ``ENCRYPTION_KEY``,
``INTERNAL_API_KEY``, ``DATABASE_URL`` with its password, OIDC and n8n credentials, whatever an
operator adds). A child inherits all of it unless told otherwise, and the children here handle hostile
input: git talks to a server a tenant chose (and runs ``ssh``), the scanner's isolated workers parse a
hostile repository. So a child starts from nothing and gets the variables named here, plus its own.
"""

from __future__ import annotations

import os

# how to find programs, the locale and time zone, and where temporary files go: nothing secret
PASSED_NAMES = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR"})
PASSED_PREFIXES = ("LC_",)
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def child_environment(*, prefixes: tuple[str, ...] = (), **own: str) -> dict[str, str]:
    """The passed variables of this process (and those starting with one of ``prefixes``), then ``own``."""
    wanted = PASSED_PREFIXES + prefixes
    env = {
        name: value for name, value in os.environ.items() if name in PASSED_NAMES or name.startswith(wanted)
    }
    env.setdefault("PATH", DEFAULT_PATH)
    env.update(own)
    return env

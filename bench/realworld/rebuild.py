"""Rebuild the real-world corpus trees from the pins in bench/realworld/repos/*.json.

    .venv/bin/python bench/realworld/rebuild.py [--dest DIR] [--from DIR] [--repos DIR] [ID ...]

Without --from every repository is cloned from its GitHub URL and checked out at its pinned commit
(needs network). With --from DIR the clone source is DIR/<id>, DIR/<owner>+<name>/repo (the layout of
a fetch mirror) or DIR/<owner>+<name>, whichever exists, so no network is used. A tree that is already
at its pinned commit is left alone; a tree at another commit is checked out again. Only the pins are
committed to this repository, never the code of the repositories.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_REPOS = HERE / "repos"
DEFAULT_DEST = Path("/work/corpus-trees")


def load_pins(repos_dir: Path) -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(repos_dir.glob("*.json"))]


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], capture_output=True, text=True)


def head_commit(tree: Path) -> str | None:
    result = _git("-C", str(tree), "rev-parse", "HEAD")
    return result.stdout.strip() if result.returncode == 0 else None


def local_source(source_dir: Path, pin: dict) -> Path | None:
    owner_name = pin["url"].rstrip("/").split("github.com/", 1)[1]
    owner, name = owner_name.split("/", 1)
    for candidate in (
        source_dir / pin["id"],
        source_dir / f"{owner}+{name}" / "repo",
        source_dir / f"{owner}+{name}",
    ):
        if candidate.exists():
            return candidate
    return None


def rebuild(pin: dict, dest: Path, source_dir: Path | None) -> str:
    """Make dest/<id> a checkout of the pinned commit; return what was done."""
    tree = dest / pin["id"]
    if head_commit(tree) == pin["commit"]:
        return "up to date"
    if not tree.exists():
        source = pin["url"] if source_dir is None else local_source(source_dir, pin)
        if source is None:
            raise RuntimeError(f"{pin['id']}: no clone under {source_dir}")
        cloned = _git("clone", "--quiet", str(source), str(tree))
        if cloned.returncode != 0:
            raise RuntimeError(f"{pin['id']}: git clone failed: {cloned.stderr.strip()}")
    checked_out = _git(
        "-C", str(tree), "-c", "advice.detachedHead=false", "checkout", "--quiet", pin["commit"]
    )
    if checked_out.returncode != 0:
        fetched = _git("-C", str(tree), "fetch", "--quiet", "origin", pin["commit"])
        if fetched.returncode != 0:
            raise RuntimeError(f"{pin['id']}: commit {pin['commit']} not available: {fetched.stderr.strip()}")
        checked_out = _git(
            "-C", str(tree), "-c", "advice.detachedHead=false", "checkout", "--quiet", pin["commit"]
        )
        if checked_out.returncode != 0:
            raise RuntimeError(f"{pin['id']}: checkout failed: {checked_out.stderr.strip()}")
    return "checked out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="only these repository ids (default: all)")
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help=f"where the trees go (default {DEFAULT_DEST})"
    )
    parser.add_argument(
        "--from", dest="source", type=Path, help="existing clones or fetch mirrors (no network)"
    )
    parser.add_argument("--repos", type=Path, default=DEFAULT_REPOS, help="directory of pin files")
    args = parser.parse_args()
    args.dest.mkdir(parents=True, exist_ok=True)
    failures = 0
    for pin in load_pins(args.repos):
        if args.ids and pin["id"] not in args.ids:
            continue
        try:
            print(f"{pin['id']}: {rebuild(pin, args.dest, args.source)}")
        except RuntimeError as error:
            failures += 1
            print(error, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

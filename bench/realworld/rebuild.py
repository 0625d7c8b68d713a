"""Rebuild the real-world corpus trees from the pins in bench/realworld/repos/*.json.

    .venv/bin/python bench/realworld/rebuild.py [--dest DIR] [--from DIR] [--repos DIR] [ID ...]

Without --from every repository is cloned from its GitHub URL and checked out at its pinned commit
(needs network). With --from DIR the clone source is DIR/<id>, DIR/<owner>+<name>/repo (the layout of
a fetch mirror) or DIR/<owner>+<name>, whichever exists, so no network is used. A tree that is already
at its pinned commit is left alone; a tree at another commit is checked out again. A fetch mirror may
lack the blobs of its largest files; those paths are left out of the checkout (sparse) and named in the
output, so the tree holds every file the mirror has. Only the pins are committed to this repository,
never the code of the repositories.
"""

from __future__ import annotations

import argparse
import json
import shutil
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


def absent_blobs(tree: Path, commit: str) -> list[str]:
    """Paths of the pinned commit whose blobs the clone lacks (a mirror may omit its largest files)."""
    listing = _git("-C", str(tree), "ls-tree", "-r", "-z", commit)
    entries = [line.split("\t", 1) for line in listing.stdout.split("\0") if line]
    blobs = [(meta.split()[2], path) for meta, path in entries if meta.split()[1] == "blob"]
    checked = subprocess.run(
        ["git", "-C", str(tree), "cat-file", "--batch-check"],
        input="".join(f"{sha}\n" for sha, _ in blobs),
        capture_output=True,
        text=True,
    )
    answers = checked.stdout.splitlines()
    return [path for (_, path), answer in zip(blobs, answers, strict=True) if answer.endswith(" missing")]


def _checkout(tree: Path, commit: str) -> subprocess.CompletedProcess:
    return _git("-C", str(tree), "-c", "advice.detachedHead=false", "checkout", "--quiet", commit)


def _literal_pattern(path: str) -> str:
    """A path as a gitignore-style pattern that matches only itself."""
    return "".join(f"\\{char}" if char in "\\*?[]!# " else char for char in path)


def _checkout_without(tree: Path, commit: str, absent: list[str]) -> subprocess.CompletedProcess:
    """Check out every path except the absent ones, through a non-cone sparse checkout."""
    patterns = ["/*", *(f"!/{_literal_pattern(path)}" for path in absent)]
    subprocess.run(
        ["git", "-C", str(tree), "sparse-checkout", "set", "--no-cone", "--stdin"],
        input="\n".join(patterns) + "\n",
        capture_output=True,
        text=True,
    )
    return _checkout(tree, commit)


def check_out_pin(tree: Path, commit: str) -> str:
    if not head_commit_exists(tree, commit):
        _git("-C", str(tree), "fetch", "--quiet", "origin", commit)
    if not head_commit_exists(tree, commit):
        raise RuntimeError(f"commit {commit} not available")
    absent = absent_blobs(tree, commit)
    checked_out = _checkout_without(tree, commit, absent) if absent else _checkout(tree, commit)
    if checked_out.returncode != 0:
        raise RuntimeError(f"checkout of {commit} failed: {checked_out.stderr.strip()}")
    if absent:
        return f"checked out without {len(absent)} file(s) absent from the source: {', '.join(absent)}"
    return "checked out"


def head_commit_exists(tree: Path, commit: str) -> bool:
    return _git("-C", str(tree), "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def rebuild(pin: dict, dest: Path, source_dir: Path | None) -> str:
    """Make dest/<id> a checkout of the pinned commit; return what was done."""
    tree = dest / pin["id"]
    if head_commit(tree) == pin["commit"]:
        return "up to date"
    fresh = not tree.exists()
    if fresh:
        source = pin["url"] if source_dir is None else local_source(source_dir, pin)
        if source is None:
            raise RuntimeError(f"{pin['id']}: no clone under {source_dir}")
        cloned = _git("clone", "--quiet", "--no-checkout", str(source), str(tree))
        if cloned.returncode != 0:
            shutil.rmtree(tree, ignore_errors=True)
            raise RuntimeError(f"{pin['id']}: git clone failed: {cloned.stderr.strip()}")
    try:
        return check_out_pin(tree, pin["commit"])
    except RuntimeError as error:
        if fresh:
            shutil.rmtree(tree, ignore_errors=True)  # a half-made tree must not pass for "up to date" later
        raise RuntimeError(f"{pin['id']}: {error}") from None


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

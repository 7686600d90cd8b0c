"""The repository index: files cut at function and class boundaries (docs by heading), BM25 over their words.

    repo = RepoIndex.open(settings.cache, Path("."))     # cache/index/repo-<path key>.sqlite
    stats = repo.update(progress=bar)                   # incremental: only changed files are redone
    repo.search("where are redirects followed", k=5)    # BM25 (+ dense vectors when built)

Files: `git ls-files --cached --others --exclude-standard` in a git work tree, else a walk that skips
hidden folders and the vendored trees of plan.py; text files up to 1 MB with a known extension.
Each file's source is `file:<path>` with its content's sha256 as the version: `update` stats every
file, re-reads only those whose size or modification time changed, and re-chunks only those whose
content hash changed; deleted files are dropped. Search ranks
chunks of test files a little lower (their BM25 score times `TEST_WEIGHT`): a question asks where
the code is, and tests repeat its words. Nothing in the repository is imported or run.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..plan import VENDORED_DIRS
from ..ports import Progress
from ..redact import clean_environ
from .chunks import chunks
from .search_db import Hit, Row, SearchDb
from .text import keywords

TEXT_EXTENSIONS = {
    ".py",
    ".pyi",
    ".md",
    ".markdown",
    ".rst",
    ".txt",
    ".cfg",
    ".toml",
    ".ini",
    ".yml",
    ".yaml",
    ".js",
    ".ts",
    ".tsx",
    ".jsx",
    ".go",
    ".rs",
    ".java",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".rb",
    ".sh",
    ".sql",
    ".php",
    ".kt",
    ".swift",
    ".cs",
    ".html",
    ".css",
}
TEXT_NAMES = {"README", "LICENSE", "Makefile", "Dockerfile", "HISTORY", "CHANGELOG", "AUTHORS", "NOTICE"}
MAX_BYTES = 1_000_000
TEST_WEIGHT = 0.75  # BM25 scores of chunks in test files are scaled by this


@dataclass(frozen=True, slots=True)
class UpdateStats:
    files: int = 0
    changed: int = 0  # files (re)indexed
    removed: int = 0
    chunks: int = 0  # chunks in the index after the update
    seconds: float = 0.0
    size_bytes: int = 0


def _wanted(rel: str) -> bool:
    p = Path(rel)
    if any(part in VENDORED_DIRS or (part.startswith(".") and part not in (".",)) for part in p.parts[:-1]):
        return False
    return p.suffix.lower() in TEXT_EXTENSIONS or p.name.split(".")[0] in TEXT_NAMES


def list_files(root: Path) -> list[str]:
    """The repository's files (relative paths, '/'-separated) that the index reads."""
    if (root / ".git").exists():
        env = {**clean_environ(os.environ), "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
        for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
            env.pop(k, None)
        try:
            out = subprocess.run(
                ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                capture_output=True,
                check=True,
                timeout=120,
                env=env,
            ).stdout
            names = [n for n in out.decode("utf-8", "replace").split("\0") if n]
            return sorted(n for n in dict.fromkeys(names) if _wanted(n) and (root / n).is_file())
        except (OSError, subprocess.SubprocessError):
            pass  # not a usable git checkout: walk it
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in VENDORED_DIRS)
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")
            if _wanted(rel):
                found.append(rel)
    return sorted(found)


class RepoIndex:
    def __init__(self, store: SearchDb, root: Path) -> None:
        self.store = store
        self.root = root

    @classmethod
    def path_for(cls, cache: Path, root: Path) -> Path:
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        return cache / "index" / f"repo-{root.resolve().name}-{key}.sqlite"

    @classmethod
    def open(cls, cache: Path, root: Path) -> RepoIndex:
        if not root.is_dir():
            raise InputError(f"{root}: not a folder")
        return cls(SearchDb.open(cls.path_for(cache, root), kind="repo"), root.resolve())

    def close(self) -> None:
        self.store.close()

    def update(self, progress: Progress | None = None) -> UpdateStats:
        t0 = time.perf_counter()
        files = list_files(self.root)
        have = self.store.sources()
        present = {f"file:{f}" for f in files}
        removed = [s for s in have if s not in present]
        for s in removed:
            self.store.drop(s)
        changed = 0
        for i, rel in enumerate(files):
            if progress and i % 50 == 0:
                progress(i, len(files), rel)
            source = f"file:{rel}"
            path = self.root / rel
            try:
                st = path.stat()
            except OSError:
                continue
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
            if source in have and self.store.source_info(source) == stamp:
                continue  # unchanged since the last update
            if st.st_size > MAX_BYTES:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if b"\0" in data[:8000]:
                continue  # binary
            digest = hashlib.sha256(data).hexdigest()
            if have.get(source) == digest:
                self.store.set_source(source, digest, stamp)  # touched, same content
                continue
            self.store.drop(source)
            text = data.decode("utf-8", "replace")
            rows = [
                Row(c.kind, c.name, rel, c.start, c.end, "", c.doc, c.text, title_words=rel)
                for c in chunks(text, rel)
            ]
            self.store.add(source, rows)
            self.store.set_source(source, digest, stamp)
            changed += 1
            if changed % 200 == 0:
                self.store.commit()
        self.store.commit()
        if progress:
            progress(len(files), len(files), "done")
        size = self.store.path.stat().st_size
        return UpdateStats(
            len(files), changed, len(removed), self.store.count(), time.perf_counter() - t0, size
        )

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """BM25, with chunks of test files scaled by TEST_WEIGHT (a question asks where the code is)."""
        hits = self.store.search(keywords(query), k * 3)
        scaled = [
            Hit(h.id, h.score * (TEST_WEIGHT if is_test(h.row.path) else 1.0), h.row, h.source) for h in hits
        ]
        return sorted(scaled, key=lambda h: -h.score)[:k]


def is_test(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
    )

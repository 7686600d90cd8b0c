"""The repository index: incremental updates, static reading, search."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reviewbot.knowledge.repo import RepoIndex, list_files

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]


def make(root: Path, marker: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(1)\n")
    (root / "pkg" / "cache.py").write_text(
        '"""An LRU cache."""\n\n\ndef evict_oldest(store):\n    """Drop the least recently used key."""\n'
        "    store.popitem(last=False)\n"
    )
    (root / "README.md").write_text("# Demo\n\n## Configuration\nSet the timeout in settings.toml.\n")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.js").write_text("function evict() {}\n")


def test_update_is_incremental_and_never_imports(tmp_path: Path) -> None:
    root, marker = tmp_path / "r", tmp_path / "IMPORTED"
    make(root, marker)
    idx = RepoIndex.open(tmp_path / "cache", root)
    first = idx.update()
    assert (first.files, first.changed) == (3, 3)
    assert list_files(root) == ["README.md", "pkg/__init__.py", "pkg/cache.py"]  # vendored tree skipped
    hit = idx.search("which function evicts the least recently used key", k=1)[0]
    assert (hit.row.path, hit.row.name, hit.row.start, hit.row.end) == ("pkg/cache.py", "evict_oldest", 4, 6)
    assert idx.update().changed == 0
    # touched but unchanged content: not re-chunked
    os.utime(root / "README.md", ns=(1, 1))
    assert idx.update().changed == 0
    (root / "pkg" / "cache.py").write_text('def expire_entries(store):\n    """Expire stale entries."""\n')
    (root / "README.md").unlink()
    st = idx.update()
    assert (st.changed, st.removed) == (1, 1)
    assert idx.search("evict least recently used") == []
    assert idx.search("expire stale entries")[0].row.name == "expire_entries"
    assert idx.search("timeout configuration") == []
    assert not marker.exists()


def test_git_work_tree_lists_tracked_and_untracked_not_ignored(tmp_path: Path) -> None:
    root = tmp_path / "g"
    make(root, tmp_path / "M")
    (root / ".gitignore").write_text("secret.md\n")
    (root / "secret.md").write_text("# hidden\n")
    subprocess.run([*GIT, "init", "-q"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "README.md"], cwd=root, check=True)
    assert list_files(root) == ["README.md", "pkg/__init__.py", "pkg/cache.py"]

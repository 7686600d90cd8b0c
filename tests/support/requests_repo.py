"""A real two-commit git repository for tests: requests v2.25.1, then v2.32.3 on top of it.

    from support.requests_repo import REQUESTS_DIFF, make_requests_repo, requests_available
    repo = make_requests_repo(tmp_path)   # tmp_path/"requests", HEAD = v2.32.3, HEAD~1 = v2.25.1

Built from the release tarballs under ``../shared/data/repos`` (a few seconds). Tests should skip
when ``requests_available()`` is False. The matching reference diff made by git from the real
history is ``REQUESTS_DIFF``. Git runs with the user's global and system configuration switched off,
so the result does not depend on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
OLD_TARBALL = _SHARED / "repos" / "requests-v2.25.1.tar.gz"
NEW_TARBALL = _SHARED / "repos" / "requests-v2.32.3.tar.gz"
REQUESTS_DIFF = _SHARED / "diffs" / "real" / "requests-v2.25.1..v2.32.3.diff"

__all__ = [
    "NEW_TARBALL",
    "OLD_TARBALL",
    "REQUESTS_DIFF",
    "SESSIONS",
    "git",
    "make_release_repo",
    "make_requests_repo",
    "make_strip_auth_change",
    "requests_available",
]


def requests_available() -> bool:
    return OLD_TARBALL.is_file() and NEW_TARBALL.is_file()


def git(repo: Path, *args: str) -> None:
    """git in `repo` with a fixed identity, and the user's and the machine's configuration off."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
    for k in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(k, None)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.autocrlf=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        check=True,
        capture_output=True,
        env=env,
    )


def _extract(tarball: Path, dest: Path) -> None:
    """Unpack the tarball's single top-level folder (``requests/``) into ``dest``."""
    staging = dest.parent / f".unpack-{tarball.stem}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with tarfile.open(tarball) as tf:
        tf.extractall(staging, filter="tar")
    (top,) = list(staging.iterdir())
    for item in top.iterdir():
        shutil.move(str(item), dest / item.name)
    shutil.rmtree(staging)


def make_release_repo(repo: Path, *tarballs: Path) -> Path:
    """``repo``, created: one commit per release tarball in the order given, each holding exactly that
    release's tree, its message the version (``v2.32.3``)."""
    repo.mkdir()
    git(repo, "init", "-q")
    for i, tarball in enumerate(tarballs):
        if i:
            for item in repo.iterdir():
                if item.name == ".git":
                    continue
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item)
                else:
                    item.unlink()
        _extract(tarball, repo)
        git(repo, "add", "-A", "-f")
        version = tarball.name.removeprefix("requests-").removesuffix(".tar.gz")
        git(repo, "commit", "-q", "--no-verify", "-m", version)
    return repo


def make_requests_repo(tmp_path: Path) -> Path:
    """``tmp_path/requests``: commit 1 is v2.25.1, commit 2 (HEAD, branch main) is v2.32.3."""
    return make_release_repo(tmp_path / "requests", OLD_TARBALL, NEW_TARBALL)


# The change's tests. One line of ``should_strip_auth`` changed: credentials are kept
# across a host change, which requests' own test_should_strip_auth_host_change catches.
SESSIONS = "src/requests/sessions.py"
STRIP_AUTH_OLD = "        if old_parsed.hostname != new_parsed.hostname:\n            return True\n"
STRIP_AUTH_NEW = "        if old_parsed.hostname != new_parsed.hostname:\n            return False\n"


def make_strip_auth_change(tmp_path: Path) -> Path:
    """``tmp_path/requests``: commit 1 (HEAD~1) is v2.32.3, commit 2 (HEAD) keeps credentials
    across a host change in ``SessionRedirectMixin.should_strip_auth``."""
    repo = make_release_repo(tmp_path / "requests", NEW_TARBALL)
    path = repo / SESSIONS
    text = path.read_text(encoding="utf-8")
    assert STRIP_AUTH_OLD in text
    path.write_text(text.replace(STRIP_AUTH_OLD, STRIP_AUTH_NEW, 1), encoding="utf-8")
    git(repo, "commit", "-q", "--no-verify", "-am", "keep the Authorization header on redirects")
    return repo

"""Helpers for the GitHub tests: a git checkout rebuilt from a diff, a scripted route, a client for the
stand-in."""

from __future__ import annotations

import gzip
import re
import subprocess
from dataclasses import replace
from pathlib import Path

from reviewbot.hosts.github.client import GitHubClient
from reviewbot.hosts.github.retry import POLICY
from reviewbot.model import ChangeSet, Finding, LineKind, Location, Severity, Side, WorkItem
from reviewbot.ports import RouteOutcome

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "diffs" / "real"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def real_diffs() -> list[Path]:
    """The real diffs; none (so the replay tests are skipped) in a clone without ../shared beside it."""
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.iterdir() if p.name.endswith((".diff", ".diff.gz")))


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def client(
    standin, *, sleep=None, attempts: int = 6, budget: float = 900.0, waits: list[float] | None = None
) -> GitHubClient:
    record = waits if waits is not None else []
    return GitHubClient(
        standin.token,
        base_url=standin.url,
        policy=replace(POLICY, attempts=attempts, budget_s=budget),
        seconds_between_writes=0,
        sleep=sleep or record.append,
        seed=0,
    )


def _git(repo: Path, *args: str, data: bytes | None = None) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    out = subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args],
        cwd=repo,
        env=env,
        input=data,
        capture_output=True,
        check=True,
    )
    return out.stdout.decode("utf-8", "replace").strip()


def _sections(data: bytes) -> list[bytes]:
    parts = re.split(rb"(?m)^(?=diff --git )", data)
    return [p for p in parts if p.startswith(b"diff --git ")]


def checkout_from_diff(data: bytes, repo: Path) -> tuple[str, str]:
    """A git repository whose base commit holds the old side of ``data`` (unknown lines filled with
    unique filler) and whose head commit is that with the diff applied. Binary, symlink and submodule
    sections are left out. Returns (base, head)."""
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    keep: list[bytes] = []
    for sec in _sections(data):
        head = sec.split(b"\n@@", 1)[0]
        if b"Binary files" in head or b"GIT binary patch" in head or b"120000" in head or b"160000" in head:
            continue
        keep.append(sec)
        text = sec.decode("utf-8", "surrogateescape").split("\n")
        old_path = None
        executable = False
        new_file = False
        for ln in text[:8]:
            if ln.startswith("new file mode"):
                new_file = True
            if ln.startswith(("old mode 100755", "deleted file mode 100755", "index ")) and ln.endswith(
                "100755"
            ):
                executable = True
            if ln.startswith("old mode 100755"):
                executable = True
            if ln.startswith("rename from "):
                old_path = ln[len("rename from ") :]
            if ln.startswith("--- a/"):
                old_path = ln[len("--- a/") :].split("\t")[0]
        if new_file:
            continue
        if old_path is None:
            m = re.match(r"diff --git a/(.*) b/", text[0])
            old_path = m.group(1) if m else None
        if old_path is None:
            continue
        lines: dict[int, str] = {}
        no_eol_at = None
        i = 0
        while i < len(text):
            m = _HUNK.match(text[i])
            if not m:
                i += 1
                continue
            o, olen = int(m.group(1)), int(m.group(2)) if m.group(2) is not None else 1
            nlen = int(m.group(4)) if m.group(4) is not None else 1
            i += 1
            last_old = None
            while (olen > 0 or nlen > 0) and i < len(text):
                t = text[i]
                c = t[:1]
                if c == "+":
                    nlen -= 1
                    last_old = None
                elif c == "\\":
                    if last_old is not None:
                        no_eol_at = last_old
                else:
                    lines[o] = t[1:]
                    last_old = o
                    o += 1
                    olen -= 1
                    if c != "-":
                        nlen -= 1
                i += 1
            if i < len(text) and text[i].startswith("\\") and last_old is not None:
                no_eol_at = last_old
        top = max(lines) if lines else 0
        body = "\n".join(lines.get(k, f"filler line {k} of {old_path}") for k in range(1, top + 1))
        if top and no_eol_at != top:
            body += "\n"
        p = repo / old_path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body.encode("utf-8", "surrogateescape"))
        if executable:
            p.chmod(0o755)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "apply", "--index", "--whitespace=nowarn", "-", data=b"".join(keep))
    _git(repo, "commit", "-q", "--allow-empty", "-m", "head")
    return base, _git(repo, "rev-parse", "HEAD")


def git_diff(repo: Path, base: str, head: str) -> bytes:
    """What GitHub shows for the PR: git diff BASE...HEAD (raw git, not reviewbot's source)."""
    return subprocess.run(
        ["git", "diff", "--no-color", "--find-renames", f"{base}...{head}"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout


class ScriptedRoute:
    """A review route that comments on real lines of each work item: a one-line finding with a fix that
    holds triple backticks, a three-line range, a removed line, and one line far outside the diff."""

    name = "review"

    def __init__(self, per_item: int = 4) -> None:
        self.per_item = per_item
        self.items = 0

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        self.items += 1
        path = item.path
        out: list[Finding] = []
        for h in item.hunks:
            added = [ln for ln in h.lines if ln.kind is LineKind.ADDED]
            removed = [ln for ln in h.lines if ln.kind is LineKind.REMOVED]
            if added:
                ln = added[0]
                fix = ln.text + "  # see ```code``` here"
                out.append(
                    Finding(
                        Location(path, Side.RIGHT, ln.new_no),
                        Severity.WARNING,  # type: ignore[arg-type]
                        f"line {ln.new_no}: `{ln.text[:30]}` looks wrong",
                        "model/bug",
                        "review",
                        suggestion=fix,
                    )
                )
            run = [ln for ln in h.lines if ln.kind is not LineKind.REMOVED][-3:]
            if len(run) == 3:
                out.append(
                    Finding(
                        Location(path, Side.RIGHT, run[-1].new_no, run[0].new_no),
                        Severity.ERROR,  # type: ignore[arg-type]
                        f"these three lines end at {run[-1].new_no}",
                        "model/range",
                        "review",
                    )
                )
            if removed:
                out.append(
                    Finding(
                        Location(path, Side.LEFT, removed[-1].old_no),
                        Severity.INFO,  # type: ignore[arg-type]
                        f"removed line {removed[-1].old_no} was needed",
                        "model/removed",
                        "review",
                    )
                )
            if len(out) >= self.per_item:
                break
        out.append(
            Finding(
                Location(path, Side.RIGHT, 10_000_000),
                Severity.WARNING,
                "far outside the diff",
                "model/outside",
                "review",
            )
        )
        return RouteOutcome(findings=tuple(out))

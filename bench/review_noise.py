"""How much of what the review reports would a reviewer keep? Reviews real changes as git ranges
and prints the findings per rule, per kind of file and per severity, and how many are shown
(inline, or as grouped comments) against how many are only listed, for two versions of reviewbot.

    python bench/review_noise.py                          # this checkout ("after") only
    python bench/review_noise.py --before 271cb45         # and that commit of reviewbot ("before")
    python bench/review_noise.py --template out.json      # the shown findings, to judge by hand
    python bench/review_noise.py --judged bench/data/review_noise_judged.json   # the kept share

The changes, each a two-commit git repository built in a temporary folder from the release
tarballs in ../shared/data/repos:

- ``requests-v2.25.1..v2.32.3``: the real release range (106 files, +5,462/-3,060 lines);
- planted bugs on v2.32.3 (``PLANTS``): one-line edits that requests' own offline tests catch, one
  undefined name that ruff catches, and a correct change that adds a test starting requests' own
  test server on ``localhost`` (it must pass in the sandbox: no finding).

Each range is reviewed by the CLI in a subprocess, ``review --git HEAD~1..HEAD --format json``
with ``--backend none`` (``--backend local`` adds the embedded model: slow on a CPU), from this
checkout or from ``git archive`` of ``--before`` (PYTHONPATH), with that version's defaults.
"Shown" is what a pull request would get inline: the first ``--inline`` (30, the default
``hosts.max_inline``) findings in the order the host plans them (the "after" version ranks and
groups them and lists style findings only; the "before" version posted by severity, then path and
line); "listed" is the rest,
one line each in the review body or summary. The kind of file (tests, docs, examples, reexports,
code) is this checkout's default ``file_kinds``.

A judged sample (``--judged``) holds each shown finding with ``keep`` (true/false) and the reason;
the script prints the kept share of the findings it matches (by range, path, line and rule).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.requests_repo import NEW_TARBALL as NEW  # noqa: E402
from support.requests_repo import OLD_TARBALL as OLD  # noqa: E402
from support.requests_repo import git, make_release_repo  # noqa: E402

from reviewbot.profiles import Profiles  # noqa: E402 - after the path is set
from reviewbot.triage import STYLE_RULES  # noqa: E402

SHARED = OLD.parent
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Plant:
    name: str
    path: str
    old: str
    new: str
    expect: str  # what a reviewer should get


TEST_SERVER_TEST = '''

def test_echoes_the_request_line_on_localhost():
    """a new test that starts requests' own test server on localhost and talks to it"""
    close_server = threading.Event()
    server = Server.basic_response_server(wait_to_close_event=close_server)

    with server as (host, port):
        r = requests.get(f"http://{host}:{port}/echo")
        close_server.set()

    assert host == "localhost"
    assert r.status_code == 200
'''

PLANTS = (
    Plant(
        "strip-auth",
        "src/requests/sessions.py",
        "        if old_parsed.hostname != new_parsed.hostname:\n            return True\n",
        "        if old_parsed.hostname != new_parsed.hostname:\n            return False\n",
        "test_should_strip_auth_host_change fails on the changed line",
    ),
    Plant(
        "case-insensitive-get",
        "src/requests/structures.py",
        "        return self._store[key.lower()][1]\n",
        "        return self._store[key.lower()][0]\n",
        "TestCaseInsensitiveDict tests fail on the changed line",
    ),
    Plant(
        "auth-from-url",
        "src/requests/utils.py",
        "        auth = (unquote(parsed.username), unquote(parsed.password))\n",
        "        auth = (unquote(parsed.password), unquote(parsed.username))\n",
        "test_get_auth_from_url fails on the changed line",
    ),
    Plant(
        "utf32-byte-order",
        "src/requests/utils.py",
        '        if sample[:3] == _null3:\n            return "utf-32-be"\n',
        '        if sample[:3] == _null3:\n            return "utf-32-le"\n',
        "TestGuessJSONUTF fails on the changed line",
    ),
    Plant(
        "undefined-name",
        "src/requests/utils.py",
        "    no_proxy_arg = no_proxy\n",
        "    no_proxy_arg = no_proxies\n",
        "ruff F821 on the changed line (and the tests that reach it fail)",
    ),
    Plant(
        "new-localhost-test",
        "tests/test_lowlevel.py",
        "",
        TEST_SERVER_TEST,
        "nothing: the new test passes in the sandbox",
    ),
)


def release_range(work: Path) -> Path:
    return make_release_repo(work / "requests-release", OLD, NEW)


def planted_range(work: Path, plant: Plant) -> Path:
    repo = make_release_repo(work / f"requests-{plant.name}", NEW)
    path = repo / plant.path
    text = path.read_text(encoding="utf-8")
    if plant.old:
        assert text.count(plant.old) == 1, f"{plant.name}: the planted line is not in {plant.path} once"
        text = text.replace(plant.old, plant.new)
    else:
        text += plant.new
    path.write_text(text, encoding="utf-8")
    git(repo, "commit", "-q", "--no-verify", "-am", plant.name)
    return repo


def code_of(rev: str, work: Path) -> Path:
    """``git archive`` of reviewbot at ``rev`` (its package only) in ``work``."""
    dest = work / f"reviewbot-{rev}"
    dest.mkdir()
    tar = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "reviewbot"], check=True, capture_output=True
    )
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as tf:
        tf.extractall(dest, filter="data")
    return dest


def review(repo: Path, code: Path, backend: str) -> tuple[dict, float]:
    out = repo.parent / f"{repo.name}-{code.name}.json"
    argv = [
        sys.executable,
        "-m",
        "reviewbot.platforms.cli",
        "review",
        "--git",
        "HEAD~1..HEAD",
        "--backend",
        backend,
        "--format",
        "json",
        "-o",
        str(out),
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    res = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if res.returncode not in (0, 1) or not out.is_file():
        raise SystemExit(f"review of {repo.name} with {code} failed ({res.returncode}): {res.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8")), seconds


_SEV = {"error": 2, "warning": 1, "info": 0}


def _style(f: dict) -> bool:  # triage.tier 2, on the JSON report's fields
    evidence = f["severity"] == "error" or f["source"] == "pytest"
    return not evidence and (f["severity"] == "info" or f["rule"] in STYLE_RULES)


def shown_of(report: dict, inline: int, ranked: bool) -> list[dict]:
    """The findings a pull request gets inline: the first ``inline`` in the host's order (after the
    ranking, style findings are listed only)."""
    found = list(report["findings"])
    if not ranked:  # the host's order before the ranking: severity, then path and line
        found.sort(key=lambda f: (-_SEV[f["severity"]], f["path"], f["line"]))
        return found[:inline]
    return [f for f in found if not _style(f)][:inline]


def counts(findings: list[dict], profiles: Profiles) -> dict[str, Counter]:
    return {
        "rule": Counter(f["rule"] for f in findings),
        "kind": Counter(profiles.kind_of(f["path"]) for f in findings),
        "severity": Counter(f["severity"] for f in findings),
    }


def table(title: str, columns: dict[str, Counter], limit: int = 25) -> list[str]:
    keys = sorted(
        {k for c in columns.values() for k in c}, key=lambda k: -max(c[k] for c in columns.values())
    )
    head = f"  {title:<34}" + "".join(f"{name:>14}" for name in columns)
    rows = [head] + [f"  {k:<34}" + "".join(f"{c[k]:>14}" for c in columns.values()) for k in keys[:limit]]
    if len(keys) > limit:
        rows.append(f"  ... {len(keys) - limit} more")
    return rows


def env_notes(report: dict) -> list[str]:
    wanted = ("not run here", "share of the budget", "time budget", "fail the same way", "file(s) run")
    return [n for n in report["notes"] if any(w in n for w in wanted)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--before", help="a git revision of reviewbot to compare with (its package, by git archive)"
    )
    ap.add_argument("--backend", default="none", choices=("none", "local"))
    ap.add_argument("--inline", type=int, default=30, help="inline comments per review (hosts.max_inline)")
    ap.add_argument("--only", help="review only the ranges whose name contains this")
    ap.add_argument("--template", type=Path, help="write the shown findings (after) here, to judge")
    ap.add_argument("--judged", type=Path, help="a judged sample: print the kept share of the shown findings")
    args = ap.parse_args()
    if not (OLD.is_file() and NEW.is_file()):
        print(f"the requests tarballs are not in {SHARED}", file=sys.stderr)
        return 2
    profiles = Profiles()
    judged = json.loads(args.judged.read_text()) if args.judged else None
    template: list[dict] = []
    kept_all = judged_all = 0
    print(
        f"reviewbot noise bench: --backend {args.backend}, inline budget {args.inline}, python "
        f"{sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="review-noise-") as tmp:
        work = Path(tmp)
        versions = {"after": ROOT}
        if args.before:
            versions = {"before": code_of(args.before, work), "after": ROOT}
        ranges = [("requests-v2.25.1..v2.32.3", release_range, "")]
        ranges += [(f"planted:{p.name}", lambda w, p=p: planted_range(w, p), p.expect) for p in PLANTS]
        for name, build, expect in ranges:
            if args.only and args.only not in name:
                continue
            repo = build(work)
            print(f"\n== {name}" + (f"  (expected: {expect})" if expect else ""))
            reports = {label: review(repo, code, args.backend) for label, code in versions.items()}
            cols_all: dict[str, dict[str, Counter]] = {}
            cols_shown: dict[str, dict[str, Counter]] = {}
            for label, (report, seconds) in reports.items():
                shown = shown_of(report, args.inline, ranked=label == "after")
                found = report["findings"] + [u["finding"] for u in report["unanchored"]]
                tests = [f for f in found if f["rule"].startswith("pytest/")]
                by_sev = counts(found, profiles)["severity"]
                print(
                    f"  {label}: {len(found)} findings "
                    f"({', '.join(f'{by_sev[s]} {s}' for s in SEVERITIES)}); "
                    f"shown inline {len(shown)}, listed {len(found) - len(shown)}; "
                    f"pytest findings {len(tests)}; {seconds:.0f} s"
                )
                for f in tests:
                    print(
                        f"    {label} pytest: {f['path']}:{f['line']} {' '.join(f['message'].split())[:160]}"
                    )
                for n in env_notes(report):
                    print(f"    {label} note: {n[:300]}")
                c_all, c_shown = counts(found, profiles), counts(shown, profiles)
                for key in c_all:
                    cols_all.setdefault(key, {})[f"{label} all"] = c_all[key]
                    cols_shown.setdefault(key, {})[f"{label} shown"] = c_shown[key]
            for key in ("severity", "kind", "rule"):
                print("\n".join(table(f"per {key}", {**cols_all[key], **cols_shown[key]})))
            after, _ = reports["after"]
            for i, f in enumerate(shown_of(after, args.inline, ranked=True)):
                entry = {
                    "range": name,
                    "rank": i + 1,
                    "path": f["path"],
                    "line": f["line"],
                    "rule": f["rule"],
                    "severity": f["severity"],
                    "message": " ".join(f["message"].split())[:400],
                }
                template.append({**entry, "keep": None, "reason": ""})
                if judged is not None:
                    match = [
                        j
                        for j in judged["findings"]
                        if (j["range"], j["path"], j["line"], j["rule"])
                        == (name, f["path"], f["line"], f["rule"])
                    ]
                    if match and match[0]["keep"] is not None:
                        judged_all += 1
                        kept_all += bool(match[0]["keep"])
                        mark = "keep" if match[0]["keep"] else "NOT KEPT"
                        print(f"    judged {mark}: {f['path']}:{f['line']} {f['rule']}: {match[0]['reason']}")
                    else:
                        print(f"    not judged: {f['path']}:{f['line']} {f['rule']}")
    if args.template:
        args.template.write_text(json.dumps({"findings": template}, indent=2, ensure_ascii=False) + "\n")
        print(f"\nwrote {len(template)} shown findings to {args.template}")
    if judged is not None:
        share = kept_all / judged_all if judged_all else 0.0
        print(f"\njudged sample: {kept_all} of {judged_all} shown findings kept ({share:.0%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

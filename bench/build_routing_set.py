"""Build bench/data/routing.jsonl, the labelled routing set, from ../shared/data, deterministically.

The labelling rule is mechanical and written down in bench/data/ROUTING.md; this script is its
only implementation. Same data + same seed = byte-identical output.

    .venv/bin/python bench/build_routing_set.py \\
        [--data ../shared/data] [--seed 0] [--out bench/data/routing.jsonl]
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import io
import json
import random
import re
import sys
import tarfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.diff.parse import parse_diff
from reviewbot.model import FileDiff, LineKind
from reviewbot.plan import hunk_text

MAX_CHARS = 3500  # an item is a run of a file's hunks of at most this many characters (about 1000 tokens)
TARGETS = {"review": 60, "interpreter": 50, "search": 40, "tools": 50, "repo_qa": 50}
REAL_DIFFS = (
    "flask-0.12.5..3.1.3.diff",
    "requests-v2.25.1..v2.32.3.diff",
    "flask-pr-5761.diff",
    "flask-pr-5832.diff",
    "flask-pr-5833.diff",
    "flask-pr-5864.diff",
    "flask-pr-5984.diff",
    "flask-pr-5996.diff",
)  # flask-pr-5767 is mostly deletions, flask-pr-5772 a vendored tree: not used
QA_REPO = "requests-v2.32.3.tar.gz"

TEST_DIRS = {"test", "tests", "testing"}
TEST_NAMES = ("test_*.py", "*_test.py", "conftest.py")
TOOL_CONFIGS = (
    ".pre-commit-config.yaml",
    "tox.ini",
    ".flake8",
    "pytest.ini",
    ".coveragerc",
    "mypy.ini",
    ".pylintrc",
    ".travis.yml",
    ".github/workflows/*",
)
DEP_FILES = (
    "*requirements*.txt",
    "*requirements*.in",
    "requirements/*",
    "setup.py",
    "Pipfile",
    "constraints*.txt",
)
DEP_LINE = re.compile(
    r"install_requires|extras_require|python_requires|^\s*dependencies\s*=|^\s*requires\s*="
    r"|^\s*\"?[A-Za-z0-9_.\-]+(\[[^\]]*\])?\s*(==|>=|<=|~=|!=|<|>)"
)
IMPORT = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)")
DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    text: str
    path: str
    label: str
    source: str
    rule: str

    def json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "kind": self.kind,
                "text": self.text,
                "path": self.path,
                "label": self.label,
                "source": self.source,
                "rule": self.rule,
            },
            ensure_ascii=False,
        )


def is_test(path: str) -> bool:
    parts = path.split("/")
    return any(p in TEST_DIRS for p in parts[:-1]) or any(fnmatch.fnmatch(parts[-1], g) for g in TEST_NAMES)


def item_texts(f: FileDiff) -> list[str]:
    """The file cut like plan() cuts it: runs of whole consecutive hunks of at most MAX_CHARS each
    (as unified-diff hunk text); a single hunk larger than that is left out."""
    pieces, cur = [], ""
    for h in f.hunks:
        t = hunk_text(h)
        if len(t) > MAX_CHARS:
            if cur:
                pieces.append(cur)
            cur = ""
            continue
        if cur and len(cur) + len(t) > MAX_CHARS:
            pieces.append(cur)
            cur = ""
        cur += t
    if cur:
        pieces.append(cur)
    return pieces


def changed(text: str, mark: str) -> list[str]:
    return [ln[1:] for ln in text.splitlines() if ln.startswith(mark) and not ln.startswith("@@")]


PY2_STDLIB = {
    "urlparse",
    "urllib2",
    "httplib",
    "cookielib",
    "StringIO",
    "cPickle",
    "ConfigParser",
    "Queue",
    "__builtin__",
    "HTMLParser",
    "htmlentitydefs",
    "Cookie",
    "xmlrpclib",
    "SocketServer",
}


def label_diff(
    path: str, text: str, own: set[str], test_text: str, is_bug_case: bool
) -> tuple[str, str] | None:
    """(label, rule) for one file's item text, first matching rule wins; None = not used."""
    name = path.rsplit("/", 1)[-1]
    added, removed = changed(text, "+"), changed(text, "-")
    if is_test(path):
        return "tools", "T1 test file"
    if any(fnmatch.fnmatch(path, g) or fnmatch.fnmatch(name, g) for g in TOOL_CONFIGS):
        return "tools", "T2 lint/test/CI configuration"
    if any(fnmatch.fnmatch(path, g) or fnmatch.fnmatch(name, g) for g in DEP_FILES):
        return "search", "S1 dependency file"
    if name in ("setup.cfg", "pyproject.toml"):
        if any(DEP_LINE.search(ln) for ln in added + removed):
            return "search", "S1 dependency lines in setup.cfg/pyproject.toml"
        return None
    if not path.endswith(".py"):
        return None
    own = own | {"__future__", "tests", "conftest"}
    old_imports = {m.group(1) for ln in removed if (m := IMPORT.match(ln))}
    new_imports = {m.group(1) for ln in added if (m := IMPORT.match(ln))} - old_imports
    third = sorted(
        n
        for n in new_imports
        if n not in sys.stdlib_module_names and n not in PY2_STDLIB and n not in own and not n.startswith("_")
    )
    if third:
        return "search", f"S2 new third-party import ({', '.join(third)})"
    old_defs = {m.group(1) for ln in removed if (m := DEF.match(ln))}
    new_defs = sorted({m.group(1) for ln in added if (m := DEF.match(ln))} - old_defs)
    untested = [d for d in new_defs if not re.search(rf"\b{re.escape(d)}\b", test_text)]
    if new_defs and not untested:
        return None  # every new function is named in the change's test files: ambiguous, not used
    if untested:
        return "interpreter", f"I1 new function named in no test file of the change ({', '.join(untested)})"
    if is_bug_case:
        return "review", "R1 review-bugs bug case"
    return None


def own_packages(path: str) -> set[str]:
    """The project's own top-level names a file path shows: its first directory, the directory
    after `src/` or `lib/`, and the directory of a changed `__init__.py`."""
    parts = path.split("/")
    own = {parts[0]} if len(parts) > 1 else set()
    own |= {parts[i + 1] for i, p in enumerate(parts[:-2]) if p in ("src", "lib")}
    if parts[-1] == "__init__.py" and len(parts) > 1:
        own.add(parts[-2])
    return own


def diff_items(data: Path) -> Iterator[Item]:
    bugs = data / "review-bugs"
    sources = [
        (p / "change.diff", f"review-bugs/{p.name}", p.name.endswith("-bug")) for p in sorted(bugs.iterdir())
    ]
    sources += [(data / "diffs" / "real" / n, f"diffs/real/{n}", False) for n in REAL_DIFFS]
    for diff_path, source, is_bug in sources:
        files = parse_diff(diff_path.read_text(encoding="utf-8", errors="replace"), name=str(diff_path))
        own = set().union(*(own_packages(f.path) for f in files)) if files else set()
        test_text = "\n".join(
            ln.text
            for f in files
            if is_test(f.path)
            for h in f.hunks
            for ln in h.lines
            if ln.kind is not LineKind.CONTEXT
        )
        for f in files:
            if f.is_binary or not f.hunks:
                continue
            texts = item_texts(f)
            for n, text in enumerate(texts, 1):
                got = label_diff(f.path, text, own, test_text, is_bug)
                if got is not None:
                    suffix = f"#{n}" if len(texts) > 1 else ""
                    yield Item(f"{source}:{f.path}{suffix}", "diff", text, f.path, got[0], source, got[1])


def _first_sentence(doc: str) -> str | None:
    para = " ".join(doc.strip().split("\n\n")[0].split())
    para = re.sub(r":(?:class|func|meth|attr|data|exc|mod):`~?([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", para)
    para = para.replace("``", "").replace("`", "")
    s = re.split(r"(?<=[a-z)])\.\s", para + " ")[0].strip().rstrip(".")
    if not 12 <= len(s) <= 110 or s.startswith((":", ">>>", "Usage")):
        return None
    return s


NOT_VERBS = {"this", "is", "has", "was", "its", "as", "does", "thus", "alias", "bonus", "status", "always"}


def _question(rng: random.Random, qual: str, summary: str) -> str:
    first, _, rest = summary.partition(" ")
    low = first.lower()
    if (
        low.endswith("s") and not low.endswith("ss") and low not in NOT_VERBS and rest
    ):  # "Returns ...", "Constructs ..."
        phrasing = rng.choice(
            (
                "Where is the code that {v} {r}?",
                "Which function {v} {r}?",
                "Is there already a helper that {v} {r}?",
                "In which module does requests {v0} {r}?",
            )
        )
        return phrasing.format(v=low, r=rest, v0=low[:-1] if not low.endswith("ies") else low[:-3] + "y")
    return rng.choice(
        (
            "What does `{q}` do?",
            "How does `{q}` work?",
            "Why does `{q}` exist, and where is it used?",
            "Can you explain what `{q}` is for?",
        )
    ).format(q=qual)


def question_items(data: Path, rng: random.Random) -> Iterator[Item]:
    """Questions written from the docstrings of requests' own modules (not its tests)."""
    source = f"repos/{QA_REPO}"
    with tarfile.open(data / "repos" / QA_REPO) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        for m in members:
            if not (m.name.startswith("requests/src/requests/") and m.name.endswith(".py")):
                continue
            path = m.name.removeprefix("requests/")
            fobj = tar.extractfile(m)
            assert fobj is not None
            tree = ast.parse(io.TextIOWrapper(fobj, encoding="utf-8").read())
            for qual, node in _documented(tree):
                summary = _first_sentence(ast.get_docstring(node) or "")
                if summary is None:
                    continue
                text = _question(rng, qual, summary)
                yield Item(
                    f"{source}:{path}:{qual}",
                    "question",
                    text,
                    path,
                    "repo_qa",
                    source,
                    "Q1 docstring question",
                )


def _documented(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    for node in tree.body:
        if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ) and not node.name.startswith("_"):
            yield node.name, node
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not sub.name.startswith(
                        "_"
                    ):
                        yield f"{node.name}.{sub.name}", sub


def build(data: Path, seed: int) -> tuple[list[Item], Counter]:
    rng = random.Random(seed)
    pool: dict[str, list[Item]] = {label: [] for label in TARGETS}
    seen: set[str] = set()
    for it in [*diff_items(data), *question_items(data, rng)]:
        key = hashlib.sha256(it.text.encode()).hexdigest()
        if key in seen:  # identical text (a file changed the same way twice): keep the first
            continue
        seen.add(key)
        pool[it.label].append(it)
    available = Counter({label: len(items) for label, items in pool.items()})
    chosen: list[Item] = []
    for label, n in TARGETS.items():
        items = sorted(pool[label], key=lambda it: it.id)
        chosen += rng.sample(items, min(n, len(items)))
    return sorted(chosen, key=lambda it: (it.label, it.id)), available


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "data" / "routing.jsonl")
    args = ap.parse_args()
    items, available = build(args.data, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(it.json() + "\n" for it in items), encoding="utf-8")
    by_label = Counter(it.label for it in items)
    by_rule = Counter(it.rule.split(" (")[0] for it in items)
    by_src = Counter(
        it.source.split("/")[0] + ("/" + it.source.split("/")[1] if it.source.startswith("diffs") else "")
        for it in items
    )
    print(f"{len(items)} items -> {args.out}")
    for label in TARGETS:
        print(f"  {label:12s} {by_label[label]:4d} chosen of {available[label]} candidates")
    for rule, n in sorted(by_rule.items()):
        print(f"  rule {rule:50s} {n:4d}")
    for src, n in sorted(by_src.items()):
        print(f"  source {src:48s} {n:4d}")


if __name__ == "__main__":
    main()

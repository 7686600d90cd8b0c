"""Retrieval benchmarks for the search and repo_qa routes (docs/benchmarks.md, "Search and repository
retrieval").

    python bench/search_retrieval.py [--no-vectors] [--out DIR]

On the requests repository made from ../shared/data/repos (v2.25.1, then v2.32.3 on top) and the
standard library of this interpreter:

1. Documentation retrieval. The API uses on the added lines of the v2.25.1..v2.32.3 diff (every
   .py work item of the plan; the same extraction as the search route, `requests` itself internal).
   The right entry of each use is found by an oracle that the index never uses: this script
   imports the installed package and asks Python where the object is defined
   (`inspect.getmodule(obj).__name__` + `__qualname__`). Uses the oracle cannot place (constants,
   C builtins) are left out and counted. recall@5 is over `DocsIndex.lookup` (what the route reads:
   the resolved entry first, then BM25) and over BM25 alone (`DocsIndex.search`).
2. Repository retrieval: bench/data/repo_questions.jsonl, made by the rule in
   bench/data/REPO_QUESTIONS.md from the v2.32.3 docstrings; recall@5 of the file that holds the
   answer, BM25 alone and BM25 + MiniLM vectors (RRF), counted two ways: among the files of the top
   5 chunks, and among the first 5 distinct files of the ranking.
   A harder variant (`--stripped`, as CodeSearchNet does): the same questions against an index of a
   copy of the repository whose `src/requests` docstrings are removed (each replaced by `pass` and
   blank lines, so line numbers stay): the answer must be found from the code's identifiers, the
   docs and the tests.
3. Index build time and size: the standard library (documentation index, a fresh file), the
   requests repository (repository index, fresh, then an incremental update with one file changed);
   query latency p50/p99 for each index (BM25; and the hybrid query with vectors).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.requests_repo import make_requests_repo, requests_available  # noqa: E402

from reviewbot.knowledge.chunks import chunks  # noqa: E402
from reviewbot.knowledge.docs import DocsIndex, Environment  # noqa: E402
from reviewbot.knowledge.extract import sentences  # noqa: E402
from reviewbot.knowledge.repo import RepoIndex  # noqa: E402
from reviewbot.knowledge.uses import api_uses  # noqa: E402
from reviewbot.plan import plan  # noqa: E402
from reviewbot.sources.git import GitSource  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "repo_questions.jsonl"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def build_index(cache: Path, env: Environment | None = None) -> tuple[DocsIndex, dict]:
    """A documentation index built from nothing in `cache`, and its figures: the seconds it took
    (opening included), units, files, failures, entries and megabytes."""
    t0 = time.perf_counter()
    docs = DocsIndex.open(cache, env)
    st = docs.build()
    return docs, {
        "seconds": round(time.perf_counter() - t0, 1),
        "units": st.units,
        "files": st.files,
        "failed": st.failed,
        "entries": docs.store.count(),
        "mb": round(st.size_bytes / 1e6, 1),
    }


def query_ms(docs: DocsIndex, queries: list[str]) -> dict:
    """The queries one after another, five hits each: how many, and the p50 and p99 in milliseconds."""
    times = []
    for q in queries:
        t = time.perf_counter()
        docs.search(q, 5)
        times.append(time.perf_counter() - t)
    return {"n": len(times), "p50": round(pct(times, 50) * 1e3, 2), "p99": round(pct(times, 99) * 1e3, 2)}


def oracle(name: str) -> str | None:
    """Where Python says `name` is defined (importing the installed package: the bench only)."""
    parts = name.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        break
    if obj is None:
        return None
    if inspect.ismodule(obj):
        return obj.__name__
    if inspect.isclass(obj) or inspect.isfunction(obj):
        mod = inspect.getmodule(obj)
        if mod is None or not getattr(mod, "__file__", "").endswith(".py"):
            return None
        return f"{mod.__name__}.{obj.__qualname__}"
    return None


def docs_retrieval(repo: Path, docs: DocsIndex) -> dict:
    cs = GitSource(repo, "HEAD~1..HEAD").load()
    pl = plan(cs, count=lambda t: len(t) // 4, item_tokens=1200, budget_tokens=10**9)
    uses = []
    for item in pl.items:
        if item.path.endswith(".py") and cs.read_head is not None:
            uses.extend((item.path, u) for u in api_uses(cs.read_head(item.path), item, {"requests"}))
    seen, rows, unplaced = set(), [], 0
    for path, u in uses:
        if u.name in seen:
            continue
        seen.add(u.name)
        gold = oracle(u.name)
        if gold is None:
            unplaced += 1
            continue
        context = " ".join(u.keywords)
        route = [h.row.name for h in docs.lookup(u.name, context, k=5)]
        bm25 = [h.row.name for h in docs.search(f"{u.name} {context}", k=5)]
        rows.append(
            {"use": u.name, "path": path, "gold": gold, "route_hit": gold in route, "bm25_hit": gold in bm25}
        )
    n = len(rows)
    return {
        "uses": len(uses),
        "distinct": len(seen),
        "placed": n,
        "unplaced": unplaced,
        "recall5_route": sum(r["route_hit"] for r in rows) / n if n else 0.0,
        "recall5_bm25": sum(r["bm25_hit"] for r in rows) / n if n else 0.0,
        "misses": [r for r in rows if not r["route_hit"]],
    }


_NAME_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def build_questions(repo: Path) -> list[dict]:
    """The rule of bench/data/REPO_QUESTIONS.md."""
    out = []
    for f in sorted((repo / "src" / "requests").glob("*.py")):
        rel = f.relative_to(repo).as_posix()
        for c in chunks(f.read_text(encoding="utf-8"), rel):
            if c.kind not in ("function", "method", "class") or not c.doc:
                continue
            first = sentences(c.doc)[0] if sentences(c.doc) else ""
            first = re.sub(r":(?:class|func|meth|attr|param|rtype|return)[^:]*:", "", first)
            own = {w.lower() for w in _NAME_WORDS.findall(c.name.split(".")[-1])}
            kept = [w for w in first.split() if w.strip("`.,():'\"").lower() not in own]
            q = " ".join(kept).strip()
            if len(q) < 20 or len(_NAME_WORDS.findall(q)) < 4:
                continue
            out.append({"question": q, "file": rel, "object": c.name, "line": c.start})
    dedup: dict[str, dict] = {}
    for row in out:
        dedup.setdefault(row["question"].lower(), row)
    return list(dedup.values())


def strip_docstrings(text: str) -> str:
    import ast

    lines = text.splitlines()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                indent = lines[first.lineno - 1][
                    : len(lines[first.lineno - 1]) - len(lines[first.lineno - 1].lstrip())
                ]
                lines[first.lineno - 1] = indent + "pass"
                for i in range(first.lineno, first.end_lineno or first.lineno):
                    lines[i] = ""
    return "\n".join(lines) + "\n"


def stripped_variant(repo: Path, work: Path, vectors_wanted: bool) -> dict:
    copy = work / "stripped"
    shutil.copytree(repo, copy)
    for f in (copy / "src" / "requests").glob("*.py"):
        f.write_text(strip_docstrings(f.read_text(encoding="utf-8")))
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines()]
    ri = RepoIndex.open(work / "cache-stripped", copy)
    ri.update()
    vectors = None
    if vectors_wanted:
        from reviewbot.knowledge.vectors import MiniLM, VectorTable, add_vectors, unavailable

        if unavailable() is None:
            emb = MiniLM.load()
            add_vectors(ri.store, emb)
            vectors = (emb, VectorTable(ri.store))
    return repo_retrieval(ri, questions, vectors)


def _files(hits: list, n: int = 5) -> tuple[set[str], set[str]]:
    """(the files of the top n chunks, the first n distinct files in rank order)."""
    chunk_files = {h.row.path for h in hits[:n]}
    distinct: list[str] = []
    for h in hits:
        if h.row.path not in distinct:
            distinct.append(h.row.path)
    return chunk_files, set(distinct[:n])


def repo_retrieval(index: RepoIndex, questions: list[dict], vectors: tuple | None) -> dict:
    """recall@5 two ways: the file among the files of the top 5 chunks (`chunks`), and among the
    first 5 distinct files of the ranking (`files`); latency of the query that gives 50 chunks."""
    res: dict = {"n": len(questions)}
    runs = [("bm25", lambda q: index.search(q, 50))]
    if vectors is not None:
        from reviewbot.knowledge.vectors import hybrid

        emb, table = vectors
        runs.append(
            ("hybrid", lambda q: hybrid(index.store, emb, table, q, 50, lexical_hits=index.search(q, 50)))
        )
    for name, run in runs:
        times, by_chunk, by_file = [], 0, 0
        for q in questions:
            t0 = time.perf_counter()
            got = run(q["question"])
            times.append(time.perf_counter() - t0)
            chunk_files, files = _files(got)
            by_chunk += q["file"] in chunk_files
            by_file += q["file"] in files
        res[f"recall5_{name}_chunks"] = by_chunk / len(questions)
        res[f"recall5_{name}_files"] = by_file / len(questions)
        res[f"{name}_p50_ms"] = pct(times, 50) * 1e3
        res[f"{name}_p99_ms"] = pct(times, 99) * 1e3
    return res


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-vectors", action="store_true")
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument("--stripped", action="store_true", help="only the variant without docstrings (part 2)")
    ap.add_argument(
        "--environment",
        action="store_true",
        help="only: the documentation index of this whole environment (what `reviewbot index docs` builds)",
    )
    args = ap.parse_args()
    if not requests_available():
        print("the requests tarballs are not under ../shared/data/repos", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    figures: dict = {}
    if args.environment:
        try:
            docs, figures["environment_index"] = build_index(work / "cache-all")
            t0 = time.perf_counter()
            again = docs.build()
            figures["environment_recheck_s"] = round(time.perf_counter() - t0, 2)
            assert again.rebuilt == 0
            figures["environment_query_ms"] = query_ms(
                docs,
                [
                    "retry backoff factor",
                    "tensor reshape contiguous",
                    "tokenizer padding side",
                    "parse yaml safely",
                ]
                * 25,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return _finish(figures, args.out)
    try:
        repo = make_requests_repo(work)
        if args.stripped:
            res = stripped_variant(repo, work, not args.no_vectors)
            figures["repo_retrieval_stripped"] = {
                k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()
            }
            print("repo retrieval, docstrings removed:", figures["repo_retrieval_stripped"], flush=True)
            return _finish(figures, args.out)
        # 3a. standard library documentation index, from nothing
        cur = Environment.current()
        stdlib_env = Environment(cur.python, cur.stdlib, ())
        sd, figures["stdlib_index"] = build_index(work / "cache-stdlib", stdlib_env)
        print("stdlib docs index:", figures["stdlib_index"], flush=True)
        qs = [
            "open a file for reading text",
            "parse a url into components",
            "json decode error",
            "spawn subprocess with timeout",
            "temporary directory cleanup",
            "sha256 hex digest",
            "thread pool executor map",
            "deprecated ssl wrap socket",
        ]
        figures["stdlib_query_ms"] = query_ms(sd, qs * 25)
        print("stdlib docs query:", figures["stdlib_query_ms"], flush=True)
        # 1. documentation retrieval over the real environment (packages indexed as the route needs them)
        docs = DocsIndex.open(work / "cache-env")
        dr = docs_retrieval(repo, docs)
        figures["docs_retrieval"] = {k: v for k, v in dr.items() if k != "misses"}
        print("docs retrieval:", figures["docs_retrieval"], flush=True)
        for m in dr["misses"]:
            print("   miss:", m["use"], "gold", m["gold"], flush=True)
        # 3b. repository index of requests
        t0 = time.perf_counter()
        ri = RepoIndex.open(work / "cache-repo", repo)
        us = ri.update()
        figures["repo_index"] = {
            "seconds": round(us.seconds, 2),
            "files": us.files,
            "chunks": us.chunks,
            "mb": round(us.size_bytes / 1e6, 2),
        }
        target = repo / "src" / "requests" / "help.py"
        target.write_text(target.read_text() + "\n\ndef added_later():\n    return 1\n")
        inc = ri.update()
        figures["repo_incremental"] = {"seconds": round(inc.seconds, 3), "changed": inc.changed}
        print("repo index:", figures["repo_index"], figures["repo_incremental"], flush=True)
        # 2. repository retrieval
        questions = build_questions(repo)
        QUESTIONS.write_text("".join(json.dumps(q) + "\n" for q in questions))
        vectors = None
        if not args.no_vectors:
            from reviewbot.knowledge.vectors import MiniLM, VectorTable, add_vectors, unavailable

            if unavailable() is None:
                t0 = time.perf_counter()
                emb = MiniLM.load()
                n = add_vectors(ri.store, emb)
                figures["repo_vectors"] = {
                    "seconds": round(time.perf_counter() - t0, 1),
                    "vectors": n,
                    "mb_after": round(ri.store.path.stat().st_size / 1e6, 2),
                }
                vectors = (emb, VectorTable(ri.store))
                print("repo vectors:", figures["repo_vectors"], flush=True)
        figures["repo_retrieval"] = {
            k: round(v, 3) if isinstance(v, float) else v
            for k, v in repo_retrieval(ri, questions, vectors).items()
        }
        print("repo retrieval:", figures["repo_retrieval"], flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _finish(figures, args.out)


def _finish(figures: dict, out: Path | None) -> int:
    figures["python"] = sys.version.split()[0]
    print(json.dumps(figures, indent=2))
    if out:
        out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

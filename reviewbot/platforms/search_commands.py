"""The `index`, `search` and `ask` commands (docs/search.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from .. import compose
from ..errors import UsageError
from .shared import StderrProgress, settings_for


def cmd_index(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..knowledge import DocsIndex, RepoIndex

    settings = settings_for(args, args.repo.resolve() if args.repo is not None else None)
    progress = StderrProgress(stderr, settings.progress)
    if args.what == "docs":
        docs = DocsIndex.open(settings.cache)
        st = docs.build(args.package, progress=progress)
        own = f", {docs.add_repository(args.repo)} entries from {args.repo}" if args.repo is not None else ""
        stdout.write(
            f"docs index: {st.units} units ({st.rebuilt} rebuilt), {st.entries} entries added{own}, "
            f"{st.files} files ({st.failed} did not parse), {st.size_bytes / 1e6:.1f} MB, "
            f"{st.seconds:.1f}s: {docs.store.path}\n"
        )
        return 0
    repo = RepoIndex.open(settings.cache, args.repo or Path("."))
    rs = repo.update(progress)
    line = (
        f"repo index: {rs.files} files ({rs.changed} reindexed, {rs.removed} removed), {rs.chunks} chunks, "
        f"{rs.size_bytes / 1e6:.1f} MB, {rs.seconds:.1f}s"
    )
    if args.vectors:
        from ..knowledge.vectors import MiniLM, add_vectors

        n = add_vectors(repo.store, MiniLM.load(), progress)
        line += f"; {n} vectors added"
    stdout.write(f"{line}: {repo.store.path}\n")
    return 0


def cmd_search(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import json

    from ..knowledge import DocsIndex

    if args.k < 1:
        raise UsageError("-k must be at least 1")
    settings = settings_for(args, None)
    docs = DocsIndex.open(settings.cache)
    if not docs.store.sources():
        raise UsageError("the documentation index is empty: run `reviewbot index docs` first")
    hits = docs.search(args.query, args.k)
    rows = [
        {
            "object": h.row.name,
            "kind": h.row.kind,
            "package": h.row.extra.get("package"),
            "version": h.row.extra.get("version"),
            "signature": h.row.signature,
            "summary": (h.row.doc.strip().split("\n\n")[0] if h.row.doc else ""),
            "score": round(h.score, 3),
        }
        for h in hits
    ]
    if args.format == "json":
        stdout.write(json.dumps({"query": args.query, "results": rows}, indent=2) + "\n")
    elif not rows:
        stdout.write("nothing found\n")
    else:
        for r in rows:
            stdout.write(f"{r['object']}  ({r['package']} {r['version']}, {r['kind']})\n")
            if r["summary"]:
                stdout.write("    " + " ".join(r["summary"].split())[:200] + "\n")
    return 0


def cmd_ask(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import dataclasses
    import json

    from ..routes.repo_qa import format_answer

    if not args.question.strip():
        raise UsageError("the question is empty")
    if not 100 <= args.budget_tokens <= 100_000:
        raise UsageError("--budget-tokens must be from 100 to 100000")
    settings = settings_for(args, args.repo.resolve())
    if args.vectors:
        settings = settings.updated({"index.vectors": True})
    progress = StderrProgress(stderr, settings.progress)
    model = compose.backend(settings, status=progress.status)
    qa = compose.repo_qa(settings, model, args.repo, progress, args.budget_tokens)
    a = qa.answer(args.question)
    if args.format == "json":
        doc = {
            "question": a.question,
            "found": a.found,
            "answer": a.text,
            "sources": [dataclasses.asdict(s) for s in a.sources],
            "retrieval": a.retrieval,
            "backend": model.name if model else "none",
            "seconds": round(a.seconds, 3),
        }
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write(format_answer(a) + "\n")
    return 0

"""The `reviewbot` command line.

    reviewbot review [--diff FILE|- | --git [BASE..HEAD]] [--format terminal|json|sarif|markdown] ...
    reviewbot eval CASES_DIR [--limit N] [--seed S] [--format json]
    reviewbot model prepare|info
    reviewbot github review|publish [--pr OWNER/REPO#N] [--post] ...   (docs/github.md)

Errors print one line, `reviewbot: <what went wrong>`, and exit with the error's code
(errors.py); findings at or above `--fail-on` exit 1. Importing this module loads no model
library: torch and transformers are imported by the local backend on first use.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from .. import __version__, compose, config
from ..errors import PublishError, ReviewbotError, UsageError
from ..model import Result, Severity


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reviewbot", description="Review code changes with a self-hosted model.")
    p.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--backend", choices=config.BACKENDS, help="model backend (default: local)")
        sp.add_argument("--model-dir", type=Path, help="a transformers checkpoint instead of the embedded model")
        sp.add_argument("--base-url", help="openai backend: the server, e.g. http://gpu-runner:8000/v1 (key: REVIEWBOT_API_KEY)")
        sp.add_argument("--api-model", help="openai backend: the served model's name (default: the first listed)")
        sp.add_argument("--cache-dir", type=Path, help="where the converted model is cached")
        sp.add_argument("--config", type=Path, help="configuration file (default: REPO/.reviewbot.yml)")
        sp.add_argument("--threads", type=int, help="CPU threads for the model")
        sp.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
        sp.add_argument("--min-drop", type=float, help="review: likelihood drop (nats/token) to comment on")
        sp.add_argument("--device", help="local backend: auto, cpu, cuda or cuda:N (default: auto)")
        sp.add_argument(
            "--model-concurrency", type=int, help="work items sent to the model at once (openai: 8, local: 1)"
        )

    r = sub.add_parser("review", help="review a diff file or a git range")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--diff", metavar="FILE", help="a unified diff file, or - for standard input")
    src.add_argument(
        "--git", metavar="BASE..HEAD", nargs="?", const="", help="a git range (default: merge-base with the default branch..HEAD)"
    )
    r.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    r.add_argument("--format", choices=config.FORMATS, default="terminal")
    r.add_argument("--output", "-o", type=Path, help="write the report to this file instead of stdout")
    r.add_argument("--fail-on", choices=config.FAIL_ON, help="exit 1 on findings of this severity (default: error)")
    r.add_argument("--no-color", action="store_true", help="no colours in terminal output")
    r.add_argument("--item-tokens", type=int, help="the most diff tokens in one work item")
    r.add_argument("--budget-tokens", type=int, help="the most diff tokens sent to the model in one review")
    r.add_argument("--question", help="a question about the change, answered by the repo_qa route")
    common(r)

    e = sub.add_parser("eval", help="score the review on a review-bugs case folder")
    e.add_argument("cases", type=Path, metavar="CASES_DIR")
    e.add_argument("--limit", type=int, help="number of bug/clean PAIRS to sample")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--format", choices=("terminal", "json"), default="terminal")
    e.add_argument("--output", "-o", type=Path, help="also write per-case findings as JSON lines here")
    common(e)

    m = sub.add_parser("model", help="prepare or describe the embedded model")
    m.add_argument("action", choices=("prepare", "info"))
    common(m)

    g = sub.add_parser("github", help="review a GitHub pull request; post the review with --post (docs/github.md)")
    g.add_argument("action", choices=("review", "publish"), help="publish: post an untrusted findings artifact (forks)")
    g.add_argument("--pr", metavar="OWNER/REPO#N", help="the pull request (default: from $GITHUB_EVENT_PATH)")
    g.add_argument("--checkout", type=Path, help="a checkout holding the PR's commits: linters, and the diff on HTTP 406")
    g.add_argument("--post", action="store_true", help="post the review, summary comment and check run (default: print)")
    g.add_argument("--full", action="store_true", help="review the whole PR, not only what changed since the last review")
    g.add_argument("--no-check-run", action="store_true", help="no check run (a fork's read-only token cannot create one)")
    g.add_argument("--findings-out", type=Path, help="review: also write the findings as JSON (the fork job's artifact)")
    g.add_argument("--sarif-out", type=Path, help="review: also write SARIF 2.1.0 (for code scanning)")
    g.add_argument("--annotate", action="store_true", help="review: print workflow-command annotations, not the review")
    g.add_argument("--findings", type=Path, help="publish: the findings artifact")
    g.add_argument("--head-sha", help="publish: the head SHA the trusted event names (default: the workflow_run's)")
    g.add_argument("--max-comments", type=int, help="inline comments per review, 0-30 (default 30)")
    g.add_argument("--fail-on", choices=config.FAIL_ON, help="exit 1 and a failing check on findings of this severity")
    common(g)
    _search_parsers(sub, common)
    return p


def _settings(args: argparse.Namespace, repo: Path | None) -> config.Settings:
    overrides = {
        "backend": args.backend,
        "model_dir": args.model_dir,
        "base_url": args.base_url,
        "api_model": args.api_model,
        "cache_dir": args.cache_dir,
        "threads": args.threads,
        "min_drop": args.min_drop,
        "progress": False if args.no_progress else None,
        "device": args.device,
        "model_concurrency": args.model_concurrency,
    }
    for name in ("format", "fail_on", "item_tokens", "budget_tokens"):
        overrides[name] = getattr(args, name, None)
    overrides["github_max_comments"] = getattr(args, "max_comments", None)
    if getattr(args, "no_color", False):
        overrides["color"] = False
    return config.load(overrides, os.environ, repo, args.config)


class StderrProgress:
    """A progress bar on a terminal, one line per step otherwise."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.t0 = time.perf_counter()

    def status(self, message: str) -> None:
        if self.enabled:
            print(f"reviewbot: {message}", file=self.stream, flush=True)

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled or total == 0:
            return
        elapsed = time.perf_counter() - self.t0
        if self.tty:
            width = 24
            fill = int(width * done / total)
            bar = "#" * fill + "-" * (width - fill)
            end = "\n" if done == total else ""
            self.stream.write(f"\r[{bar}] {done}/{total} {elapsed:5.1f}s {label[:50]:<50}{end}")
            self.stream.flush()
        elif done < total:
            print(f"reviewbot: [{done + 1}/{total}] {label} ({elapsed:.1f}s)", file=self.stream, flush=True)


def _write(path: Path | None, text: str, stdout: TextIO) -> None:
    if path is None:
        stdout.write(text)
        stdout.flush()
        return
    path = path.expanduser()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    except OSError as exc:
        raise PublishError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PublishError(f"{path}: cannot write the report ({exc.strerror or exc})") from exc


def exit_code(result: Result, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    floor = Severity(fail_on).rank
    return 1 if any(a.finding.severity.rank >= floor for a in result.anchored) else 0


def _parts(settings: config.Settings, progress: StderrProgress, question: str | None = None):
    """The pipeline's parts for a review, as the settings say (review and github)."""
    from .. import pipeline

    model = compose.backend(settings, status=progress.status)
    others = compose.other_routes(settings, model)
    return pipeline.Parts(
        backend=model,
        route=compose.route(settings, model),
        router=compose.router(settings, model, others),
        other_routes=others,
        linters=compose.linters(settings),
        lint_mode=settings.lint_mode,
        limits=compose.limits(settings),
        progress=progress,
        concurrency=compose.concurrency(settings),
        model_deadline=settings.model_deadline,
        question=question,
    )


def cmd_review(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .. import pipeline

    use_git = args.diff is None
    repo = args.repo.resolve() if use_git else None
    settings = _settings(args, repo)
    progress = StderrProgress(stderr, settings.progress)
    if use_git:
        from ..sources.git import GitSource

        source = GitSource(args.repo, args.git or None)
    else:
        from ..sources.diff_file import DiffFileSource

        source = DiffFileSource(args.diff, stdin=sys.stdin.buffer if args.diff == "-" else None)
    parts = _parts(settings, progress, question=args.question)
    result = pipeline.run(source.load(), parts)
    color = settings.color if settings.color is not None else (args.output is None and stdout.isatty())
    import io

    buf = io.StringIO()
    compose.reporter(settings.format, buf, color=bool(color)).report(result)
    _write(args.output, buf.getvalue(), stdout)
    return exit_code(result, settings.fail_on)


def cmd_eval(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import json

    from .. import evaluation, pipeline
    from ..errors import InputError
    from ..sources.diff_file import DiffFileSource

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    settings = _settings(args, None)
    cases = evaluation.load_cases(args.cases, limit=args.limit, seed=args.seed)
    progress = StderrProgress(stderr, settings.progress)
    model = compose.backend(settings, status=progress.status)
    route = compose.route(settings, model)
    limits = compose.limits(settings)
    t0 = time.perf_counter()
    rows = []
    per_case = []
    for i, case in enumerate(cases):
        progress(i, len(cases), case.id)
        tc = time.perf_counter()
        parts = pipeline.Parts(backend=model, route=route, limits=limits)
        try:
            result = pipeline.run(DiffFileSource(str(case.diff_path)).load(), parts)
            findings = result.findings
            error = None
            stats = result.stats
        except InputError as exc:
            findings, error, stats = (), str(exc), None
        rows.append((case, findings, error))
        per_case.append(
            {
                "id": case.id,
                "seconds": round(time.perf_counter() - tc, 3),
                "error": error,
                "prompt_tokens": stats.prompt_tokens if stats else 0,
                "generated_tokens": stats.generated_tokens if stats else 0,
                "findings": [
                    {"path": f.location.path, "side": str(f.location.side), "line": f.location.line,
                     "start_line": f.location.start_line, "severity": str(f.severity), "message": f.message,
                     "confidence": f.confidence}
                    for f in findings
                ],
            }
        )  # fmt: skip
    progress(len(cases), len(cases), "done")
    seconds = time.perf_counter() - t0
    bot = evaluation.score(rows)
    none, every = evaluation.baselines(cases)
    n_pairs = args.limit
    if args.output is not None:
        _write(args.output, "".join(json.dumps(r) + "\n" for r in per_case), stdout)
    if args.format == "json":
        doc = evaluation.to_json(bot, none, every, seed=args.seed, limit=n_pairs, n_cases=len(cases), seconds=seconds)
        doc["backend"] = model.name if model else "none"
        doc["model"] = model.model_id if model else None
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write(
            evaluation.format_report(bot, none, every, seed=args.seed, limit=n_pairs, n_cases=len(cases), seconds=seconds)
        )
        stdout.write(f"backend: {model.name if model else 'none'} ({model.model_id if model else 'no model'})\n")
    return 0


def cmd_model(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..backends import embedded

    settings = _settings(args, None)
    p = embedded.paths(settings.cache)
    if args.action == "info":
        stdout.write(
            f"model: {embedded.MODEL_ID}\nsha256: {embedded.GGUF_SHA256}\ncache: {p.root}\n"
            f"converted: {'yes' if p.converted_marker.is_file() else 'no'}\n"
        )
        return 0
    progress = StderrProgress(stderr, settings.progress)
    model = compose.backend(config.load({"backend": "local", "cache_dir": settings.cache}, {}, None), progress.status)
    assert model is not None
    t0 = time.perf_counter()
    model.load()  # type: ignore[attr-defined]
    stdout.write(f"model ready in {time.perf_counter() - t0:.1f}s: {p.converted}\n")
    return 0


def cmd_github(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .. import pipeline
    from . import github as run

    checkout = args.checkout.resolve() if args.checkout else None
    settings = _settings(args, checkout)
    gh = run.client(settings)
    target = run.parse_target(args.pr) if args.pr else run.event_target(settings.github_event_path)
    if args.action == "publish":
        if args.findings is None:
            raise UsageError("github publish needs --findings FILE")
        target = replace(target, head=args.head_sha or target.head)
        out = run.publish_artifact(settings, gh, target, args.findings, check_run=not args.no_check_run)
    else:
        if target.number is None:
            raise UsageError("the event names no pull request; pass --pr OWNER/REPO#N")
        progress = StderrProgress(stderr, settings.progress)
        parts = _parts(settings, progress)
        out = run.review_pull(
            settings, gh, target, lambda cs: pipeline.run(cs, parts), checkout=checkout, post=args.post,
            incremental=not args.full, check_run=not args.no_check_run, findings_out=args.findings_out,
            sarif_out=args.sarif_out,
        )  # fmt: skip
    if getattr(args, "annotate", False):
        from ..hosts.github.checks import workflow_commands

        stdout.write("".join(line + "\n" for line in workflow_commands(out.result)))
    elif out.payload is not None:
        stdout.write(run.dumps(out.payload))
    elif out.posted is not None:
        p = out.posted
        stdout.write(
            f"reviewbot: {target.repo}: review {p.review.id if p.review else 'not needed'}, {p.inline} inline, "
            f"{p.listed} in the body, {p.repeated} not repeated, check run "
            f"{p.check_run.id if p.check_run else 'off'} ({p.annotations} annotations)\n"
        )
    return exit_code(out.result, settings.fail_on)


# ---------------------------------------------------------------------------------------------
# index, search, ask (docs/search.md)


def _search_parsers(sub, common) -> None:
    ix = sub.add_parser("index", help="build the documentation or repository search index")
    ix.add_argument("what", choices=("docs", "repo"))
    ix.add_argument("--repo", type=Path, help="the repository (default: .); docs: also index its docs and docstrings")
    ix.add_argument("--package", action="append", default=[], help="docs: only this package or stdlib module")
    ix.add_argument("--vectors", action="store_true", help="repo: also MiniLM vectors (the `vectors` extra)")
    common(ix)
    se = sub.add_parser("search", help="search the documentation index")
    se.add_argument("query")
    se.add_argument("-k", type=int, default=5, help="how many entries (default: 5)")
    se.add_argument("--format", choices=("terminal", "json"), default="terminal")
    common(se)
    ask = sub.add_parser("ask", help="answer a question about a repository, with the files it relied on")
    ask.add_argument("question")
    ask.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: .)")
    ask.add_argument("--format", choices=("terminal", "json"), default="terminal")
    ask.add_argument("--vectors", action="store_true", help="fuse MiniLM vectors with BM25 (the `vectors` extra)")
    ask.add_argument("--budget-tokens", type=int, default=1500, help="model tokens of code excerpts (default: 1500)")
    common(ask)


def cmd_index(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..index import DocsIndex, RepoIndex

    settings = _settings(args, args.repo.resolve() if args.repo is not None else None)
    progress = StderrProgress(stderr, settings.progress)
    if args.what == "docs":
        docs = DocsIndex.open(settings.cache)
        st = docs.build(args.package, progress=progress)
        own = f", {docs.add_repository(args.repo)} entries from {args.repo}" if args.repo is not None else ""
        stdout.write(f"docs index: {st.units} units ({st.rebuilt} rebuilt), {st.entries} entries added{own}, "
                     f"{st.files} files ({st.failed} did not parse), {st.size_bytes / 1e6:.1f} MB, "
                     f"{st.seconds:.1f}s: {docs.store.path}\n")  # fmt: skip
        return 0
    repo = RepoIndex.open(settings.cache, args.repo or Path("."))
    rs = repo.update(progress)
    line = (f"repo index: {rs.files} files ({rs.changed} reindexed, {rs.removed} removed), {rs.chunks} chunks, "
            f"{rs.size_bytes / 1e6:.1f} MB, {rs.seconds:.1f}s")  # fmt: skip
    if args.vectors:
        from ..index.vectors import MiniLM, add_vectors

        n = add_vectors(repo.store, MiniLM.load(), progress)
        line += f"; {n} vectors added"
    stdout.write(f"{line}: {repo.store.path}\n")
    return 0


def cmd_search(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import json

    from ..index import DocsIndex

    if args.k < 1:
        raise UsageError("-k must be at least 1")
    settings = _settings(args, None)
    docs = DocsIndex.open(settings.cache)
    if not docs.store.sources():
        raise UsageError("the documentation index is empty: run `reviewbot index docs` first")
    hits = docs.search(args.query, args.k)
    rows = [{"object": h.row.name, "kind": h.row.kind, "package": h.row.extra.get("package"),
             "version": h.row.extra.get("version"), "signature": h.row.signature,
             "summary": (h.row.doc.strip().split("\n\n")[0] if h.row.doc else ""), "score": round(h.score, 3)}
            for h in hits]  # fmt: skip
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
    settings = _settings(args, args.repo.resolve())
    if args.vectors:
        settings = dataclasses.replace(settings, vectors=True)
    progress = StderrProgress(stderr, settings.progress)
    model = compose.backend(settings, status=progress.status)
    qa = compose.repo_qa(settings, model, args.repo, progress, args.budget_tokens)
    a = qa.answer(args.question)
    if args.format == "json":
        doc = {"question": a.question, "found": a.found, "answer": a.text,
               "sources": [dataclasses.asdict(s) for s in a.sources], "retrieval": a.retrieval,
               "backend": model.name if model else "none", "seconds": round(a.seconds, 3)}  # fmt: skip
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write(format_answer(a) + "\n")
    return 0


COMMANDS = {"review": cmd_review, "eval": cmd_eval, "model": cmd_model, "github": cmd_github}
COMMANDS.update(index=cmd_index, search=cmd_search, ask=cmd_ask)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, stdout, stderr)
    except ReviewbotError as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"reviewbot: {message}", file=stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reviewbot: interrupted", file=stderr)
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())

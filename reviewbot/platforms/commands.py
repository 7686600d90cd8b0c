"""The `review`, `describe`, `eval`, `model`, `github` and `gitlab` commands."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from typing import TextIO

from .. import compose, config
from ..errors import UsageError
from ..model import ChangeSet
from .shared import (
    StderrProgress,
    check_output,
    exit_code,
    marker_signer,
    refuse_inside_checkout,
    review_parts,
    settings_for,
    with_config_notes,
    write_output,
)


def load_change(args: argparse.Namespace) -> tuple[ChangeSet, config.RepoConfig | None]:
    """The change that ``--diff``, ``--git`` or ``--staged`` names; with a git range and no
    ``--config``, also the configuration file at its base commit (never the head's)."""
    if args.staged:  # one's own staged change: the working tree's configuration applies
        from ..sources.staged import StagedSource

        return StagedSource(args.repo).load(), None
    if args.diff is None:
        from ..sources.git import GitSource

        source = GitSource(args.repo, args.git or None)
        cs = source.load()
        if cs.base is not None and args.config is None:
            origin = f"{cs.base[:7]}:{config.CONFIG_FILE} (the change's base)"
            return cs, config.RepoConfig(source.read_at(cs.base, config.CONFIG_FILE), origin)
        return cs, None
    from ..sources.diff_file import DiffFileSource

    return DiffFileSource(args.diff, stdin=sys.stdin.buffer if args.diff == "-" else None).load(), None


def cmd_review(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .. import pipeline

    use_git = args.diff is None
    repo = args.repo.resolve() if use_git else None
    check_output(args.output)  # before any work: a typo must not lose the review
    started = time.perf_counter()
    settings = None  # a git range without --config: known once the base commit is
    if not use_git or args.staged or args.config is not None:
        settings = settings_for(args, repo)  # the flags and the file checked before any work
    cs, repo_config = load_change(args)
    if settings is None:
        settings = settings_for(args, repo, repo_config=repo_config)
    refuse_inside_checkout(settings, args.repo.resolve() if (use_git or args.staged) else None)
    progress = StderrProgress(stderr, settings.progress)
    parts = review_parts(settings, progress, question=args.question)
    result = with_config_notes(pipeline.run(cs, parts, started=started), settings)
    color = settings.color if settings.color is not None else (args.output is None and stdout.isatty())
    import io

    buf = io.StringIO()
    compose.reporter(settings.format, buf, color=bool(color), shown=settings.hosts.max_inline).report(result)
    write_output(args.output, buf.getvalue(), stdout)
    return exit_code(result, settings)


def cmd_describe(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """`reviewbot describe`: the walkthrough of a change, no model (docs/output.md)."""
    import json

    from ..model import Skipped
    from ..plan import skip_reason
    from ..reporters import markdown, terminal
    from ..reporters import walkthrough as render
    from ..walkthrough import walk

    use_git = args.diff is None
    repo = args.repo.resolve() if use_git else None
    check_output(args.output)
    cs, repo_config = load_change(args)
    settings = settings_for(args, repo, repo_config=repo_config)  # plan.exclude, plan.include_vendored
    skipped = [
        Skipped(f.path, reason)
        for f in cs.files
        if (reason := skip_reason(f, settings.plan.exclude, settings.plan.include_vendored))
    ]
    w = walk(cs, skipped)
    if args.walk_format == "json":
        text = json.dumps(render.to_json(w), indent=2, ensure_ascii=False) + "\n"
    elif args.walk_format == "markdown":
        text = render.render_markdown(
            w, code=markdown.code_span, escape=markdown.escape, heading="## Walkthrough"
        )
    else:
        text = render.render_text(w, clean=terminal.clean)
    write_output(args.output, text, stdout)
    return 0


def cmd_eval(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import dataclasses
    import json

    from .. import evaluation, pipeline
    from ..errors import InputError
    from ..evaluation.words import count_words, format_words
    from ..routes.review_comment import instructions
    from ..sources.diff_file import DiffFileSource

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    settings = settings_for(args, None)
    check_output(args.output)
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
                    {
                        "path": f.location.path,
                        "side": str(f.location.side),
                        "line": f.location.line,
                        "start_line": f.location.start_line,
                        "severity": str(f.severity),
                        "message": f.message,
                        "confidence": f.confidence,
                        "rule": f.rule,
                        "source": f.source,
                        "said": f.said,
                        "suggestion": f.suggestion,
                    }
                    for f in findings
                ],
            }
        )
    progress(len(cases), len(cases), "done")
    seconds = time.perf_counter() - t0
    bot = evaluation.score(rows)
    none, every = evaluation.baselines(cases)
    words = count_words(rows, instructions())
    n_pairs = args.limit
    if args.output is not None:
        write_output(args.output, "".join(json.dumps(r) + "\n" for r in per_case), stdout)
    if args.format == "json":
        doc = evaluation.to_json(
            bot, none, every, seed=args.seed, limit=n_pairs, n_cases=len(cases), seconds=seconds
        )
        doc["words"] = dataclasses.asdict(words)
        doc["backend"] = model.name if model else "none"
        doc["model"] = model.model_id if model else None
        stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        stdout.write(
            evaluation.format_report(
                bot, none, every, seed=args.seed, limit=n_pairs, n_cases=len(cases), seconds=seconds
            )
        )
        stdout.write(format_words(words))
        stdout.write(
            f"backend: {model.name if model else 'none'} ({model.model_id if model else 'no model'})\n"
        )
    return 0


def cmd_model(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from ..backends import embedded, ov_cache

    settings = settings_for(args, None)
    # the embedded model as the configured backend runs it: local (torch) or, by default, openvino
    backend = "local" if settings.backend == "local" else "openvino"
    p = embedded.paths(settings.cache)
    converted = p.converted if backend == "local" else ov_cache.root(settings.cache)
    if args.action == "info":
        done = p.converted_marker.is_file() if backend == "local" else (converted / "MANIFEST.json").is_file()
        stdout.write(
            f"model: {embedded.MODEL_ID}\nsha256: {embedded.GGUF_SHA256}\ncache: {p.root}\n"
            f"backend: {backend}\nconverted: {'yes' if done else 'no'}\n"
        )
        return 0
    progress = StderrProgress(stderr, settings.progress)
    model = compose.backend(
        config.load({"backend": backend, "cache_dir": settings.cache}, {}, None), progress.status
    )
    assert model is not None
    if backend == "openvino":
        # preparing is not a machine's load (backends/ov_compiled.py): a CI job or an image that
        # prepares and then reviews once must not write a compiled export it will never import
        model.keep_compiled = False  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    model.load()  # type: ignore[attr-defined]
    stdout.write(f"model ready in {time.perf_counter() - t0:.1f}s: {converted}\n")
    return 0


def cmd_github(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from .. import pipeline
    from . import github as run

    checkout = args.checkout.resolve() if args.checkout else None
    settings = settings_for(args, None)  # flags, environment, --config: enough to reach GitHub
    refuse_inside_checkout(settings, checkout)
    gh = run.client(settings)
    target = run.parse_target(args.pr) if args.pr else run.event_target(settings.hosts.github.event_path)
    if args.action == "publish":
        if args.findings is None:
            raise UsageError("github publish needs --findings FILE")
        target = replace(target, head=args.head_sha or target.head)
        out = run.publish_artifact(settings, gh, target, args.findings, check_run=not args.no_check_run)
    else:
        if target.number is None:
            raise UsageError("the event names no pull request; pass --pr OWNER/REPO#N")
        progress = StderrProgress(stderr, settings.progress)

        def review(cs, s: config.Settings):
            return with_config_notes(pipeline.run(cs, review_parts(s, progress)), s)

        def configure(rc: config.RepoConfig | None) -> config.Settings:
            return settings_for(args, None, repo_config=rc)

        out = run.review_pull(
            settings,
            gh,
            target,
            review,
            configure=configure,
            checkout=checkout,
            post=args.post,
            incremental=not args.full,
            check_run=not args.no_check_run,
            findings_out=args.findings_out,
            sarif_out=args.sarif_out,
        )
        settings = out.settings or settings
    if getattr(args, "annotate", False):
        from ..hosts.github.checks import workflow_commands

        stdout.write("".join(line + "\n" for line in workflow_commands(out.result)))
    elif out.payload is not None:
        stdout.write(run.dumps(out.payload))
    elif out.posted is not None:
        p = out.posted
        stdout.write(
            f"reviewbot: {target.repo}: review {p.review.id if p.review else 'not needed'}, "
            f"{p.inline} inline, {p.listed} in the body, {p.repeated} not repeated, check run "
            f"{p.check_run.id if p.check_run else 'off'} ({p.annotations} annotations)\n"
        )
    return exit_code(out.result, settings)


def cmd_gitlab(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """`reviewbot gitlab review`: configuration from the MR's base commit (docs/gitlab.md)."""
    import json
    import os

    from .. import pipeline
    from ..hosts.gitlab.host import GitLabHost
    from . import gitlab as run
    from .flow import base_config, learning_of

    checkout = args.checkout.resolve() if args.checkout else None
    gl = run.client(os.environ, args.api_url)
    target = run.parse_target(args.mr) if args.mr else run.env_target(os.environ)
    gl_host = GitLabHost(gl, target.project, checkout=checkout)
    change = gl_host.fetch(target.iid)
    settings = settings_for(args, None, repo_config=base_config(gl_host, change))
    refuse_inside_checkout(settings, checkout)
    progress = StderrProgress(stderr, settings.progress)
    if marker_note := marker_signer(settings)[1]:
        progress.status(marker_note)
    if note := run.base_note(os.environ, change):
        progress.status(note)
    gl_host = run.host(settings, gl, target.project, checkout=checkout)
    parts = review_parts(settings, progress)
    out = run.review_mr(
        gl_host,
        change,
        lambda cs: pipeline.run(cs, parts),
        post=args.post,
        incremental=not args.full,
        reports={"codequality": args.codequality_out, "sarif": args.sarif_out},
        learning=learning_of(settings, lambda cs, s: pipeline.run(cs, review_parts(s, progress))),
    )
    p = out.posted
    if out.payload is not None:
        stdout.write(json.dumps(out.payload, indent=2, ensure_ascii=False) + "\n")
    elif p is not None and p.stale is not None:
        stdout.write(
            f"reviewbot: {target.project}!{target.iid} moved on to {p.stale[:12]} since this review "
            "began: nothing posted against the stale version (the new pipeline reviews it)\n"
        )
        return 0
    elif p is not None:
        stdout.write(
            f"reviewbot: {target.project}!{target.iid}: {p.inline} threads, {p.listed} listed in the "
            f"summary note, {p.repeated} not repeated, {p.resolved} resolved\n"
        )
    return run.exit_code(out.result, settings.fail_on, model_fails=settings.fail_on_model)


# ---------------------------------------------------------------------------------------------
# index, search, ask (docs/search.md)

"""The `reviewbot` command line.

    reviewbot review [--diff FILE|- | --git [BASE..HEAD] | --staged]
                     [--format terminal|json|sarif|markdown|rdjson] ...
    reviewbot describe [--diff FILE|- | --git [BASE..HEAD] | --staged] [--format text|json|markdown]
    reviewbot eval CASES_DIR [--limit N] [--seed S] [--format json]
    reviewbot model prepare|info
    reviewbot github review|publish [--pr OWNER/REPO#N] [--post] ...   (docs/github.md)
    reviewbot gitlab review [--mr GROUP/PROJECT!IID] [--post] ...       (docs/gitlab.md)
    reviewbot learn --repo OWNER/NAME | --project GROUP/NAME [--write]   (docs/learning.md)
    reviewbot serve|worker|jobs ...                                      (docs/service.md)

Errors print one line, `reviewbot: <what went wrong>`, and exit with the error's code
(errors.py); findings at or above `--fail-on` exit 1. Importing this module loads no model
library: torch and transformers are imported by the local backend on first use.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .. import __version__, config
from ..errors import ReviewbotError, UsageError
from ..suggest import suggest_flag
from .commands import cmd_describe, cmd_eval, cmd_github, cmd_gitlab, cmd_model, cmd_review
from .learn_commands import cmd_learn, learn_parser
from .search_commands import cmd_ask, cmd_index, cmd_search
from .service_commands import cmd_jobs, cmd_serve, cmd_worker, service_parsers


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(f"{message}{suggest_flag(message, self)} (see `{self.prog} --help`)")


_MODEL_FAILS = "a model's findings (guesses) may fail the run too; by default only evidence does"


def settings_args(sp: argparse.ArgumentParser) -> None:
    """The flags every command takes: where the settings and the cache are, progress, logging."""
    g = sp.add_argument_group("settings")
    g.add_argument(
        "--config",
        type=Path,
        help="a configuration file of your own (default: .reviewbot.yml at the base commit of the change)",
    )
    g.add_argument("--cache-dir", type=Path, help="where the converted model and the indexes are cached")
    g.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    g.add_argument("-v", "--debug", action="store_true", help="log debugging detail to stderr")


def model_args(sp: argparse.ArgumentParser) -> None:
    """The flags of the commands that run a model."""
    g = sp.add_argument_group("model")
    g.add_argument(
        "--backend",
        choices=config.BACKENDS,
        help="model backend (default: openvino, the embedded model on the CPU; local: torch + transformers)",
    )
    g.add_argument("--model-dir", type=Path, help="a transformers checkpoint instead of the embedded model")
    g.add_argument(
        "--base-url",
        help="openai backend: the server, e.g. http://gpu-runner:8000/v1 (key: REVIEWBOT_API_KEY)",
    )
    g.add_argument("--api-model", help="openai backend: the served model's name (default: the first listed)")
    g.add_argument("--threads", type=int, help="CPU threads for the model")
    g.add_argument("--min-drop", type=float, help="review: likelihood drop (nats/token) to comment on")
    g.add_argument(
        "--strategy",
        dest="review_strategy",
        choices=config.REVIEW_STRATEGIES,
        help="review: how the model reviews (default auto: by the model's size)",
    )
    g.add_argument("--device", help="local backend: auto, cpu, cuda or cuda:N (default: auto)")
    g.add_argument(
        "--model-concurrency", type=int, help="work items sent to the model at once (openai: 8, local: 1)"
    )


def common(sp: argparse.ArgumentParser) -> None:
    """The settings flags and the model flags (the commands that run a model)."""
    settings_args(sp)
    model_args(sp)


REVIEW = """\
With no --diff, --git or --staged, reviews the current repository's branch: the commits since it left the
default branch (merge-base..HEAD), as `--git` with no range does.
"""
REVIEW_EXAMPLES = """\
examples:
  reviewbot review                            # this branch against the default branch
  reviewbot review --git main..HEAD --format sarif -o review.sarif
  git diff | reviewbot review --diff - --backend none   # linters only, no model
  reviewbot review --staged --backend none    # what `git commit` would record (pre-commit)
"""


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="reviewbot",
        description="Review code changes with a self-hosted model.",
        epilog="Run `reviewbot COMMAND --help` for a command's flags and examples.",
    )
    p.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    r = sub.add_parser(
        "review",
        help="review a diff file or a git range (default: this branch)",
        description=REVIEW,
        epilog=REVIEW_EXAMPLES,
    )
    change_args(r)
    r.add_argument(
        "--format", choices=config.FORMATS, default="terminal", help="report format (default: terminal)"
    )
    r.add_argument(
        "--output", "-o", type=Path, help="write the report to this file instead of stdout (checked first)"
    )
    r.add_argument(
        "--fail-on", choices=config.FAIL_ON, help="exit 1 on findings of this severity (default: error)"
    )
    r.add_argument("--fail-on-model", action="store_true", default=None, help=_MODEL_FAILS)
    r.add_argument("--no-color", action="store_true", help="no colours in terminal output")
    r.add_argument("--item-tokens", type=int, help="the most diff tokens in one work item")
    r.add_argument("--budget-tokens", type=int, help="the most diff tokens sent to the model in one review")
    r.add_argument("--question", help="a question about the change, answered by the repo_qa route")
    common(r)

    e = sub.add_parser(
        "eval",
        help="score the review on a review-bugs case folder",
        description="Review each case's diff and score the findings against the known bugs.",
        epilog="example:\n  reviewbot eval path/to/review-bugs --limit 5 --seed 1\n",
    )
    e.add_argument("cases", type=Path, metavar="CASES_DIR", help="a folder of review-bugs cases")
    e.add_argument("--limit", type=int, help="number of bug/clean PAIRS to sample")
    e.add_argument("--seed", type=int, default=0, help="the random seed of the sample (default: 0)")
    e.add_argument(
        "--format", choices=("terminal", "json"), default="terminal", help="report format (default: terminal)"
    )
    e.add_argument("--output", "-o", type=Path, help="also write per-case findings as JSON lines here")
    common(e)

    m = sub.add_parser(
        "model",
        help="prepare or describe the embedded model",
        epilog=(
            "examples:\n  reviewbot model prepare    # download and convert once\n  reviewbot model info\n"
        ),
    )
    m.add_argument(
        "action", choices=("prepare", "info"), help="prepare: download and convert it; info: where it is"
    )
    settings_args(m)

    g = sub.add_parser(
        "github",
        help="review a GitHub pull request; post the review with --post (docs/github.md)",
        epilog="examples:\n  reviewbot github review --pr octo/app#12\n"
        "  reviewbot github review --post    # in a workflow: the event's pull request\n",
    )
    g.add_argument(
        "action", choices=("review", "publish"), help="publish: post an untrusted findings artifact (forks)"
    )
    g.add_argument("--pr", metavar="OWNER/REPO#N", help="the pull request (default: from $GITHUB_EVENT_PATH)")
    g.add_argument(
        "--checkout", type=Path, help="a checkout holding the PR's commits: linters, and the diff on HTTP 406"
    )
    g.add_argument(
        "--post", action="store_true", help="post the review, summary comment and check run (default: print)"
    )
    g.add_argument(
        "--full", action="store_true", help="review the whole PR, not only what changed since the last review"
    )
    g.add_argument(
        "--no-check-run",
        action="store_true",
        help="no check run (a fork's read-only token cannot create one)",
    )
    g.add_argument(
        "--findings-out", type=Path, help="review: also write the findings as JSON (the fork job's artifact)"
    )
    g.add_argument("--sarif-out", type=Path, help="review: also write SARIF 2.1.0 (for code scanning)")
    g.add_argument(
        "--annotate", action="store_true", help="review: print workflow-command annotations, not the review"
    )
    g.add_argument("--findings", type=Path, help="publish: the findings artifact")
    g.add_argument(
        "--head-sha", help="publish: the head SHA the trusted event names (default: the workflow_run's)"
    )
    g.add_argument("--max-comments", type=int, help="inline comments per review, 0-30 (default 30)")
    g.add_argument(
        "--fail-on", choices=config.FAIL_ON, help="exit 1 and a failing check on findings of this severity"
    )
    g.add_argument("--fail-on-model", action="store_true", default=None, help=_MODEL_FAILS)
    common(g)
    _gitlab_parser(sub)
    learn_parser(sub, settings_args)
    _describe_parser(sub)
    _search_parsers(sub)
    service_parsers(sub, common, settings_args)  # serve, worker, jobs (docs/service.md)
    return p


def change_args(sp: argparse.ArgumentParser) -> None:
    """Where the change comes from (review, describe): a diff file, a git range, the staged changes."""
    src = sp.add_mutually_exclusive_group()
    src.add_argument("--diff", metavar="FILE", help="a unified diff file, or - for standard input")
    src.add_argument(
        "--git",
        metavar="BASE..HEAD",
        nargs="?",
        const="",
        help="a git range (default: merge-base with the default branch..HEAD)",
    )
    src.add_argument(
        "--staged", action="store_true", help="the staged changes (git diff --cached): pre-commit"
    )
    sp.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")


DESCRIBE_EXAMPLES = """\
examples:
  reviewbot describe                          # this branch against the default branch
  reviewbot describe --git main..HEAD --format markdown
  git diff | reviewbot describe --diff - --format json
"""


def _describe_parser(sub) -> None:
    d = sub.add_parser(
        "describe",
        help="what a change does, per file: functions and classes, tests, configuration (no model)",
        description="A walkthrough of the change from a deterministic walk (no model): what each file's "
        "change adds, removes or changes, and what a review would leave out and why.",
        epilog=DESCRIBE_EXAMPLES,
    )
    change_args(d)
    d.add_argument(
        "--format",
        dest="walk_format",
        choices=("text", "json", "markdown"),
        default="text",
        help="output format (default: text)",
    )
    d.add_argument("--output", "-o", type=Path, help="write it to this file instead of stdout")
    settings_args(d)


def _gitlab_parser(sub) -> None:
    gl = sub.add_parser(
        "gitlab", help="review a GitLab merge request; post threads with --post (docs/gitlab.md)"
    )
    gl.add_argument(
        "action", choices=("review",), help="review: review the merge request (and post with --post)"
    )
    gl.add_argument(
        "--mr", metavar="GROUP/PROJECT!IID", help="the merge request (default: from CI_MERGE_REQUEST_*)"
    )
    gl.add_argument(
        "--api-url", help="the API root (default: $CI_API_V4_URL, else https://gitlab.com/api/v4)"
    )
    gl.add_argument(
        "--checkout", type=Path, help="a clone holding both commits: linters, and the diff when collapsed"
    )
    gl.add_argument(
        "--post", action="store_true", help="post the threads and the summary note (default: print)"
    )
    gl.add_argument("--full", action="store_true", help="review the whole MR, not only what changed since")
    gl.add_argument(
        "--codequality-out", type=Path, help="also write the Code Climate JSON (artifacts:reports)"
    )
    gl.add_argument("--sarif-out", type=Path, help="also write SARIF 2.1.0")
    gl.add_argument(
        "--max-comments", type=int, help="threads per run, 0-30 (default 30); the rest are listed"
    )
    gl.add_argument("--fail-on", choices=config.FAIL_ON, help="exit 1 on findings of this severity")
    gl.add_argument("--fail-on-model", action="store_true", default=None, help=_MODEL_FAILS)
    common(gl)


# index, search, ask (docs/search.md)


def _search_parsers(sub) -> None:
    ix = sub.add_parser(
        "index",
        help="build the documentation or repository search index",
        epilog="examples:\n  reviewbot index docs --package requests\n  reviewbot index repo --repo .\n",
    )
    ix.add_argument(
        "what", choices=("docs", "repo"), help="docs: installed packages' docs; repo: a repository"
    )
    ix.add_argument(
        "--repo", type=Path, help="the repository (default: .); docs: also index its docs and docstrings"
    )
    ix.add_argument("--package", action="append", default=[], help="docs: only this package or stdlib module")
    ix.add_argument("--vectors", action="store_true", help="repo: also MiniLM vectors (the `vectors` extra)")
    settings_args(ix)
    se = sub.add_parser(
        "search",
        help="search the documentation index",
        epilog="example:\n  reviewbot search 'requests timeout' -k 3\n",
    )
    se.add_argument("query", help="words to look for")
    se.add_argument("-k", type=int, default=5, help="how many entries (default: 5)")
    se.add_argument(
        "--format", choices=("terminal", "json"), default="terminal", help="output format (default: terminal)"
    )
    settings_args(se)
    ask = sub.add_parser(
        "ask",
        help="answer a question about a repository, with the files it relied on",
        epilog="example:\n  reviewbot ask 'where is the config file read?' --repo .\n",
    )
    ask.add_argument("question", help="the question, in plain words")
    ask.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: .)")
    ask.add_argument(
        "--format", choices=("terminal", "json"), default="terminal", help="output format (default: terminal)"
    )
    ask.add_argument(
        "--vectors", action="store_true", help="fuse MiniLM vectors with BM25 (the `vectors` extra)"
    )
    ask.add_argument(
        "--budget-tokens", type=int, default=1500, help="model tokens of code excerpts (default: 1500)"
    )
    common(ask)


COMMANDS = {"review": cmd_review, "eval": cmd_eval, "model": cmd_model, "github": cmd_github}
COMMANDS.update(gitlab=cmd_gitlab, describe=cmd_describe, learn=cmd_learn)
COMMANDS.update(index=cmd_index, search=cmd_search, ask=cmd_ask)
COMMANDS.update(serve=cmd_serve, worker=cmd_worker, jobs=cmd_jobs)


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
        if args.debug:
            logging.basicConfig(
                level=logging.DEBUG, stream=stderr, format="reviewbot: %(name)s: %(message)s", force=True
            )
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

"""Help that teaches: every flag and argument of every command has help text; flags only where they
apply; "did you mean" for a misspelt flag or config key."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from reviewbot.platforms.cli import build_parser, main

MODEL_FLAGS = {"--backend", "--model-dir", "--base-url", "--api-model", "--threads", "--device"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        rc = main(list(argv), out, err)
    except SystemExit as exc:  # --help exits 0
        rc = int(exc.code or 0)
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", [None, *_subcommands()])
def test_every_option_has_help_text(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser() if command is None else _subcommands()[command]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            assert all(c.help for c in action._choices_actions)
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{command or 'reviewbot'}: {name} has no help text"
    argv = ["--help"] if command is None else [command, "--help"]
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 0
    assert "usage: reviewbot" in capsys.readouterr().out


def test_a_bare_review_says_what_it_reviews(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["review", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "reviews the current repository's branch" in text
    assert "default branch" in text
    assert "examples:" in text


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def test_model_flags_only_on_the_commands_that_run_a_model() -> None:
    subs = _subcommands()
    for name in ("review", "eval", "github", "ask"):
        assert MODEL_FLAGS <= _flags(subs[name]), name
    for name in ("index", "search", "model"):
        assert not MODEL_FLAGS & _flags(subs[name]), name
    for name, parser in subs.items():
        assert {"-v", "--debug", "--config", "--cache-dir", "--no-progress"} <= _flags(parser), name


def test_a_misspelt_flag_gets_a_suggestion() -> None:
    rc, out, err = cli("review", "--fromat", "json")
    assert rc == 2 and out == ""
    assert "did you mean --format?" in err
    rc, _, err = cli("search", "x", "--backend", "none")
    assert rc == 2 and "--backend belongs to another command" in err


def test_a_misspelt_config_key_gets_a_suggestion(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yml"
    cfg.write_text("plan:\n  item_token: 800\n", encoding="utf-8")
    rc, _, err = cli("review", "--backend", "none", "--diff", "-", "--config", str(cfg))
    assert rc == 2
    assert "unknown key 'plan.item_token' (did you mean 'plan.item_tokens'?)" in err
    cfg.write_text("zzzz: 1\n", encoding="utf-8")
    _, _, err = cli("review", "--backend", "none", "--diff", "-", "--config", str(cfg))
    assert "(known: api_model, backend," in err  # nothing close: every key, as before


def test_debug_logs_to_stderr(tmp_path: Path) -> None:
    import logging

    cli("search", "x", "--cache-dir", str(tmp_path), "-v")
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger().setLevel(logging.WARNING)

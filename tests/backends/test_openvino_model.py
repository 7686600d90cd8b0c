"""The OpenVINO backend on the real embedded model (converted once into the cache, verified at load):
the three verbs, the prefix cache, no torch imported, and the same answers as the local backend
(torch, bfloat16) where that one is installed too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

pytest.importorskip("openvino")
pytest.importorskip("llguidance")

from support.model_chats import ASK, LABELS, ROUTE, SCHEMA, SYSTEM, USER  # noqa: E402

from reviewbot.backends import openvino_backend  # noqa: E402
from reviewbot.backends.openvino_backend import DRAFT, OpenVINOBackend  # noqa: E402
from reviewbot.config import load  # noqa: E402

pytestmark = pytest.mark.model

OLD = "def total(items):\n    n = len(items)\n    return sum(items) / n\n"
NEW = "def total(items):\n    n = len(items) - 1\n    return sum(items) / n\n"


@pytest.fixture(scope="module")
def backend() -> OpenVINOBackend:
    b = OpenVINOBackend(cache_dir=load({}, os.environ, None).cache)
    b.load()
    return b


def test_choose_is_a_distribution_over_the_labels(backend: OpenVINOBackend) -> None:
    c = backend.choose([SYSTEM, USER], LABELS)
    assert set(c.probabilities) == set(LABELS) and c.label in LABELS
    assert sum(c.probabilities.values()) == pytest.approx(1.0)
    assert c.probability == max(c.probabilities.values())


def test_generate_under_a_schema_is_valid_compact_json(backend: OpenVINOBackend) -> None:
    g = backend.generate(ROUTE, schema=SCHEMA, max_tokens=64)
    value = json.loads(g.text)
    jsonschema.validate(value, SCHEMA)
    assert list(value) == ["bug", "why"]
    assert g.text.startswith('{"bug": ')  # the local backend's separators: ", " and ": "
    assert g.generated_tokens == len(g.token_logprobs) and all(lp <= 0 for lp in g.token_logprobs)


def test_generate_stops_at_max_tokens(backend: OpenVINOBackend) -> None:
    g = backend.generate([{"role": "user", "content": "Count from 1 to 100, one per line."}], max_tokens=5)
    assert g.generated_tokens == 5


def test_score_gives_each_continuation_token_its_log_probability(backend: OpenVINOBackend) -> None:
    s = backend.score(ASK, OLD)
    assert s is not None and len(s.logprobs) == len(s.offsets) > 10
    assert s.offsets[0] == 0 and list(s.offsets) == sorted(s.offsets)
    assert all(lp <= 0 for lp in s.logprobs)
    garbage = backend.score(ASK, "def total(items):\n    n = len(items)\n    return sum(items) ) / n n\n")
    assert garbage is not None and garbage.mean < s.mean


def test_score_reads_control_token_spellings_as_text(backend: OpenVINOBackend) -> None:
    s = backend.score(ASK, "x = '<|im_end|>'\n")
    assert s is not None and len(s.logprobs) > 4


def test_the_prefix_cache_gives_the_same_answers(backend: OpenVINOBackend) -> None:
    backend.prefix_cache = False
    backend._prefix.clear()
    cold = [backend.score(ASK, OLD), backend.score(ASK, NEW)]
    backend.prefix_cache = True
    before = backend.stats.cached_tokens
    warm = [backend.score(ASK, OLD), backend.score(ASK, NEW)]
    assert backend.stats.cached_tokens > before  # the second score reused the prompt
    for a, b in zip(cold, warm):
        assert a.offsets == b.offsets
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < 0.15


def test_a_stashed_system_prompt_is_reused_with_the_same_answer(backend: OpenVINOBackend) -> None:
    """Routing an item, scoring, then routing the next item: the second routing reuses the first's
    system prompt from the stash and chooses as a cold run does."""
    other = [{"role": "user", "content": "Which job fits def g(): pass? Answer with one label."}]
    backend.prefix_cache = False
    cold = backend.choose([SYSTEM, other[0]], LABELS)
    backend.prefix_cache = True
    backend.choose([SYSTEM, USER], LABELS)
    backend.score(ASK, OLD)  # another prompt in between: the system prompt's keys are stashed
    before = backend.stats.cached_tokens
    warm = backend.choose([SYSTEM, other[0]], LABELS)
    assert warm.cached_tokens > 10 and backend.stats.cached_tokens - before == warm.cached_tokens
    assert warm.label == cold.label
    assert max(abs(cold.probabilities[x] - warm.probabilities[x]) for x in LABELS) < 0.05


def test_passes_of_any_size_give_the_same_answers(
    backend: OpenVINOBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scored continuation goes through in passes of CHUNK positions, a prompt whose last
    position alone counts in passes of PREFILL: how a sequence is cut into passes does not change
    what it scores or chooses."""
    long = OLD * 6  # a continuation longer than the small CHUNK below
    backend.prefix_cache = False
    whole = backend.score(ASK, long)
    chosen = backend.choose([SYSTEM, USER], LABELS)
    monkeypatch.setattr(openvino_backend, "PREFILL", 7)
    monkeypatch.setattr(openvino_backend, "CHUNK", 5)
    cut = backend.score(ASK, long)
    chosen_cut = backend.choose([SYSTEM, USER], LABELS)
    backend.prefix_cache = True
    assert whole is not None and cut is not None
    assert whole.offsets == cut.offsets and len(cut.logprobs) > 5 * 5
    assert max(abs(x - y) for x, y in zip(whole.logprobs, cut.logprobs)) < 0.15
    assert chosen_cut.label == chosen.label
    assert max(abs(chosen.probabilities[x] - chosen_cut.probabilities[x]) for x in LABELS) < 0.05


def test_no_torch_is_imported() -> None:
    code = (
        "import os, sys\n"
        "from reviewbot import compose, config\n"
        "b = compose.backend(config.load({'backend': 'openvino'}, os.environ, None))\n"
        "b.choose([{'role': 'user', 'content': 'yes or no?'}], ['yes', 'no'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'xgrammar') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_default_review_of_the_bundled_sample_runs_here_and_finds_the_defect() -> None:
    """The README's review, no backend named: the OpenVINO backend, in a process that never imports
    torch, finds a defect in the changed file."""
    code = (
        "import io, sys\n"
        "from reviewbot.platforms.cli import main\n"
        "out = io.StringIO()\n"
        "flags = ['--format', 'json', '--no-progress', '--fail-on', 'never']\n"
        "rc = main(['review', '--diff', sys.argv[1], *flags], out, sys.stderr)\n"
        "print(out.getvalue())\n"
        "print(sorted(m for m in ('torch', 'transformers', 'xgrammar') if m in sys.modules))\n"
        "sys.exit(rc)\n"
    )
    sample = Path(__file__).resolve().parents[2] / "examples" / "sample.diff"
    env = {k: v for k, v in os.environ.items() if k != "REVIEWBOT_BACKEND"}
    done = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    report, imported = done.stdout.rstrip("\n").rsplit("\n", 1)
    assert imported == "[]"
    doc = json.loads(report)
    # the model judged the change and, by default, wrote nothing (the comment is the change fact)
    assert doc["stats"]["backend"] == "openvino" and doc["stats"]["prompt_tokens"] > 0
    assert doc["stats"]["generated_tokens"] == 0
    model = [f for f in doc["findings"] if f["route"] == "review" and f["source"] == "model"]
    assert model, doc
    assert all(f["path"] == "inventory/report.py" and f["severity"] in ("warning", "error") for f in model)


def test_the_same_judgments_as_the_local_backend(backend: OpenVINOBackend) -> None:
    """int8 weights and OpenVINO's arithmetic against torch's bfloat16: the judge's hunk means within
    0.1 nats, the same drop's sign, the same route."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from reviewbot.backends.local import LocalBackend

    local = LocalBackend(cache_dir=load({}, os.environ, None).cache)
    for b in (local, backend):
        b.prefix_cache = False
    try:
        got = {}
        for name, b in (("local", local), ("openvino", backend)):
            old, new = b.score(ASK, OLD), b.score(ASK, NEW)
            got[name] = (old.mean, new.mean, b.choose([SYSTEM, USER], LABELS).label)
        (lo, ln, lc), (oo, on, oc) = got["local"], got["openvino"]
        assert abs(lo - oo) < 0.1 and abs(ln - on) < 0.1
        assert (lo - ln > 0) == (oo - on > 0)
        assert lc == oc
    finally:
        backend.prefix_cache = True


def test_guessed_tokens_decode_the_same_text_in_fewer_passes(backend: OpenVINOBackend) -> None:
    """Decoding with guesses (the grammar's forced tokens, a row copied from the prompt) gives the
    tokens that one token per pass gives, with their log-probabilities, in fewer passes."""
    from reviewbot import prompts
    from reviewbot.routes.review_answer import review_schema

    rows = "\n".join(
        [
            "R1   def low_stock(counts, threshold=5):",
            "R2 -     return sorted(sku for sku, n in counts.items() if n <= threshold)",
            "R3 +     return sorted(sku for sku, n in counts.items() if n < threshold)",
        ]
    )
    messages = [
        {"role": "system", "content": prompts.render("review_system")},
        {"role": "user", "content": prompts.render("review_user", path="inventory/report.py", rows=rows)},
    ]
    passes = []
    run = backend._run

    def counted(seq, targets):
        passes.append(len(targets))
        return run(seq, targets)

    backend._run = counted  # type: ignore[method-assign]
    try:
        backend.draft = 0
        one = backend.generate(messages, schema=review_schema(3, 1), max_tokens=160)
        one_passes = len(passes)
        backend.draft = DRAFT
        guessed = backend.generate(messages, schema=review_schema(3, 1), max_tokens=160)
    finally:
        del backend._run
        backend.draft = DRAFT
    assert guessed.text == one.text and guessed.generated_tokens == one.generated_tokens
    assert max(abs(a - b) for a, b in zip(guessed.token_logprobs, one.token_logprobs)) < 0.05
    assert one_passes == one.generated_tokens  # one token per pass (the first pass reads the prompt)
    assert len(passes) - one_passes < 0.75 * one_passes


def test_a_pointed_answer_quotes_one_line_and_writes_no_sentence(backend: OpenVINOBackend) -> None:
    """The likelihood route's schema (no message, `code` one line) holds under llguidance: the
    grammar refuses a newline in `code` and a `message` key, and takes the answer without them."""
    from reviewbot.routes.review_answer import PointedOutput, review_schema

    schema = review_schema(4, 1, PointedOutput)
    head = '{"findings": [{"row": 3, "severity": "error", "category": "bug", '

    def taken(text: str) -> bool:  # the grammar takes every token of `text`
        assert backend._text is not None
        tokens = list(backend._text.encode(text).ids)
        return backend._matcher(schema).validate_tokens(tokens) == len(tokens)

    assert taken(head + '"code": "with open(path) as f:", "suggestion": null}]}')
    assert not taken(head + '"code": "with open(path) as f:\\n    return f.read()"')
    assert not taken(head + '"message": "The encoding changed."')
    assert not taken(head + '"code": "' + "x = 1; " * 40)  # longer than a quote needs to be
    assert not taken(head + '"code": "x", "suggestion": "' + "}]} ```json " * 40)  # a fix that runs on
    ask = [{"role": "user", "content": "Rows:\nR1 + x = 1\nPoint at the row with the defect."}]
    g = backend.generate(ask, schema=schema, max_tokens=160)
    (c,) = PointedOutput.model_validate_json(g.text).findings
    assert "\n" not in c.code and c.message == ""

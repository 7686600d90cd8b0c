"""The review of a real pull request on the real embedded model: every model comment opens with a
true statement of the change on its line, checked here against the diff itself (a reading of the
diff that shares no code with reviewbot.facts), and none is a fragment."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("openvino")  # the default backend's runtime
pytest.importorskip("llguidance")

from support.changed_lines import changed_lines  # noqa: E402

from reviewbot.platforms.cli import main  # noqa: E402
from reviewbot.routes.review_comment import compose  # noqa: E402

DIFF = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "diffs" / "real" / "flask-pr-5984.diff"
)


def runs(diff: str, whole_hunks: bool = False) -> dict[tuple[str, str, int], tuple[list[str], list[str]]]:
    """Each changed line of the diff -> the run it belongs to (removed lines, added lines), or with
    ``whole_hunks`` every changed line of its hunk."""
    out: dict[tuple[str, str, int], tuple[list[str], list[str]]] = {}
    path, old, new, cur = "", 0, 0, None
    for raw in diff.splitlines():
        if raw.startswith("+++ "):
            path = raw[4:].removeprefix("b/")
        elif raw.startswith("@@"):
            m = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)", raw)
            assert m is not None
            old, new, cur = int(m.group(1)), int(m.group(2)), None
        elif raw.startswith(("---", "diff ", "index ")):
            continue
        elif raw.startswith("-"):
            cur = cur or ([], [])
            cur[0].append(raw[1:])
            out[(path, "LEFT", old)] = cur
            old += 1
        elif raw.startswith("+"):
            cur = cur or ([], [])
            cur[1].append(raw[1:])
            out[(path, "RIGHT", new)] = cur
            new += 1
        else:
            cur = cur if whole_hunks else None
            old, new = old + 1, new + 1
    return out


def first_sentence(message: str) -> str:
    """Up to the first full stop outside a code span that ends a sentence."""
    inside = False
    for i, ch in enumerate(message):
        if ch == "`":
            inside = not inside
        elif ch == "." and not inside and (i + 1 == len(message) or message[i + 1] == " "):
            return message[: i + 1]
    return message


def inside(quote: str, text: str) -> bool:
    """``quote`` is in ``text``, where a secret the review redacted ("[redacted]") stands for any text."""
    pattern = ".+?".join(re.escape(part) for part in quote.split("[redacted]"))
    return re.search(pattern, text) is not None


def true_of(sentence: str, removed: list[str], added: list[str]) -> bool:
    """Whether the sentence states what the diff shows for this run."""
    old, new = "\n".join(removed), "\n".join(added)
    quotes = re.findall(r"`([^`]+)`", sentence)

    def code(t: str) -> list[str]:
        return re.sub(r"#.*", "", t).split()

    if sentence.startswith("Only comments changed"):
        return code(old) == code(new) and old != new
    if sentence.startswith("Only the comment changed"):
        return any(code(r) == code(a) and r != a for r in removed for a in added)
    if sentence.startswith("Only whitespace changed"):
        return old.split() == new.split() and old != new
    if not quotes:
        return False
    if m := re.search(r"`([^`]+)` became `([^`]+)`", sentence):
        if not (inside(m.group(1), old) and inside(m.group(2), new) and m.group(1) != m.group(2)):
            return False
    if m := re.search(r"`([^`]+)` was replaced by `([^`]+)`", sentence):
        if not (inside(m.group(1), old) and inside(m.group(2), new)):
            return False
    if m := re.search(r"`([^`]+)` (?:\([^)]*\) )?was added\.$", sentence):
        if not (inside(m.group(1), new) and all(m.group(1) != r.strip() for r in removed)):
            return False
    if m := re.search(r"`([^`]+)` was removed\.$", sentence):
        if not (inside(m.group(1), old) and all(m.group(1) != a.strip() for a in added)):
            return False
    return all(inside(q, old) or inside(q, new) for q in quotes)


@pytest.mark.skipif(not DIFF.exists(), reason="the shared data is not next to this checkout")
def test_a_comment_on_any_changed_line_would_open_with_a_true_fact() -> None:
    """Without the model: wherever the judge puts a comment, its first sentence is the fact."""
    table = runs(DIFF.read_text())
    checked = 0
    for fd, ln, rows in changed_lines(DIFF.read_text()):
        message, _fact = compose(fd.path, ln, rows, "File:")
        removed, added = table[(fd.path, str(ln.side), ln.number)]
        assert true_of(first_sentence(message), removed, added), (fd.path, ln.number, message)
        assert not true_of("The code `xyzzy` became `plugh`.", removed, added)
        assert not true_of("The code `[redacted]xyzzy` became `plugh`.", removed, added)
        checked += 1
    assert checked > 60
    # the failing comment of the model run, whose secret the review had redacted
    sentence = (
        'The return statement `return None` was replaced by `app.secret_key = "[redacted]"`; '
        "this line no longer returns."
    )
    assert true_of(
        sentence, ["            return None"], ['            app.secret_key = "flask-insecure-default"']
    )


def names_true(message: str, block: tuple[list[str], list[str]], nearby: tuple[list[str], list[str]]) -> bool:
    """Whether a sentence "In this block of changed lines (or: the changed lines nearby), only the
    removed lines have `A` and `B` and only the added lines have `C`." holds: each name is in a line
    of its side of the block (or of the hunk) and in no changed line of the other side of the hunk."""
    m = re.search(r"In (this block of changed lines|the changed lines nearby), (.*)\.$", message)
    if m is None:
        return "only the removed lines have" not in message and "only the added lines have" not in message
    removed, added = block if m.group(1).startswith("this") else nearby
    for part in re.split(r" and (?=only the)", m.group(2)):
        side = re.match(r"only the (removed|added) lines have (.*)", part)
        if side is None:
            return False
        mine, other = (removed, nearby[1]) if side.group(1) == "removed" else (added, nearby[0])
        for name in re.findall(r"`([^`]+)`", side.group(2)):
            word = re.escape(name)
            whole = rf"(?<![\w$]){word}(?![\w$])" if re.fullmatch(r"[\w$]+", name) else word
            if not any(re.search(whole, x) for x in mine) or any(re.search(whole, x) for x in other):
                return False
    return True


@pytest.mark.skipif(not DIFF.exists(), reason="the shared data is not next to this checkout")
def test_a_sentence_that_names_what_changed_near_a_line_is_true_of_the_diff() -> None:
    """Where a line's own change names nothing that changed (a bracket, a blank line), the comment
    also names the tokens that only one side has: checked here against the hunk, read separately."""
    checked = 0
    for diff in sorted(DIFF.parent.glob("*.diff")):
        text = diff.read_text()
        if len(text) > 30_000:  # a comment per line of the larger ones takes minutes; these hold enough
            continue
        block_of, hunk_of = runs(text), runs(text, whole_hunks=True)
        for fd, ln, rows in changed_lines(text):
            message, _fact = compose(fd.path, ln, rows, "")
            key = (fd.path, str(ln.side), ln.number)
            assert names_true(message, block_of[key], hunk_of[key]), (diff.name, key, message)
            checked += "only the" in message
    assert checked > 10
    assert not names_true(
        "In this block of changed lines, only the removed lines have `x`.", (["y"], []), (["y"], [])
    )


@pytest.mark.model
@pytest.mark.skipif(not DIFF.exists(), reason="the shared data is not next to this checkout")
def test_every_model_comment_on_the_flask_pull_request_opens_with_a_true_fact() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["review", "--diff", str(DIFF), "--format", "json", "--no-progress", "--fail-on", "never"], out, err
    )
    assert code == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    table = runs(DIFF.read_text())
    model = [f for f in doc["findings"] if f["rule"].startswith("review/")]
    assert model, "the review made no model comment on a pull request that plants a secret and a pickle"
    for f in model:
        removed, added = table[(f["path"], f["side"], f["line"])]
        sentence = first_sentence(f["message"])
        assert true_of(sentence, removed, added), (f["path"], f["line"], f["message"], removed, added)
        assert len(sentence.split()) >= 3 and sentence[0] in "`T" + "ABCDEFGHIJKLMNOPQRSUVWXYZ", sentence

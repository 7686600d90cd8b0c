"""Change facts: each kind of change, its exact sentence and, where it holds, its consequence.

Each case is a run of removed lines and the added lines that replace them; the expected sentence
is written out in full, so a fact that quotes code inexactly or names the wrong kind fails."""

from __future__ import annotations

import pytest

from reviewbot.diff.parse import parse_diff
from reviewbot.facts import facts_at, facts_for_hunk, facts_for_run
from reviewbot.model import Line, LineKind


def run(old: list[str], new: list[str], path: str = "pkg/mod.py") -> list[tuple[str, str]]:
    removed = [Line(LineKind.REMOVED, i + 10, None, t) for i, t in enumerate(old)]
    added = [Line(LineKind.ADDED, None, i + 10, t) for i, t in enumerate(new)]
    return [(f.kind, f.sentence) for f in facts_for_run(removed, added, path)]


CASES = [
    # comparison and boolean operators
    (
        ["    if x >= limit:"],
        ["    if x > limit:"],
        "comparison-operator",
        "The comparison operator `>=` became `>`: `x >= limit` became `x > limit`; where the two sides are "
        "equal it is now false.",
    ),
    (
        ["    while i < n:"],
        ["    while i <= n:"],
        "comparison-operator",
        "The comparison operator `<` became `<=`: `i < n` became `i <= n`; where the two sides are equal it "
        "is now true.",
    ),
    (
        ["    if user is not None:"],
        ["    if user is None:"],
        "comparison-negated",
        "The comparison was negated: `user is not None` became `user is None`; the test is inverted: it is "
        "now true exactly where it was false.",
    ),
    (
        ["    elif key in seen:"],
        ["    elif key not in seen:"],
        "comparison-negated",
        "The comparison was negated: `key in seen` became `key not in seen`; the test is inverted: it is now "
        "true exactly where it was false.",
    ),
    (
        ["    if a and b:"],
        ["    if a or b:"],
        "boolean-operator",
        "`and` became `or`: `a and b` became `a or b`; the condition now holds when any operand is true, not "
        "only when all are.",
    ),
    (
        ["    if not ok:"],
        ["    if ok:"],
        "negation-dropped",
        "The negation was dropped: `not ok` became `ok`; the test is inverted: "
        "it is now true exactly where it was false.",
    ),
    # operands of a condition
    (
        ["    if resp and resp.ok:"],
        ["    if resp:"],
        "operand-dropped",
        "An operand was dropped from the condition: `resp and resp.ok` became `resp`; "
        "the condition no longer requires `resp.ok`.",
    ),
    (
        ["    if a or b:"],
        ["    if a:"],
        "operand-dropped",
        "An operand was dropped from the condition: `a or b` became `a`; "
        "`b` no longer makes the condition true.",
    ),
    (
        ["    if a:"],
        ["    if a and b:"],
        "operand-added",
        "An operand was added to the condition: `a` became `a and b`; the condition now also requires `b`.",
    ),
    # calls, arguments, constants, defaults
    (
        ["    n = int(text)"],
        ["    n = text"],
        "call-replaced-by-argument",
        "The call was replaced by its argument: `int(text)` became `text`; `int` is no longer called here.",
    ),
    (
        ["    data = json.loads(raw)"],
        ["    data = yaml.load(raw)"],
        "call-replaced",
        "Another function is called: `json.loads(raw)` became `yaml.load(raw)`.",
    ),
    (
        ["    copy(src, dst)"],
        ["    copy(dst, src)"],
        "arguments-swapped",
        "The arguments were reordered: `copy(src, dst)` became `copy(dst, src)`.",
    ),
    (
        ["    get(url, timeout=5)"],
        ["    get(url)"],
        "argument-changed",
        "In the call to `get`, the keyword argument `timeout=5` was removed.",
    ),
    (["    retries = 3"], ["    retries = 0"], "constant-changed", "The constant `3` became `0`."),
    (
        ["def fetch(url, verify=True):"],
        ["def fetch(url, verify=False):"],
        "default-changed",
        "The default of `verify` became `False` (it was `True`).",
    ),
    (
        ["    with_categories: bool = False, category_filter: t.Iterable[str] = ()"],
        ["    with_categories: bool = False, category_filter: t.Iterable[str] = []"],
        "default-changed",
        "The default of `category_filter` became `[]` (it was `()`).",
    ),
    # return values, slices, ranges, await
    (
        ["        return self.config['SECURE']"],
        ["        return False"],
        "return-value",
        "The return value `self.config['SECURE']` became `False`; this statement now returns the constant "
        "`False` whatever the input.",
    ),
    (
        ["    tail = items[1:]"],
        ["    tail = items[:-1]"],
        "slice-changed",
        "The slice bounds changed: `items[1:]` became `items[:-1]`.",
    ),
    (
        ["    for i in range(len(xs)):"],
        ["    for i in range(len(xs) - 1):"],
        "range-changed",
        "The `range` bounds changed: `range(len(xs))` became `range(len(xs) - 1)`.",
    ),
    (
        ["    body = await resp.read()"],
        ["    body = resp.read()"],
        "await-dropped",
        "`await` was dropped: `await resp.read()` became `resp.read()`; "
        "`resp.read()` is no longer awaited here.",
    ),
    (
        ["            return None"],
        ['            app.secret_key = "dev"'],
        "return-removed",
        'The return statement `return None` was replaced by `app.secret_key = "dev"`; '
        "this line no longer returns.",
    ),
    (
        ["    except BadSignature:"],
        ["    except Exception:"],
        "except-changed",
        "The exception handler now catches `Exception` instead of `BadSignature`.",
    ),
    # imports
    (
        ["from os import path, sep"],
        ["from os import path"],
        "import-removed",
        "`sep` is no longer imported from `os`.",
    ),
    ([], ["import pickle"], "import-added", "The import `import pickle` was added."),
    # statements removed or added
    (
        ["    if x is None:", "        raise ValueError('x')"],
        [],
        "guard-removed",
        "The check `if x is None:` was removed.",
    ),
    (
        ["        raise ValueError('x')"],
        [],
        "raise-removed",
        "The raise statement `raise ValueError('x')` was removed.",
    ),
    (["    else:"], [], "else-removed", "The `else:` branch was removed."),
    (["    finally:"], [], "finally-removed", "The `finally:` block was removed."),
    (["    try:"], [], "try-removed", "The try block `try:` was removed."),
    (["    with lock:"], [], "with-removed", "The with block `with lock:` was removed."),
    (["    cache.clear()"], [], "statement-removed", "The statement `cache.clear()` was removed."),
    ([], ["    return result"], "return-added", "The return statement `return result` was added."),
    # comments and whitespace
    (
        ["    # keep in sync", "    x = 1"],
        ["    # keep this in sync", "    x = 1"],
        "comment",
        "Only comments changed in these lines (one now reads `# keep this in sync`); the code is the same.",
    ),
    (
        ["    x  = 1"],
        ["    x = 1"],
        "whitespace",
        "Only whitespace changed in these lines (one now reads `x = 1`); the code is the same.",
    ),
    (
        ["    x = 1  # one"],
        ["    x = 1  # uno"],
        "comment",
        "Only comments changed in these lines (one now reads `x = 1  # uno`); the code is the same.",
    ),
    # tokens, for other languages and for lines that are not a statement on their own
    (["  if (a >= b) {"], ["  if (a > b) {"], "changed", "The code `a >= b` became `a > b`."),
    (["    total = compute(a,"], ["    total = compute(b,"], "changed", "The code `a` became `b`."),
    (["    x = a && b;"], ["    x = a;"], "changed", "The code `a && b` became `a`."),
]


@pytest.mark.parametrize(
    ("old", "new", "kind", "sentence"), CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_kind_of_change_is_stated_exactly(old, new, kind, sentence) -> None:
    path = "web/app.js" if "{" in "".join(old) or ";" in "".join(old) else "pkg/mod.py"
    facts = run(old, new, path)
    assert facts[0] == (kind, sentence), facts


def test_every_quote_is_text_of_the_diff() -> None:
    for old, new, _kind, _sentence in CASES:
        path = "web/app.js" if "{" in "".join(old) or ";" in "".join(old) else "pkg/mod.py"
        removed = [Line(LineKind.REMOVED, i + 1, None, t) for i, t in enumerate(old)]
        added = [Line(LineKind.ADDED, None, i + 1, t) for i, t in enumerate(new)]
        for f in facts_for_run(removed, added, path):
            for q in __import__("re").findall(r"`([^`]+)`", f.sentence):
                assert any(q in ln for ln in old + new) or q in {"and", "or", "await", "else:", "finally:"}, (
                    q,
                    f,
                )


def test_facts_of_a_hunk_and_the_facts_about_one_line() -> None:
    diff = (
        "--- a/m.py\n+++ b/m.py\n@@ -1,4 +1,4 @@\n def f(a, b):\n-    if a >= b:\n+    if a > b:\n"
        "         return a\n-    return b\n+    return None\n"
    )
    (fd,) = parse_diff(diff)
    (h,) = fd.hunks
    facts = facts_for_hunk(h, fd.path)
    assert [f.kind for f in facts] == ["comparison-operator", "return-value"]
    line = next(ln for ln in h.lines if ln.text == "    return None")
    (about,) = facts_at(facts, line)
    assert about.text == "The return value `b` became `None`."
    assert about.old is not None and about.old.text == "    return b"


def test_a_fact_is_deterministic_and_needs_no_parse() -> None:
    old, new = ["    x = foo(a, b"], ["    x = foo(a, c"]
    assert run(old, new) == run(old, new) == [("changed", "The code `b` became `c`.")]


def test_a_quote_of_punctuation_takes_in_the_name_beside_it() -> None:
    old, new = ["    def scale(x, zdelta=0,"], ["    def scale(x, zdelta=0):"]
    assert run(old, new)[0] == ("changed", "The code `zdelta=0,` became `zdelta=0):`.")
    old, new = ["    out = build(", "        x, y"], ["    out = build(x, y)"]
    assert run(old, new)[0] == ("changed", "The code `build(` became `build(x, y)`.")
    assert run(["    n = f(1, 2"], ["    n = f(1, 3"]) == [("changed", "The code `2` became `3`.")]  # a value

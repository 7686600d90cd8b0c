"""What the team's signals teach, and how a review uses it: evidence before a kind is held back,
writers only, never from the pull request under review, expiry, resemblance, the judge's bounded
threshold, and the reason every held-back finding carries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from reviewbot.diff.parse import parse_diff
from reviewbot.learning import Signal, Subject, command_of, counted, hold_back, learn, subject_of
from reviewbot.learning.judge import LAMBDA, MAX_UP, MIN_BELOW, MIN_COMMENTS, MIN_PRS, judge_floor
from reviewbot.learning.lessons import DAYS, path_pattern
from reviewbot.model import Finding, Location, Severity, Side
from tests.support.learning_threads import PY_CHANGE

TODAY = date(2026, 12, 6)
WHEN = datetime(2026, 12, 1, tzinfo=UTC)
BASE = 0.18


def subject(
    message: str = "The comparison operator `>=` became `>`: `n >= 1` became `n > 1`.",
    code: str = "if n > 1:",
    *,
    path: str = "pkg/core/a.py",
    kind: str = "comparison-operator",
    confidence: float | None = 0.3,
) -> Subject:
    return Subject("review/bug", kind, path, message, code, confidence)


def sig(kind: str, pr: int, about: Subject, *, writer: bool = True, author: str = "ann", at=WHEN) -> Signal:
    return Signal(kind, author, writer, pr, at, about)


def finding(message: str, line: int = 3, *, path: str = "pkg/core/a.py", confidence: float = 0.5) -> Finding:
    return Finding(
        Location(path, Side.RIGHT, line),
        Severity.WARNING,
        message,
        "review/bug",
        "review",
        confidence=confidence,
    )


def held_reasons(signals, s: Subject, this_pr: int | None = 99) -> list[str]:
    learned = learn(signals, today=TODAY, this_pr=this_pr, base_floor=BASE)
    f = finding(s.message, confidence=s.confidence or 0.5)
    _, held = hold_back([f], learned, lambda _f: s)
    return [h.reason for h in held]


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("/wrong", "wrong"),
        ("  /WRONG this is fine", "wrong"),
        ("/useful thanks", "useful"),
        ("/wrongly", None),
        ("this is /wrong", None),
        ("", None),
    ],
)
def test_reply_commands(reply: str, kind: str | None) -> None:
    assert command_of(reply) == kind


def test_one_thumbs_down_does_not_silence_a_kind() -> None:
    other = subject("The line `x = 1` was added.", "x = 1")
    assert held_reasons([sig("down", 1, other)], subject()) == []


def test_a_kind_rejected_by_writers_is_held_back_with_its_reason() -> None:
    signals = [
        sig("down", 1, subject("`a >= 1` became `a > 1`.", "if a > 1:", path="pkg/core/b.py")),
        sig("down", 2, subject("`b <= 2` became `b < 2`.", "while b < 2:", path="pkg/core/c.py")),
        sig("dismissed", 3, subject("`c == 3` became `c != 3`.", "c != 3", path="pkg/core/sub/d.py")),
    ]
    reasons = held_reasons(signals, subject("`zz >= 9` became `zz > 9`.", "return zz > 9"))
    assert reasons == [
        "review/bug on comparison-operator in pkg/core/**: writers rejected 3 such comments in #1, #2, #3"
    ]
    # another kind of fact, or a path outside the pattern, is not held
    assert held_reasons(signals, replace(subject(), fact_kind="constant-changed")) == []
    assert held_reasons(signals, replace(subject(), path="docs/conf.py")) == []


def test_signals_of_outsiders_and_of_the_pull_request_itself_teach_nothing() -> None:
    s = subject()
    outsiders = [sig("down", pr, s, writer=False, author="drive-by") for pr in (1, 2, 3, 4)]
    assert held_reasons(outsiders, s) == []
    own = [sig("down", 7, s, author=a) for a in ("ann", "bob", "cy")]
    assert held_reasons(own, s, this_pr=7) == []
    assert held_reasons(own + [sig("down", 8, s)], s, this_pr=7) == []  # one other pull request: not enough
    assert counted(own, this_pr=8) == own


def test_a_later_verdict_of_the_same_person_replaces_the_earlier() -> None:
    s = subject()
    first, second = sig("down", 1, s), sig("up", 1, s, at=WHEN + timedelta(hours=1))
    assert counted([first, second], None) == [second]


def test_resemblance_to_rejected_comments_holds_back_and_to_fixed_ones_keeps() -> None:
    rejected = [sig("down", pr, subject(confidence=None)) for pr in (12, 15, 20, 21)]
    new = subject("The comparison operator `>=` became `>`: `n >= 2` became `n > 2`.", "if n > 2:")
    reasons = held_reasons(rejected, replace(new, fact_kind="other-kind"))
    assert reasons == [
        "resembles 4 comments the team rejected (👎, dismissed or /wrong) in #12, #15, #20, #21"
    ]
    fixed = [sig(k, pr, new) for pr in (30, 31, 32, 33, 34) for k in ("up", "fixed")]
    assert held_reasons(rejected + fixed, replace(new, fact_kind="other-kind")) == []
    unlike = subject("The call `open(p)` lost its argument `mode`.", "open(p)")
    assert held_reasons(rejected, replace(unlike, fact_kind="other-kind")) == []


def test_signals_expire() -> None:
    old = WHEN - timedelta(days=DAYS + 1)
    signals = [sig("down", pr, subject(), at=old) for pr in (1, 2, 3, 4)]
    assert held_reasons(signals, subject()) == []
    learned = learn(
        [sig("down", pr, subject()) for pr in (1, 2, 3)], today=TODAY, this_pr=None, base_floor=BASE
    )
    assert learned.lessons and not learned.active(TODAY + timedelta(days=DAYS + 1)).lessons


def judged(verdicts: str, confidences: list[float], first_pr: int = 1) -> list[Signal]:
    """One judged comment per character, each on a pull request of its own from ``first_pr``:
    ``-`` rejected (👎), ``+`` acted on (👍), at the confidence given."""
    assert len(verdicts) == len(confidences)
    return [
        sig("down" if v == "-" else "up", pr, subject(f"m{pr}", f"c{pr}", confidence=c))
        for pr, (v, c) in enumerate(zip(verdicts, confidences, strict=True), first_pr)
    ]


def test_the_judge_threshold_moves_within_bounds_and_only_on_evidence() -> None:
    low = [sig("down", pr, subject(f"m{pr}", f"c{pr}", confidence=0.2 + pr / 100)) for pr in range(1, 9)]
    high = [sig("up", pr, subject(f"m{pr}", f"c{pr}", confidence=0.6 + pr / 100)) for pr in range(20, 24)]
    floor, why = judge_floor(low + high, BASE)
    assert floor == pytest.approx(BASE + MAX_UP)  # bounded: the accepted comments start at 0.80
    assert why == (
        "writers rejected 8 and acted on 0 of the comments under confidence 0.48 "
        "(rejected in #1, #2, #3, #4, #5 and 3 more)"
    )
    near = [replace(s, subject=replace(s.subject, confidence=s.subject.confidence - 0.4)) for s in high]
    assert judge_floor(low + near, BASE)[0] == pytest.approx(0.40)  # just under the first accepted one
    assert judge_floor(low[:3] + high, BASE) == (None, "")  # too few comments
    mixed = [
        sig("down" if pr % 2 else "up", pr, subject(f"m{pr}", f"c{pr}", confidence=pr / 20))
        for pr in range(1, 12)
    ]
    assert judge_floor(mixed, BASE) == (None, "")


def test_the_threshold_rises_over_a_few_acted_on_comments_when_rejections_outweigh_them() -> None:
    """7 rejected and 2 acted on under 0.40: 7 - LAMBDA x 2 > 0, so it rises over both."""
    assert LAMBDA * 2 < 7 <= LAMBDA * 3
    below = judged("--++-----", [0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.32, 0.34, 0.36])
    above = judged("++-+", [0.40, 0.41, 0.42, 0.44], first_pr=10)
    floor, why = judge_floor(below + above, BASE)
    assert floor == pytest.approx(0.40)
    assert why == (
        "writers rejected 7 and acted on 2 of the comments under confidence 0.40 "
        "(rejected in #1, #2, #5, #6, #7 and 2 more)"
    )
    # one more acted-on comment under it and the trade no longer pays: 7 - LAMBDA x 3 <= 0
    assert judge_floor(below + judged("+", [0.21], first_pr=14) + above, BASE) == (None, "")


def test_acted_on_comments_keep_the_threshold_under_them() -> None:
    """Rejected comments above two acted-on ones do not pull the threshold over them: it stops at
    the first acted-on comment, where the gain is highest."""
    signals = judged("-----++--+", [0.20, 0.21, 0.22, 0.23, 0.24, 0.30, 0.31, 0.33, 0.34, 0.70])
    floor, why = judge_floor(signals, BASE)
    assert floor == pytest.approx(0.30)
    assert why.startswith("writers rejected 5 and acted on 0 of the comments under confidence 0.30 ")
    kept, held = hold_back(
        [finding("a", confidence=0.29), finding("b", confidence=0.30), finding("c", confidence=0.35)],
        learn(signals, today=TODAY, this_pr=None, base_floor=BASE),
        lambda f: subject(f.message, "x", kind="k", confidence=f.confidence),
    )
    assert [f.message for f in kept] == ["b", "c"] and [h.finding.message for h in held] == ["a"]


def test_a_rise_needs_its_evidence() -> None:
    """MIN_BELOW rejected comments under the threshold, from MIN_PRS pull requests, and at least
    MIN_COMMENTS judged ones in all: short of any, no move however clear the rest."""
    assert (MIN_BELOW, MIN_PRS, MIN_COMMENTS) == (4, 3, 8)
    accepted_above = judged("++++++", [0.80, 0.81, 0.82, 0.83, 0.84, 0.85], first_pr=20)
    four = judged("----", [0.21, 0.22, 0.23, 0.24])
    assert judge_floor(four + accepted_above, BASE)[0] == pytest.approx(BASE + MAX_UP)
    assert judge_floor(four[:3] + accepted_above, BASE) == (None, "")  # 3 rejected under it
    two_prs = [replace(s, pr=1 + i % 2) for i, s in enumerate(four)]
    assert judge_floor(two_prs + accepted_above, BASE) == (None, "")  # rejected on 2 pull requests
    assert judge_floor(four + accepted_above[:3], BASE) == (None, "")  # 7 judged comments


def test_the_threshold_rises_at_most_max_up_and_never_splits_a_tie() -> None:
    """Rejected comments far over the bound: the threshold stops at the bound and the reason counts
    only the comments under it; comments of one confidence are all under it or all over it."""
    signals = judged("-" * 9 + "+", [0.2 + pr / 20 for pr in range(1, 10)] + [0.9])
    floor, why = judge_floor(signals, BASE)
    assert floor == pytest.approx(BASE + MAX_UP)
    under = sum(0.2 + pr / 20 < floor for pr in range(1, 10))
    assert under == 5 and why.startswith(f"writers rejected {under} and acted on 0 of the comments under ")
    # a tie of confidences is wholly under the threshold or wholly over it
    rejected_under = judged("----", [0.21, 0.22, 0.23, 0.24])
    tie = judged("+----", [0.30] * 5, first_pr=5)
    floor, why = judge_floor(rejected_under + tie + judged("+", [0.9], first_pr=10), BASE)
    assert floor == pytest.approx(BASE + MAX_UP)  # over the tie: 8 - LAMBDA > 4
    assert why.startswith("writers rejected 8 and acted on 1 of the comments under confidence 0.48 ")
    tie = judged("++--", [0.30] * 4, first_pr=5)
    floor, why = judge_floor(rejected_under + tie + judged("+", [0.9], first_pr=10), BASE)
    assert floor == pytest.approx(0.30)  # under the tie: 6 - 2 x LAMBDA < 4
    assert why.startswith("writers rejected 4 and acted on 0 of the comments under confidence 0.30 ")


def test_model_findings_under_the_moved_threshold_are_held_with_the_reason() -> None:
    low = [sig("down", pr, subject(f"m{pr}", f"c{pr}", confidence=0.2 + pr / 100)) for pr in range(1, 9)]
    high = [sig("up", pr, subject(f"m{pr}", f"c{pr}", confidence=0.6 + pr / 100)) for pr in range(20, 24)]
    learned = learn(low + high, today=TODAY, this_pr=None, base_floor=BASE)
    weak, sure = finding("weak", confidence=0.4), finding("sure", confidence=0.9)
    lint = replace(weak, source="ruff", rule="ruff/F401")
    kept, held = hold_back(
        [weak, sure, lint], learned, lambda f: subject(f.message, "x", kind="k", confidence=f.confidence)
    )
    assert kept == [sure, lint]
    assert [h.finding for h in held] == [weak]
    assert held[0].reason.startswith(
        "under this repository's judge threshold 0.48 (writers rejected 8 and acted on 0 of the comments"
    )


def test_path_pattern() -> None:
    assert path_pattern(["a/b/c.py"]) == "a/b/c.py"
    assert path_pattern(["a/b/c.py", "a/b/d/e.py"]) == "a/b/**"
    assert path_pattern(["a/x.py", "b/y.py"]) == "**"


def test_subject_of_a_finding_names_its_change_fact_kind_and_code() -> None:
    f = Finding(
        Location("pkg/m.py", Side.RIGHT, 2), Severity.WARNING, "msg", "review/bug", "review", confidence=0.4
    )
    s = subject_of(f, parse_diff(PY_CHANGE))
    assert s == Subject("review/bug", "comparison-operator", "pkg/m.py", "msg", "if n > 1:", 0.4)
    elsewhere = replace(f, location=Location("pkg/m.py", Side.RIGHT, 40))
    assert subject_of(elsewhere, parse_diff(PY_CHANGE)).fact_kind == ""


def test_signals_are_read_once_per_repository_within_the_cache_time() -> None:
    from reviewbot.learning.cache import SignalCache

    now = [0.0]
    reads: list[str] = []
    cache = SignalCache(ttl=60, clock=lambda: now[0])

    def read(repo):
        return lambda: reads.append(repo) or [sig("down", 1, subject())]

    assert cache.signals("a/b", read("a/b")) == ([sig("down", 1, subject())], False)
    assert cache.signals("a/b", read("a/b"))[1] is True
    assert cache.signals("c/d", read("c/d"))[1] is False
    now[0] = 61
    assert cache.signals("a/b", read("a/b"))[1] is False
    assert reads == ["a/b", "c/d", "a/b"]


def test_what_was_learned_is_described() -> None:
    from reviewbot.learning.describe import describe

    signals = [sig("down", pr, subject(f"m{pr}", f"c{pr}")) for pr in (4, 5, 6)]
    text = describe(learn(signals, today=TODAY, this_pr=None, base_floor=BASE), "octo/lib")
    assert text.splitlines() == [
        "What the team of octo/lib taught the review:",
        "  (learned from 3 signals of writers on 3 pull requests)",
        "- hold review/bug on comparison-operator in pkg/core/a.py: rejected 3, acted on 0, in #4, #5, #6; "
        "expires 2027-05-30",
        "- 3 marked comments a new finding is compared with: 3 rejected, 0 acted on",
    ]
    assert (
        describe(learn([], today=TODAY, this_pr=None, base_floor=BASE), "o/r")
        .splitlines()[-1]
        .startswith("- nothing yet")
    )


def test_the_route_minimum_drop_of_a_threshold_inverts_the_routes_confidence() -> None:
    from reviewbot.learning.judge import route_min_drop
    from reviewbot.routes.review import confidence_of

    for drop in (0.01, 0.05, 0.2, 1.0):
        assert route_min_drop(confidence_of(drop)) == pytest.approx(drop, abs=1e-3)

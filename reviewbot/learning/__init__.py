"""Learning from the team, per repository: what its writers did with the bot's earlier comments
(reactions, resolutions, fixes, reply commands) decides which new findings are held back, with the
reason, and how sure the judge must be.

    signals.py     the signals and who may give them (writers, never on the pull request itself)
    similarity.py  how much a finding resembles an earlier comment
    lessons.py     what the signals teach: lessons by kind and by resemblance, evidence, expiry
    judge.py       the judge's threshold for the repository, moved within bounds
    learn.py       signals -> Learnings for one review; combined with the committed file
    holdback.py    Learnings applied to a review's findings: kept, and held back with a reason
    subjects.py    what a finding is about (rule, change fact kind, path, message, code)
"""

from __future__ import annotations

from .holdback import Held, hold_back
from .learn import combine, learn
from .lessons import Learnings, Lesson
from .signals import Signal, Subject, command_of, counted
from .subjects import subject_of

__all__ = [
    "Held",
    "Learnings",
    "Lesson",
    "Signal",
    "Subject",
    "combine",
    "command_of",
    "counted",
    "hold_back",
    "learn",
    "subject_of",
]

"""The repo_qa route: answer a question about the repository from retrieved code, with the files and
lines relied on.

    qa = RepoQA(backend, RepoIndex.open(cache, root))        # vectors=(MiniLM, VectorTable) optional
    qa.answer("Where are redirects followed?")
        -> Answer(found, text, sources=(Source(path, start, end, name), ...))
    RepoQARoute(backend, index_for=...).run(item, changeset)    # answers `item.question` once per review

Retrieval: BM25 over the repository index (and, when built, MiniLM vectors fused by reciprocal rank),
`k` chunks. Relevance, before any model call: a chunk is relevant when it holds at least half of the
question's content words (at least one; matched with the index's own stemming); with none relevant
the answer is "I could not find it." and the model is not asked. Otherwise the relevant chunks are
packed, best first, into `budget_tokens` of the model's tokens as `###PATH: path (lines A-B) [N]`
blocks (the CodeGeeX4 repository-question layout, numbered lines), and the model answers under a
JSON schema `{"found", "answer", "sources"}` where sources are block numbers. The file references
come from our blocks (paths and line ranges), never from the model's text. `found: false` from the
model gives "I could not find it." too.

In a review, the question reaches the route on every work item (`WorkItem.question`); it is answered
once, as an info finding on the first changed line of the item that got it (rule `repo_qa/answer`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..errors import ReviewbotError
from ..knowledge.repo import RepoIndex
from ..knowledge.search_db import Hit
from ..knowledge.text import keywords
from ..model import ChangeSet, Finding, LineKind, Location, Severity, Side, Skipped, WorkItem
from ..ports import Message, ModelBackend, RouteOutcome
from ..router import defuse

__all__ = ["NOT_FOUND", "Answer", "RepoQA", "RepoQARoute", "Source"]

NOT_FOUND = "I could not find it."


@dataclass(frozen=True, slots=True)
class Source:
    path: str
    start: int
    end: int
    name: str


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    found: bool
    text: str
    sources: tuple[Source, ...] = ()
    retrieved: tuple[Source, ...] = ()  # what retrieval offered (relevant chunks, best first)
    retrieval: str = "bm25"
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    found: bool
    answer: str = ""
    sources: list[int] = Field(default_factory=list)


def answer_schema(n_blocks: int) -> dict:
    return {
        "type": "object",
        "properties": {
            "found": {"type": "boolean"},
            "answer": {"type": "string", "maxLength": 600},
            "sources": {
                "type": "array",
                "maxItems": 3,
                "items": {"type": "integer", "minimum": 1, "maximum": max(1, n_blocks)},
            },
        },
        "required": ["found", "answer", "sources"],
        "additionalProperties": False,
    }


def _source(h: Hit) -> Source:
    return Source(h.row.path, h.row.start, h.row.end, h.row.name)


class RepoQA:
    def __init__(
        self,
        backend: ModelBackend | None,
        index: RepoIndex,
        *,
        vectors: tuple | None = None,  # (MiniLM, VectorTable) from knowledge/vectors.py
        k: int = 8,
        budget_tokens: int = 1500,
        min_coverage: float = 0.5,
        max_new_tokens: int = 160,
    ) -> None:
        self.backend = backend
        self.index = index
        self.vectors = vectors
        self.k = k
        self.budget_tokens = budget_tokens
        self.min_coverage = min_coverage
        self.max_new_tokens = max_new_tokens

    @property
    def retrieval(self) -> str:
        return "bm25+vectors" if self.vectors is not None else "bm25"

    def retrieve(self, question: str) -> list[Hit]:
        if self.vectors is not None:
            from ..knowledge.vectors import hybrid

            emb, table = self.vectors
            lexical = self.index.search(question, 50)
            return hybrid(self.index.store, emb, table, question, self.k, lexical_hits=lexical)
        return self.index.search(question, self.k)

    def relevant(self, question: str, hits: list[Hit]) -> list[Hit]:
        """The hits that hold at least `min_coverage` of the question's content words."""
        terms = keywords(question)
        if not terms or not hits:
            return []
        need = max(1, math.ceil(self.min_coverage * len(terms)))
        ids = [h.id for h in hits]
        counts = dict.fromkeys(ids, 0)
        for t in terms:
            for i in self.index.store.matching(ids, t):
                counts[i] += 1
        return [h for h in hits if counts[h.id] >= need]

    def blocks(self, hits: list[Hit]) -> tuple[str, list[Hit]]:
        """`###PATH:` blocks with numbered lines, best first, within the token budget."""
        count = self.backend.count_tokens if self.backend is not None else (lambda s: math.ceil(len(s) / 3.5))
        out: list[str] = []
        used: list[Hit] = []
        spent = 0
        for h in hits:
            body = "\n".join(
                f"{h.row.start + i:>5}| {line}" for i, line in enumerate(h.row.text.splitlines())
            )
            block = f"###PATH: {h.row.path} (lines {h.row.start}-{h.row.end}) [{len(used) + 1}]\n{body}\n"
            cost = count(block)
            if spent + cost > self.budget_tokens:
                if used:
                    continue
                keep = max(200, int(len(block) * self.budget_tokens / max(cost, 1)))
                block = block[:keep].rsplit("\n", 1)[0] + "\n[... cut to the token budget]\n"
                cost = count(block)
            out.append(block)
            used.append(h)
            spent += cost
        return "\n".join(out), used

    def messages(self, question: str, blocks: str) -> list[Message]:
        user = prompts.render("repo_qa_user", blocks=defuse(blocks), question=defuse(question.strip()))
        return [
            {"role": "system", "content": prompts.render("repo_qa_system")},
            {"role": "user", "content": user},
        ]

    def answer(self, question: str) -> Answer:
        t0 = time.perf_counter()
        hits = self.relevant(question, self.retrieve(question))
        retrieved = tuple(_source(h) for h in hits)
        if not hits:
            return Answer(
                question, False, NOT_FOUND, (), (), self.retrieval, seconds=time.perf_counter() - t0
            )
        text, used = self.blocks(hits)
        if self.backend is None:  # retrieval only: the places, no prose
            srcs = tuple(_source(h) for h in used)
            listing = "; ".join(f"{s.path}:{s.start}-{s.end} ({s.name})" for s in srcs[:3])
            return Answer(
                question,
                True,
                f"The most relevant places: {listing}",
                srcs[:3],
                retrieved,
                self.retrieval,
                seconds=time.perf_counter() - t0,
            )
        gen = self.backend.generate(
            self.messages(question, text), schema=answer_schema(len(used)), max_tokens=self.max_new_tokens
        )
        try:
            reply = _Reply.model_validate_json(gen.text.strip())
        except ValidationError:
            reply = _Reply(found=False)
        chosen = [used[n - 1] for n in dict.fromkeys(reply.sources) if 1 <= n <= len(used)]
        if not reply.found or not reply.answer.strip():
            return Answer(
                question,
                False,
                NOT_FOUND,
                (),
                retrieved,
                self.retrieval,
                gen.prompt_tokens,
                gen.generated_tokens,
                time.perf_counter() - t0,
            )
        srcs = tuple(_source(h) for h in (chosen or used[:1]))
        return Answer(
            question,
            True,
            " ".join(reply.answer.split()),
            srcs,
            retrieved,
            self.retrieval,
            gen.prompt_tokens,
            gen.generated_tokens,
            time.perf_counter() - t0,
        )


def format_answer(a: Answer) -> str:
    lines = [a.text]
    if a.found and a.sources:
        lines.append("Sources: " + ", ".join(f"{s.path}:{s.start}-{s.end}" for s in a.sources))
    return "\n".join(lines)


def _first_line(item: WorkItem) -> int:
    for h in item.hunks:
        for ln in h.lines:
            if ln.kind is LineKind.ADDED and ln.new_no:
                return ln.new_no
    for h in item.hunks:
        for ln in h.lines:
            if ln.new_no:
                return ln.new_no
    return 1


class RepoQARoute:
    name = "repo_qa"

    def __init__(self, backend: ModelBackend, index_for: Callable[[Path], RepoQA]) -> None:
        self.backend = backend
        self.index_for = index_for
        self._answered: set[str] = set()

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        t0 = time.perf_counter()
        q = (item.question or "").strip()
        if not q:
            why = "repo_qa: no question was asked"
            return RouteOutcome(not_reviewed=(Skipped(item.path, why, "route"),), declined=why)
        if q in self._answered:
            return RouteOutcome(seconds=time.perf_counter() - t0)  # answered on an earlier item
        if changeset.workdir is None:
            why = "repo_qa: no checkout at head to search (review a git range with a clean work tree)"
            return RouteOutcome(not_reviewed=(Skipped(item.path, why, "route"),), declined=why)
        try:
            qa = self.index_for(Path(changeset.workdir))
            a = qa.answer(q)
        except ReviewbotError as exc:
            why = f"repo_qa: {exc}"
            return RouteOutcome(not_reviewed=(Skipped(item.path, why, "route"),), declined=why)
        self._answered.add(q)
        msg = f"Question: {q}\nAnswer: {format_answer(a)}"
        where = Location(item.path, Side.RIGHT, _first_line(item))
        f = Finding(where, Severity.INFO, msg, "repo_qa/answer", "repo_qa", "answer", source="model")
        return RouteOutcome((f,), (), a.prompt_tokens, a.generated_tokens, time.perf_counter() - t0)

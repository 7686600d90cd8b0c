"""The search route: look up the documentation of the external APIs a change uses, report mismatches
with the source.

    SearchRoute(backend, docs=lambda: DocsIndex.open(cache), web=None).run(item, changeset) -> RouteOutcome

1. The API uses on the item's added lines, resolved through the file's imports (knowledge/uses.py;
   the repository's own top-level packages are not external).
2. Each use is looked up in the documentation index (knowledge/docs.py), which first indexes the
   packages the change imports when they are missing or their installed version changed. Only a
   use whose defining entry is found (following re-exports) is checked.
3. First, without the model: an object the documentation or its code marks deprecated, a keyword
   argument that the documented signature does not accept (removed or renamed; unless it takes
   `**kwargs`), and a keyword argument documented as deprecated. These findings come first.
4. Then one model call, under a JSON schema, over the other uses: each shown with its entry's
   package, version, signature and numbered sentences; the model may name at most `max_problems`
   problems, each pointing at a use and a sentence by number. The cited sentence is copied from
   the index, never from the model's text.
5. With a web backend (`search.web_url`, off by default), uses the index cannot resolve are searched
   on the web and shown to the model as entries whose "package" is the result's URL.

Every finding cites its entry: `package version, object: "the sentence relied on"` (or the URL).
Findings sit on the added line of the use (RIGHT side); rule `search/<kind>`; source `docs`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import prompts
from ..errors import ReviewbotError
from ..knowledge.docs import DocsIndex
from ..knowledge.extract import sentences
from ..knowledge.search_db import Hit
from ..knowledge.uses import ApiUse, api_uses
from ..knowledge.web import SearxNG
from ..model import ChangeSet, Finding, Location, Severity, Side, Skipped, WorkItem
from ..ports import Message, ModelBackend, RouteOutcome
from ..router import defuse, diff_text

__all__ = ["Evidence", "SearchRoute", "cite", "internal_packages"]

MAX_SENTENCES = 8


@dataclass(frozen=True, slots=True)
class Evidence:
    """One use and the documentation it is checked against."""

    use: ApiUse
    package: str  # distribution name, or the web result's URL
    version: str
    obj: str  # the documented object (qualified name) or the web page's title
    signature: str
    sentences: tuple[str, ...]
    entry: Hit | None = None


def cite(ev: Evidence, sentence: str) -> str:
    where = f"{ev.package} {ev.version}".strip()
    return f'{where}, `{ev.obj}`: "{sentence}"'


def internal_packages(changeset: ChangeSet) -> set[str]:
    """Top-level Python packages of the repository under review (not external APIs)."""
    names: set[str] = set()
    for f in changeset.files:
        parts = f.path.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.isidentifier() and (i == 0 or parts[i - 1] in ("src", "lib")):
                names.add(part)
        if len(parts) == 1 and parts[0].endswith(".py"):
            names.add(parts[0][:-3])
    if changeset.workdir:
        root = Path(changeset.workdir)
        for base in (root, root / "src"):
            if base.is_dir():
                names.update(p.name for p in base.iterdir() if p.is_dir() and (p / "__init__.py").is_file())
    return names


class _Problem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    use: int
    sentence: int
    severity: str = "warning"
    message: str = Field(min_length=1)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    problems: list[_Problem] = Field(default_factory=list)


def answer_schema(n_uses: int, max_problems: int) -> dict:
    return {
        "type": "object",
        "properties": {
            "problems": {
                "type": "array",
                "maxItems": max_problems,
                "items": {
                    "type": "object",
                    "properties": {
                        "use": {"type": "integer", "minimum": 1, "maximum": max(1, n_uses)},
                        "sentence": {"type": "integer", "minimum": 0, "maximum": MAX_SENTENCES},
                        "severity": {"type": "string", "enum": ["info", "warning"]},
                        "message": {"type": "string", "minLength": 1, "maxLength": 240},
                    },
                    "required": ["use", "sentence", "severity", "message"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["problems"],
        "additionalProperties": False,
    }


def _pick_sentences(doc: str, use: ApiUse) -> tuple[str, ...]:
    """The entry's sentences, those that name a keyword the code passes first; at most MAX_SENTENCES."""
    all_s = sentences(doc)
    named = [s for s in all_s if any(k in s for k in use.keywords)]
    rest = [s for s in all_s if s not in named]
    return tuple([*named, *rest][:MAX_SENTENCES])


class SearchRoute:
    name = "search"

    def __init__(
        self,
        backend: ModelBackend,
        docs: Callable[[], DocsIndex],
        *,
        web: SearxNG | None = None,
        max_uses: int = 6,
        max_problems: int = 2,
        max_diff_chars: int = 3000,
        max_new_tokens: int = 200,
    ) -> None:
        self.backend = backend
        self._docs_factory = docs
        self._docs: DocsIndex | None = None
        self.web = web
        self.max_uses = max_uses
        self.max_problems = max_problems
        self.max_diff_chars = max_diff_chars
        self.max_new_tokens = max_new_tokens

    def docs(self) -> DocsIndex:
        if self._docs is None:
            self._docs = self._docs_factory()
        return self._docs

    # ------------------------------------------------------------------ evidence
    def evidence(self, item: WorkItem, changeset: ChangeSet) -> tuple[list[Evidence], list[Skipped]]:
        head = changeset.read_head(item.path) if changeset.read_head is not None else None
        if not item.path.endswith((".py", ".pyi")):
            return [], []
        uses = api_uses(head, item, internal_packages(changeset))
        out: list[Evidence] = []
        skipped: list[Skipped] = []
        unresolved: list[ApiUse] = []
        docs = self.docs()
        for use in uses:
            hit = docs.resolve(use.name)
            if hit is None:
                unresolved.append(use)
                continue
            x = hit.row.extra
            out.append(
                Evidence(
                    use,
                    x.get("package", "?"),
                    x.get("version", "?"),
                    hit.row.name,
                    hit.row.signature,
                    _pick_sentences(hit.row.doc, use),
                    hit,
                )
            )
        if self.web is not None:
            for use in unresolved[: self.max_uses]:
                try:
                    results = self.web.search(f"{use.name} python documentation", k=1)
                except ReviewbotError as exc:
                    skipped.append(Skipped(item.path, str(exc), "route"))
                    break
                for r in results:
                    out.append(
                        Evidence(
                            use,
                            r.url,
                            "",
                            r.title or use.name,
                            "",
                            tuple(sentences(r.content)[:MAX_SENTENCES]),
                        )
                    )
        return out, skipped

    # ------------------------------------------------------------------ checks without the model
    def static_findings(self, item: WorkItem, evs: list[Evidence]) -> tuple[list[Finding], set[int]]:
        """Deprecated objects, unknown and deprecated keyword arguments; and which evidence they cover."""
        found: list[Finding] = []
        covered: set[int] = set()
        for i, ev in enumerate(evs):
            if ev.entry is None:
                continue
            x = ev.entry.row.extra
            where = Location(item.path, Side.RIGHT, ev.use.line)
            if x.get("deprecated"):
                msg = f"`{ev.use.written}` is deprecated. Documentation: {cite(ev, x['deprecated'])}"
                found.append(
                    Finding(
                        where,
                        Severity.WARNING,
                        msg,
                        "search/deprecated",
                        "search",
                        "deprecation",
                        source="docs",
                        confidence=1.0,
                    )
                )
                covered.add(i)
            params = x.get("params")
            notes = x.get("param_notes") or {}
            for kw in ev.use.keywords:
                if kw in notes:
                    msg = (
                        f"keyword `{kw}` of `{ev.use.written}` is deprecated. "
                        f"Documentation: {cite(ev, notes[kw])}"
                    )
                    found.append(
                        Finding(
                            where,
                            Severity.WARNING,
                            msg,
                            "search/deprecated-parameter",
                            "search",
                            "deprecation",
                            source="docs",
                            confidence=1.0,
                        )
                    )
                    covered.add(i)
                elif params is not None and not x.get("varkw") and kw not in params and ev.use.called:
                    sig = " ".join(ev.signature.split())
                    msg = (
                        f"`{ev.use.written}` has no parameter `{kw}` (removed or renamed?): this call raises "
                        f"TypeError. Documentation: {cite(ev, sig)}"
                    )
                    found.append(
                        Finding(
                            where,
                            Severity.ERROR,
                            msg,
                            "search/unknown-parameter",
                            "search",
                            "bug",
                            source="docs",
                            confidence=1.0,
                        )
                    )
                    covered.add(i)
        return found, covered

    # ------------------------------------------------------------------ the model's check
    def messages(self, item: WorkItem, evs: list[Evidence]) -> list[Message]:
        blocks = []
        for n, ev in enumerate(evs, 1):
            kws = f" (keywords: {', '.join(ev.use.keywords)})" if ev.use.keywords else ""
            lines = [
                f"[use {n}] line {ev.use.line}: {ev.use.code}{kws}",
                f"  documentation: {ev.package} {ev.version}, {ev.obj}".rstrip(),
            ]
            if ev.signature:
                lines.append("  signature: " + " ".join(ev.signature.split()))
            lines.extend(f"  ({k}) {s}" for k, s in enumerate(ev.sentences))
            if not ev.sentences:
                lines.append("  (no documentation sentences)")
            blocks.append("\n".join(lines))
        system = prompts.render("search_system")
        user = prompts.render(
            "search_user",
            path=defuse(item.path),
            diff=defuse(diff_text(item, self.max_diff_chars)),
            uses=defuse("\n\n".join(blocks)),
            max_problems=str(self.max_problems),
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def run(self, item: WorkItem, changeset: ChangeSet) -> RouteOutcome:
        t0 = time.perf_counter()
        try:
            evs, skipped = self.evidence(item, changeset)
        except ReviewbotError as exc:
            why = f"documentation index: {exc}"
            return RouteOutcome(
                not_reviewed=(Skipped(item.path, why, "route"),),
                seconds=time.perf_counter() - t0,
                declined=why,
            )
        if not evs:
            note = Skipped(
                item.path, "search: no external API use with documentation found on the added lines", "route"
            )
            return RouteOutcome(
                not_reviewed=(note, *skipped),
                seconds=time.perf_counter() - t0,
                declined=_reasons((note, *skipped)),
            )
        findings, covered = self.static_findings(item, evs)
        rest = [ev for i, ev in enumerate(evs) if i not in covered][: self.max_uses]
        prompt_tokens = generated = 0
        if rest:
            gen = self.backend.generate(
                self.messages(item, rest),
                schema=answer_schema(len(rest), self.max_problems),
                max_tokens=self.max_new_tokens,
            )
            prompt_tokens, generated = gen.prompt_tokens, gen.generated_tokens
            try:
                answer = _Answer.model_validate_json(gen.text.strip())
            except (ValidationError, json.JSONDecodeError) as exc:
                why = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc
                skipped.append(Skipped(item.path, f"search: model answer invalid ({why})", "route"))
                answer = _Answer()
            for p in answer.problems[: self.max_problems]:
                if not 1 <= p.use <= len(rest):
                    continue
                ev = rest[p.use - 1]
                if not 0 <= p.sentence < len(ev.sentences):
                    continue  # a citation must be a sentence we showed
                sev = Severity.INFO if p.severity == "info" else Severity.WARNING
                msg = f"{' '.join(p.message.split())} Documentation: {cite(ev, ev.sentences[p.sentence])}"
                findings.append(
                    Finding(
                        Location(item.path, Side.RIGHT, ev.use.line),
                        sev,
                        msg,
                        "search/docs",
                        "search",
                        "documentation",
                        source="model",
                    )
                )
        declined = _reasons(skipped) if skipped and not findings else None  # nothing but why not
        return RouteOutcome(
            tuple(findings),
            tuple(skipped),
            prompt_tokens,
            generated,
            time.perf_counter() - t0,
            declined=declined,
        )


def _reasons(skipped: Sequence[Skipped]) -> str:
    return "; ".join(sk.reason for sk in skipped)

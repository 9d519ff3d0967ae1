"""Two more of narration's model sentences measured on held-out repositories, as the briefing's are
(``training.briefing_eval``): the share of the model's sentences that pass the check narration applies
and say what people said (ROUGE-L F1 >= ``note_eval.AGREES``), base model vs adapter.

- **Summary of code without its own description** (``summaries``; narration's ``unit_task``): the
  prepared ``codesearchnet`` examples of a split, whose prompts are ``prompts.unit_prompt``'s (each is
  built again from its shared data row with ``sources.code_example`` and must come out the same),
  scored against the developer's own docstring, and checked as narration checks a unit's answer
  (``narrator.checks.faithful.check``, two sentences at most). Beside the models, a rule a reader can judge
  the model by: the function's own name turned into words (``name_words``: ``parseConfig`` -> "Parse
  config."), scored the same way.
- **Sentence under an informative subject** (``explanations``; narration's ``commit_task`` when a
  subject says something and nobody explained it): commits of ``conventional_commits/`` whose subject
  is informative and whose body opens with an explanation (the first sentence, read as training reads
  explain targets, ``cleaning.explain_target``). The prompt is ``prompts.explain_prompt`` of the subject
  as narration heads it, the paths and the diff cut to narration's budget; the check is narration's for
  a commit sentence (``headlines.check_explanation``, with the changed files read from the diff when it
  shows every path). Dependency updates and releases are left out: narration never asks for them.

No repository any task of DATA trains or is tuned on is measured (``training_repositories``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from db.errors import DataError
from narrator.checks.faithful import check
from narrator.checks.headlines import check_explanation
from narrator.eval.metrics import stratified_sample
from narrator.facts.changes import repeats
from narrator.facts.subjects import read_subject
from narrator.model import prompts
from training.briefing_eval import _models, briefing_manifest, generate
from training.briefing_tasks import CONVENTIONAL, kind_row, language_of, read_folder, task_splits
from training.cleaning import Filters, explain_target
from training.dataset import check_prompt_version, load_split
from training.examples import Example
from training.note_eval import AGREES, _note_scores, first_sentence_line
from training.splits import repository_of

UNIT_TOKENS = 40
"""New tokens a unit's summary may take (``narrator.pipeline.tasks.unit_task``)."""
UNIT_SENTENCES = 2
"""Sentences of a unit's answer narration keeps (``narrator.pipeline.tasks.unit_task``)."""
EXPLAIN_TOKENS = 40
"""New tokens a sentence under a subject may take (``narrator.pipeline.tasks.commit_task``)."""


@dataclass(frozen=True)
class Case:
    """One held-out example with what its check and the name rule need."""

    example: Example
    repo: str
    name: str = ""
    """The unit's name (summaries)."""
    subject: str = ""
    """The subject as narration heads it (explanations)."""
    files: tuple[dict, ...] | None = None
    """The changed files as narration records them, None when the data set's diff leaves some out."""


# --- which repositories are held out ------------------------------------------------------------------


def _manifest(data: Path) -> dict:
    path = data / "manifest.json"
    if not path.is_file():
        raise DataError(f"No manifest.json in {data}: run python -m training prepare --out {data} first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise DataError(f"{path} is not valid JSON") from None


def _source_folder(source: str, shared: Path) -> Path:
    """Where a prepared source's rows are: its recorded location, else the folder of that name in ``shared``."""
    from training.sources import SourceSpec

    location = Path(SourceSpec.parse(source).location).expanduser()
    return location if location.exists() else shared / location.name


def training_repositories(data: Path, shared: Path) -> set[str]:
    """Every repository a task of ``data`` trains or is tuned on: each ``prepare`` source's repositories
    when it gave training or validation rows (all of them: more than needed, never fewer), and the training
    and validation repositories of each ``prepare-briefing`` task."""
    from training.sources import SourceSpec, read_rows

    repos: set[str] = set()
    prepared = _manifest(data) if (data / "manifest.json").is_file() else {}  # prepare-briefing's data alone has none
    for source, counts in prepared.get("splits_by_source", {}).items():
        if counts.get("train", 0) or counts.get("val", 0):
            spec = SourceSpec.parse(source)
            folder = _source_folder(source, shared)
            if not folder.exists():
                raise DataError(f"No rows of {source} in {shared}: give --shared-data")
            spec = SourceSpec(spec.kind, str(folder), spec.split)
            repos |= {repo for raw in read_rows(spec) if (repo := repository_of(raw.row))}
    briefing = briefing_manifest(data) if (data / "briefing.json").is_file() else {}
    for task in briefing.get("tasks", {}).values():
        for split in ("train", "val"):
            repos |= set(task.get("repositories", {}).get(split, {}))
    return repos


def _even(cases: list[Case], limit: int | None, seed: int) -> list[Case]:
    """``limit`` cases taken round-robin over their repositories (all of them, in order, without one)."""
    return cases if limit is None else stratified_sample(cases, limit, seed, key=lambda case: case.repo)


# --- summary of code ----------------------------------------------------------------------------------

_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def name_words(name: str) -> str:
    """A unit's own name as a sentence: its last part (``Class.method`` -> ``method``) split at
    underscores, dashes and capitals (``parse_config``, ``parseConfig`` -> "Parse config."); acronyms
    stay capitals ("readHTTPBody" -> "Read HTTP body.")."""
    last = re.split(r"\.|::|->|#|\\|/", name.strip())[-1]
    words = [w if len(w) > 1 and w.isupper() else w.lower() for w in _CAMEL.findall(last)]
    if not words:
        return ""
    return " ".join([words[0][:1].upper() + words[0][1:]] + words[1:]) + "."


def summary_cases(data: Path, shared: Path, split: str = "test", limit: int | None = None, seed: int = 0) -> list[Case]:
    """The prepared ``codesearchnet`` examples of ``split`` with their unit's name and repository, read
    again from their shared rows; ``limit`` of them taken evenly over the repositories.

    Every prepared prompt must be what ``sources.code_example`` (``prompts.unit_prompt``) builds from
    its row today; examples of a training repository are left out.
    """
    from training.sources import SourceSpec, code_example, read_rows

    check_prompt_version(data)
    manifest = _manifest(data)
    examples = load_split(data, "codesearchnet", split)
    filters = Filters(**manifest.get("filters", {}))
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for source in sorted({e.source for e in examples}):
        folder = _source_folder(source, shared)
        if not folder.exists():
            raise DataError(f"No rows of {source} in {shared}: give --shared-data")
        for raw in read_rows(SourceSpec(SourceSpec.parse(source).kind, str(folder))):
            built = code_example(raw, filters, source)
            if isinstance(built, Example):
                name = str(raw.row.get("func_name") or raw.row.get("name") or "")
                rows[(built.messages[-1]["content"], built.target)] = (name, repository_of(raw.row) or "")
    trained = training_repositories(data, shared)
    cases = []
    for example in examples:
        found = rows.get((example.messages[-1]["content"], example.target))
        if found is None or example.messages != prompts.unit_prompt(*_unit_parts(example)):
            raise DataError(f"{data}'s {split} codesearchnet examples are not today's unit prompts of their rows: "
                            f"run python -m training prepare again")
        if found[1] not in trained:
            cases.append(Case(example, found[1] or example.source, name=found[0]))
    if not cases:
        raise DataError(f"No codesearchnet {split} examples of held-out repositories in {data}")
    return _even(cases, limit, seed)


def _unit_parts(example: Example) -> tuple[str, str, str, str, str | None]:
    """``unit_prompt``'s arguments that show in its text (the name and path never do)."""
    code = example.messages[-1]["content"].split("\n\n", 1)[-1]
    return code, "", "function", "", example.language


def unit_passes(answer: str, example: Example) -> str:
    """What narration keeps of a unit's answer (``Narration._judge``): ``faithful.check``'s text, '' for none."""
    return check(answer, "\n".join(m["content"] for m in example.messages), UNIT_SENTENCES).text


def _scored(cases: list[Case], answers: list[str], judge) -> dict:
    """``_note_scores`` of what would be shown (the checked text, else the answer's first line) with
    narration's own check deciding what passes."""
    kept = [judge(answer, case) for answer, case in zip(answers, cases)]
    shown = [text or first_sentence_line(answer) for text, answer in zip(kept, answers)]
    return _note_scores([case.example for case in cases], shown, AGREES, [bool(text) for text in kept])


def summaries_evaluation(cases: list[Case], model, tokenizer, adapter: Path | None = None, compare: bool = False,
                         max_length: int = 384, batch_size: int = 8) -> dict:
    """The name rule's and each model's summaries against the developers' docstrings (module docstring)."""
    examples = [case.example for case in cases]
    judge = lambda answer, case: unit_passes(answer, case.example)  # noqa: E731
    results: dict = {"summaries": len(cases), "repositories": len({case.repo for case in cases}), "agree_at": AGREES,
                     "name_rule": _scored(cases, [name_words(case.name) for case in cases], judge)}
    for label, context in _models(model, adapter, compare):
        with context():
            answers = generate(model, tokenizer, examples, UNIT_TOKENS, max_length, batch_size)
        results[label] = _scored(cases, answers, judge)
    return results


# --- sentence under an informative subject ---------------------------------------------------------------

_SECTION = re.compile(r"^diff --git a/(.+?) b/(.+)$", re.M)


def files_of(paths: list[str], diff: str) -> tuple[dict, ...] | None:
    """The changed files as narration records them (``{path, change, added, removed}``) from the diff, or
    None when the diff (cut by the data set) does not show every path: no git check then."""
    files = {}
    sections = list(_SECTION.finditer(diff))
    for at, match in enumerate(sections):
        text = diff[match.end() : sections[at + 1].start() if at + 1 < len(sections) else len(diff)]
        lines = text.split("\n")
        change = ("added" if "\nnew file mode" in text else "deleted" if "\ndeleted file mode" in text
                  else "renamed" if "\nrename from" in text else "modified")
        files[match.group(2)] = {"path": match.group(2), "change": change,
                                 "added": sum(1 for l in lines if l.startswith("+") and not l.startswith("+++")),
                                 "removed": sum(1 for l in lines if l.startswith("-") and not l.startswith("---"))}
    return tuple(files[p] for p in paths) if paths and all(p in files for p in paths) else None


def explanation_case(row: dict) -> Case | str:
    """A ``conventional_commits`` row as an explanation case, or why it is left out."""
    kept = kind_row(row)
    if isinstance(kept, str):
        return kept
    if kept.kind == "build":
        return "dependency update"  # narration adds no sentence to one (changes.needs_model)
    if not read_subject(str(row.get("subject") or "")).informative:
        return "uninformative subject"
    subject = str(row.get("subject") or "")
    target = explain_target(subject, f"{subject}\n\n{row.get('body') or ''}", Filters(max_explain_sentences=1))
    if not target:
        return "no explanation in the body"
    if repeats(kept.subject, target):
        return "body repeats the subject"
    # commitpackft: the task whose subject + diff -> explanation examples the model is trained on
    messages = prompts.explain_prompt(kept.subject, kept.paths, kept.patch)
    example = Example("commitpackft", language_of(kept.paths), messages, target, f"{CONVENTIONAL}:{kept.repo}")
    return Case(example, kept.repo, subject=kept.subject, files=files_of(kept.paths, str(row.get("diff") or "")))


def explanation_cases(data: Path, shared: Path, split: str = "test", limit: int | None = None,
                      seed: int = 0) -> list[Case]:
    """The explanation cases of ``split``'s ``conventional_commits`` repositories (split as ``prepare-briefing``
    split ``data``), training repositories left out; ``limit`` of them taken evenly over the repositories."""
    manifest = briefing_manifest(data)
    splits = task_splits(shared, "change_kind", int(manifest.get("seed", 0)))
    trained = training_repositories(data, shared)
    cases = []
    for row in read_folder(shared / CONVENTIONAL):
        repo = repository_of(row) or ""
        if splits.get(repo) == split and repo not in trained and isinstance(case := explanation_case(row), Case):
            cases.append(case)
    if not cases:
        raise DataError(f"No {split} commits with an explanation in {shared / CONVENTIONAL} outside the training "
                        f"repositories")
    return _even(cases, limit, seed)


def explanation_passes(answer: str, case: Case) -> str:
    """What narration keeps of a sentence under ``case``'s subject (``headlines.check_explanation``), '' for none."""
    shown = "\n".join(m["content"] for m in case.example.messages)
    files = list(case.files) if case.files is not None else None
    return check_explanation(answer, shown, case.subject, files).text


def explanations_evaluation(cases: list[Case], model, tokenizer, adapter: Path | None = None, compare: bool = False,
                            max_length: int = 384, batch_size: int = 8) -> dict:
    """Each model's sentence under the subject against the developer's own first sentence (module docstring)."""
    examples = [case.example for case in cases]
    results: dict = {"explanations": len(cases), "repositories": len({case.repo for case in cases}), "agree_at": AGREES,
                     "git_checked": sum(case.files is not None for case in cases)}
    for label, context in _models(model, adapter, compare):
        with context():
            answers = generate(model, tokenizer, examples, EXPLAIN_TOKENS, max_length, batch_size)
        results[label] = _scored(cases, answers, explanation_passes)
    return results

"""Every prompt the narrator sends to a model, and its version.

Prompt builders are pure functions from named inputs to chat messages. ``PROMPT_VERSION`` is part of
every cache key: change any wording here and bump it, so cached narratives are redone. Training
(``training/``) builds its examples with these same functions, so the model is tuned on exactly what
it sees at run time.
"""

from __future__ import annotations

PROMPT_VERSION = "2026-12-02.1"

Messages = list[dict[str, str]]

SYSTEM = (
    "You explain software to managers who do not read code. "
    "Write plain English for a non-technical reader: no code, no symbols, no jargon. "
    "Say only what the input shows; never invent names, numbers or versions."
)

LANGUAGE_NAMES = {
    "python": "Python",
    "java": "Java",
    "javascript": "JavaScript",
    "php": "PHP",
    "ruby": "Ruby",
    "go": "Go",
}


def _chat(user: str) -> Messages:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def unit_prompt(code: str, name: str, kind: str, path: str, language: str | None) -> Messages:
    """Code -> one-sentence summary (the CodeSearchNet task)."""
    lang = LANGUAGE_NAMES.get(language or "", "")
    what = f"{lang} {kind}".strip() if kind != "file" else "file"
    # The name and path are not spelled out in the question: the small model parrots them back
    # (often mangled), and the code already shows the name.
    return _chat(f"In one short sentence, say what this {what} does.\n\n{code.strip()}")


def _change_parts(files: list[str], patch: str) -> list[str]:
    parts = []
    if files:
        parts.append("Files changed: " + ", ".join(files[:12]) + (" and more" if len(files) > 12 else ""))
    parts.append("Diff:\n" + patch.strip())
    return parts


def commit_prompt(files: list[str], patch: str) -> Messages:
    """Diff -> a one-line title of the change (the CommitPackFT task, diff only).

    Used only when the developer's own subject says nothing ("wip", "fix"): the model's title then
    heads the change, labelled as written by the model. Trained with the developer's subject as the
    target, so the prompt never shows a subject.
    """
    return _chat(
        "In one short sentence, say what this change does.\n\n" + "\n\n".join(_change_parts(files, patch))
    )


def explain_prompt(subject: str, files: list[str], patch: str) -> Messages:
    """Subject + diff -> one plain sentence of what the change means (the CommitPackFT explain task).

    Used for an informative subject that has no body: the developer's subject stays the headline and
    the model may add one sentence below it. Trained with the first sentences of developers' own
    message bodies as targets, on commits whose subject is shown exactly like this.
    """
    return _chat(
        "A developer titled this change: " + " ".join(subject.split()) + "\n"
        "In one short sentence, explain in plain words what it means for the people who use the software.\n\n"
        + "\n\n".join(_change_parts(files, patch))
    )


def summary_prompt(scope: str, name: str, facts: list[str]) -> Messages:
    """Children narratives -> one summary of a file, a folder (module) or the whole project.

    ``scope`` is 'file', 'folder' or 'project'; ``facts`` are the already-narrated sentences of its
    parts, each prefixed by the part's name.
    """
    listing = "\n".join(f"- {fact}" for fact in facts)
    if scope == "project":
        question = f"In two sentences, what does the software called {name} do, for someone who does not read code?"
    else:
        question = f"In one sentence, what is the {scope} {name} for?"
    return _chat(f"{question}\n\nIts parts:\n{listing}")

"""Every prompt the narrator sends to a model, and its version.

Prompt builders are pure functions from named inputs to chat messages. ``PROMPT_VERSION`` is part of
every cache key: change any wording here and bump it, so cached narratives are redone. Training
(``training/``) builds its examples with these same functions, so the model is tuned on exactly what
it sees at run time.
"""

from __future__ import annotations

PROMPT_VERSION = "2026-11-27.2"

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


def commit_prompt(subject: str, body: str, files: list[str], patch: str) -> Messages:
    """Diff -> short plain explanation of the change (the CommitPackFT task).

    ``subject``/``body`` are the developer's message; at training time they are the target and are
    passed empty, so the model learns to explain a change from the diff alone.
    """
    parts = []
    if subject:
        parts.append(f"Commit message: {subject.strip()}")
        if body.strip():
            parts.append(body.strip()[:600])
    if files:
        parts.append("Files changed: " + ", ".join(files[:12]) + (" and more" if len(files) > 12 else ""))
    parts.append("Diff:\n" + patch.strip())
    return _chat(
        "In one or two short sentences, explain what this change does for the people who use the software.\n\n"
        + "\n\n".join(parts)
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

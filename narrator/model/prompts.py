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


# --- the briefing's model tasks (issue 18) ------------------------------------------------------------

CHANGE_KINDS = ("feature", "fix", "docs", "tests", "ci", "build", "maintenance")
"""The kinds ``change_kind_prompt`` asks for: a feature, a fix, documentation, tests, CI,
build/dependencies ("build") and refactoring/maintenance ("maintenance")."""
BREAKING = "breaking"
"""The word added after the kind when people who use the software must change something for it."""


def change_kind_prompt(subject: str, files: list[str], patch: str) -> Messages:
    """Subject (its ``feat:``-style prefix removed) + diff -> the kind of change and a breaking flag.

    The answer is ``change_kind_answer``'s short fixed form ("fix", "feature, breaking"), read back
    with ``read_change_kind``. Trained on developers' own conventional-commit types, with the prefix
    left out of the subject, so the model judges the change, not the label.
    """
    return _chat(
        "A developer titled this change: " + " ".join(subject.split()) + "\n"
        "What kind of change is it? Answer with one word of: " + ", ".join(CHANGE_KINDS) + ". "
        f"Add \", {BREAKING}\" if people who use the software must change something because of it.\n\n"
        + "\n\n".join(_change_parts(files, patch))
    )


def change_kind_answer(kind: str, breaking: bool) -> str:
    """The answer ``change_kind_prompt`` asks for: 'fix' or 'feature, breaking'."""
    if kind not in CHANGE_KINDS:
        raise ValueError(f"kind must be one of {CHANGE_KINDS}, not {kind!r}")
    return f"{kind}, {BREAKING}" if breaking else kind


def read_change_kind(text: str) -> tuple[str, bool] | None:
    """``(kind, breaking)`` from a model's answer to ``change_kind_prompt``, or None when its first
    word is no kind (the rules then decide)."""
    words = [w.strip(" .,:;!\"'`*").lower() for w in text.replace(",", " ").split()]
    words = [w for w in words if w]
    if not words or words[0] not in CHANGE_KINDS:
        return None
    return words[0], BREAKING in words[1:3]


def user_note_prompt(subject: str, files: list[str], patch: str) -> Messages:
    """Subject + diff -> one release-note sentence for the people who use the software.

    Trained on the changelog entries developers added in the same commit (news fragments,
    changesets, an "Unreleased" line); the changelog files themselves are left out of ``files``
    and ``patch``, at run time too, so the model never copies an entry it is shown.
    """
    return _chat(
        "A developer titled this change: " + " ".join(subject.split()) + "\n"
        "Write the release note for it: one short sentence that tells the people who use the software what changed for them.\n\n"
        + "\n\n".join(_change_parts(files, patch))
    )


# --- prompts as token ids (a local model's view, shared by training and the change-kind head) ----------


def prompt_token_ids(tokenizer, text: str) -> list[int]:
    """``text``'s token ids; the chat template writes the special tokens itself, so none are added."""
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def fit_prompt(tokenizer, messages: Messages, budget: int) -> list[int]:
    """The prompt's ids (chat template + assistant header) in at most ``budget`` tokens, cutting the end
    of the last user message (the code or diff part of every prompt) if needed, at a line end when one
    is near."""
    messages = [dict(m) for m in messages]

    def ids() -> list[int]:
        return prompt_token_ids(tokenizer, tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))

    current = ids()
    user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    for _ in range(8):
        excess = len(current) - budget
        content = messages[user]["content"]
        if excess <= 0 or not content:
            break
        chars_per_token = len(content) / max(1, len(prompt_token_ids(tokenizer, content)))
        keep = max(0, len(content) - int((excess + 2) * chars_per_token) - 1)
        newline = content.rfind("\n", 0, keep)
        if newline > keep - 200 and newline > 0:
            keep = newline  # cut at a line end when one is near: the diff/code stays line-shaped
        messages[user]["content"] = content[:keep]
        current = ids()
    return current

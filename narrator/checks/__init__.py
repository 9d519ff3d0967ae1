"""Checks a model sentence must pass before it is shown: faithful to its input (``faithful``), and for a
headline or a sentence under a subject, agreeing with the subject and with git, and adding something (``headlines``)."""

"""Helpers shared by the test modules, one module a topic (no test module imports another):

- ``repos``: git repositories built for tests (empty, busy, long, as of today) and git's config kept out;
- ``narration``: narrating in the test's process, a scripted model, ``show`` as Markdown;
- ``cli``: ``python -m narrator`` as a process, its environment, the one-line error;
- ``dashboard``: the app file, hostile text, what a page shows, a job worker that never starts;
- ``pages``: the tags and text of an HTML report, the text of a PDF, a briefing's counted sentences;
- ``browser``: Chromium and the dashboard served by ``streamlit run``;
- ``training``: rows of the training data sets and examples of each task;
- ``tiny_model``: a tiny Llama built in-process, and the fixtures that save it once per module;
- ``chat_server``, ``https_git``: a local OpenAI-compatible server and a git server over https.

Fixtures every module gets (``settings``, ``sample_repo``, ``tiny_base``) and the ``slow`` marker live in
``tests/conftest.py``."""

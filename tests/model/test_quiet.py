"""Third-party warnings stay off the console of a narration: our progress and messages only."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.helpers.cli import ROOT, cli_env
from tests.helpers.tiny_model import build_wide_tiny_model

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]  # see tests/conftest.py

NOISE = ("Warning", "pip install", "warnings.warn")


def test_a_narration_with_a_local_model_shows_no_library_warnings(sample_repo, tmp_path):
    home, model = tmp_path / "home", build_wide_tiny_model(tmp_path / "tiny64")  # NF4 on CPU: bitsandbytes speaks
    env = {**cli_env(home, model), "CODE_NARRATOR_QUANT": "nf4", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-W", "always", "-m", "narrator", "narrate", sample_repo.working_tree_dir,
                             "--commits", "2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stderr.replace("\r", "\n").splitlines() if any(n in line for n in NOISE)]
    assert shown == []
    assert "Warning" in (home / "logs" / "libraries.log").read_text(), "routed to the log, not lost"


def test_a_library_warning_during_a_narration_goes_to_the_log_and_ours_to_stderr(sample_repo, tmp_path):
    # The fake model warns as transformers and bitsandbytes do, from their own modules, mid-narration.
    script = textwrap.dedent('''
        import logging, runpy, warnings
        import narrator.model.fake

        answer = narrator.model.fake.FakeBackend.generate

        def noisy(self, prompts, max_new_tokens=64):
            warnings.warn_explicit("`is_gradient_checkpointing` is deprecated", FutureWarning,
                                   "transformers/modeling_utils.py", 3303, module="transformers.modeling_utils")
            warnings.warn_explicit("TypedStorage is deprecated", UserWarning, "torch/storage.py", 1,
                                   module="torch.storage")
            logging.getLogger("bitsandbytes.backends.cpu.ops").warning(
                "Failed to load CPU gemm_4bit_forward from kernels-community. Please `pip install kernels`")
            logging.getLogger("narrator.git.clones").warning("Using the existing copy of the repository")
            return answer(self, prompts, max_new_tokens)

        narrator.model.fake.FakeBackend.generate = noisy
        runpy.run_module("narrator", run_name="__main__")  # python -m narrator, with arguments from sys.argv
    ''')
    home = tmp_path / "home"
    result = subprocess.run([sys.executable, "-c", script, "narrate", sample_repo.working_tree_dir, "--commits", "2"],
                            cwd=ROOT, env=cli_env(home), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not any(n in result.stderr for n in (*NOISE, "deprecated")), result.stderr
    assert "Using the existing copy of the repository" in result.stderr, "our own log messages still show"
    log = (home / "logs" / "libraries.log").read_text()
    for line in ("FutureWarning: `is_gradient_checkpointing` is deprecated", "UserWarning: TypedStorage is deprecated",
                 "bitsandbytes.backends.cpu.ops WARNING: Failed to load CPU gemm_4bit_forward"):
        assert line in log
    assert "existing copy" not in log.replace("\n", " ").split("bitsandbytes")[0]

"""The cocktail study's data: the shared folders it trains and tests on (``STUDY_SOURCES``), the held-out
summaries it scores BLEU on (``BLEU_SOURCE``), and preparing them once into a study folder."""

from __future__ import annotations

from pathlib import Path

from db.errors import DataError


STUDY_SOURCES = (
    "csn:{shared}/csn_style_extracted_more", "csn:{shared}/csn_style_extracted",
    "commitpackft:{shared}/commitpack_style_mined_more@train", "commitpackft:{shared}/commitpack_style_mined@test",
)
"""What ``--data`` defaults to, prepared from the project's shared data: training on 38 repositories,
testing on 16 others, for both tasks (``csn_style_extracted`` keeps its own test partition)."""
BLEU_SOURCE = "csn_style_extracted"
"""The shared folder of held-out CodeSearchNet-format rows whose summaries get a BLEU score by default."""


def shared_data() -> Path:
    """The project's shared data folder: ``CODE_NARRATOR_SHARED_DATA``, else ``../shared/data`` beside the checkout."""
    import os

    from narrator.settings import ROOT

    return Path(os.environ.get("CODE_NARRATOR_SHARED_DATA") or ROOT.parent / "shared" / "data")


def prepare_study_data(shared: Path, out: Path, briefing: bool = False) -> Path:
    """``out/data``: ``STUDY_SOURCES`` from ``shared`` prepared with the default filters, and with ``briefing``
    the briefing's tasks too (``prepare-briefing``'s, the four-task study's); once, reused after."""
    from training.dataset import PrepareConfig, prepare
    from training.sources import SourceSpec

    target = study_data_folder(out)
    if not (target / "manifest.json").is_file():
        sources = tuple(SourceSpec.parse(text.format(shared=shared)) for text in STUDY_SOURCES)
        missing = [spec.location for spec in sources if not Path(spec.location).exists()]
        if missing:
            raise DataError(f"No study data at {missing[0]}: give --data DIR (python -m training prepare) "
                            "or --shared-data DIR")
        prepare(PrepareConfig(sources=sources, out=target))
    if briefing and not (target / "briefing.json").is_file():
        from training.briefing_tasks import prepare_briefing

        prepare_briefing(shared, target)
    return target


def study_data_folder(out: Path) -> Path:
    """Where ``prepare_study_data`` puts the study's data in study folder ``out``."""
    return Path(out) / "data"

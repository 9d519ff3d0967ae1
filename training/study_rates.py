"""The optimizers and learning rates the cocktail study compares.

Kept apart from ``training.study_grid`` (which builds the grid from them) so that ``training.study_claims``
(which states the study's claims) reads them without importing the grid: imports point one way,
study -> study_grid -> study_rates and study -> study_report -> study_claims -> study_rates.
"""

from __future__ import annotations

from dataclasses import fields

from training.config import OptimizerName, TrainConfig

_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}
DEFAULT_OPTIMIZER: OptimizerName = _DEFAULTS["optimizer"]
DEFAULT_LR: float = _DEFAULTS["learning_rate"]
OTHER_LR = 1e-3
"""The second learning rate of the optimizer comparison."""
TRANSFER_LRS = (5e-5, DEFAULT_LR, 1e-3)
"""Learning rates tried on each task alone: is the best on one also the best on the other?"""

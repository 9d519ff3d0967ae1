"""Tests of training/: data, splits, the mixture, LoRA training, the study and the briefing tasks."""

"""Tests of narrator/model: the backend registry, the backends, the change-kind head, a quiet console."""

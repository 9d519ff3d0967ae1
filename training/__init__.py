"""Fine-tune the narration model: data, cocktail mixture, LoRA fit, evaluation, run records.

The stages, each in its own module:

- ``sources`` / ``mining`` read raw rows (CodeSearchNet, CommitPackFT, local git repositories),
  ``cleaning`` applies the reference filters, ``splits`` deduplicates, splits and compacts, and
  ``dataset`` writes ready prompt/target rows built with ``narrator.model.prompts`` (the run-time format);
- ``mixture`` draws the seeded cocktail of both tasks, ``batches`` tokenizes with the prompt masked;
- ``trainer`` runs the LoRA fit (``config`` holds the typed settings and the factories), with
  ``checkpoints`` for resuming, ``runs`` for the recorded history, ``evaluate`` for cross-entropy;
- ``sweep`` and ``bench`` run grids and throughput checks; ``__main__`` is the command line.
"""

"""The model: prompts (shared with training), one registry of backends, the change-kind head, quiet libraries."""

"""Pure functions over what git and people wrote: categories and paths, subjects and messages, how a change
is told, its impact, the project's own description, provenance, plain readings and the glossary."""

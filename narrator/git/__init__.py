"""Everything that runs git: safe clones and sources, reading files and code units, commits and their diffs,
dates as git wrote them. Nothing above this package runs git."""

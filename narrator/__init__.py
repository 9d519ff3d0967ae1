"""Code Narrator: tells non-technical readers what a repository does and what changed."""

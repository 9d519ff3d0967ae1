"""Renderers of what the service says: the terminal `show`, Markdown/HTML/PDF exports, charts."""

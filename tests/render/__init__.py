"""Tests of narrator/render: show's terminal text, the Markdown, HTML and PDF reports, inline jargon."""

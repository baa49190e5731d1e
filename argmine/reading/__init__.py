"""Reading: an input file or string becomes a ``Document`` of posts (article, comments, title).

``readers.py`` reads any input through the input-format registry (``inputs/``: plain text, JSON threads,
JSON Lines, Reddit); ``layout.py`` finds the comments in plain text; ``boilerplate.py`` the lines that
are page furniture.
"""

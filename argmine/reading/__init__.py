"""Reading: an input file or string becomes a ``Document`` of posts (article, comments, title).

``readers.py`` sniffs and reads the input formats (plain text, thread JSON, JSON Lines, Reddit);
``layout.py`` finds the comments in plain text; ``boilerplate.py`` the lines that are page furniture.
"""

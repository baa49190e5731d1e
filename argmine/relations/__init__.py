"""Relations: the models that score support and attack between units.

``parser.py`` is argmine's contextual parser (the embedded default) and ``replies.py`` its answered-post
link; ``pair.py`` runs pair models (argmine's former recipe, any NLI checkpoint) over ``candidates.py``'s
pairs, with ``scorer.py`` as their second stage.
"""

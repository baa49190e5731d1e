"""Decoding: a relation model's scores become argument trees and confident relations under one ``Decision``.

``trees.py``: the ``Decision``, the maximum arborescences (per post for pair models, per window or post
for the parser) and the answered-post links that join a thread's trees.
"""

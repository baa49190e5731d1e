"""Units: each post's text split into argumentative units (exact character spans), and its quotes.

``segmenter.py`` splits posts into units; ``quotes.py`` finds what a comment quotes of the post it answers.
"""

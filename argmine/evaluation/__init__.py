"""Evaluation, beside the pipeline: gold corpora and the metrics that score a model against them.

``corpora.py`` reads the gold corpora into ``Graph``s (each corpus declares its reader, kind and split);
``metrics.py`` scores a model beside the structural baselines on the same units (``evaluate``).
"""

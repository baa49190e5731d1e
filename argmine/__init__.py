"""argmine: mine support/attack argument graphs from news articles and reader-comment threads."""

__version__ = "0.1.0"

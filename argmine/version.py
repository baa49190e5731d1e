"""argmine's version (one place: the package, the graph's generator and the build read it)."""

__version__ = "0.1.0"

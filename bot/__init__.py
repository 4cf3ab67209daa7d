"""socialbot: answers about social enterprises in Sundsvall and Västervik, and books meetings."""

__version__ = "0.1.0"

"""Curated content: loading the YAML files staff edit, and checking them.

`load_content(directory)` returns a `Content` or raises `ContentError` whose `problems` each name a file
and line. Nothing else in the bot reads the YAML files.
"""

from bot.content.loader import ContentError, load_content
from bot.content.model import Contact, Content, Region, Topic
from bot.content.problems import Problem

__all__ = ["Contact", "Content", "ContentError", "Problem", "Region", "Topic", "load_content"]

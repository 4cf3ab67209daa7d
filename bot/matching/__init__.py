"""Matching a free question to a topic, honestly: a topic, a "did you mean", or no topic."""

from bot.matching.matcher import Match, Matcher, TopicMatcher

__all__ = ["Match", "Matcher", "TopicMatcher"]

"""Keeping personal data out of what the bot stores."""

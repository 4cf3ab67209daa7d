"""Thin adapters that carry the dialog to people: the terminal and Telegram."""

"""Privacy helpers: remove personal data from free text before it is stored."""

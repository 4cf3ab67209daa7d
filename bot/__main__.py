"""`python -m bot` runs the same command line as `socialbot`."""

from bot.cli import main

raise SystemExit(main())

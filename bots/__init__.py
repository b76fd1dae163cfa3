"""python-telegram-bot Applications and handlers, and the registry of bots."""

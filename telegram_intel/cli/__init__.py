"""The `telegram-intel` command: entry points that call the work layer (`pipeline/`), never `defs/`."""

"""Sub-commands of ``lfr``; each module has ``register(subparsers)`` and sets ``handler`` on its parsers."""

"""Operator commands of the ``sillage`` CLI, one module per noun, each with ``register(subparsers)``.

Handlers take ``(args, settings)`` and return the exit code (see ``api.cli``).
"""

"""Text to Expression: the parser and the LALR tables compiled from the grammar.

Above ``core`` (it builds ``core.expression.Expression``), below the
features and the command line that read user text (docs/architecture.md).
"""

"""The bottom of autodiff: what every other layer speaks, and the chain rule.

In import order (each module imports only those above it in this list):

1. ``safe_text``, ``errors``: user text made visible; the exception types.
2. ``ops``: the primitive table, each operation's forward and local
   derivative rules, written once against a math namespace.
3. ``program``: a formula as a flat list of Steps, and its printer.
4. ``engine``: Value and ``backward()``, the chain rule on a graph of
   Values (floats, numpy arrays, or Values again for higher orders).
5. ``tape``: the same rules on a flat list of floats, for one point.
6. ``expression``: a program at a point, sent to the engine or the tape.

Nothing here parses text, reads files or prints (docs/architecture.md).
"""

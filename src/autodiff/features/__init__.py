"""What the commands compute, as a library: each module one job, no printing.

``check`` (gradients against finite differences), ``curve`` (samples for a
plot), ``derivatives`` (symbolic derivatives, higher orders, the Hessian),
``explain`` (the backprop trace), ``points`` and ``lines`` (streams of
points and of lines, bounded). They use ``core`` and ``language``; the
renderers and the command line use them (docs/architecture.md).
"""

"""Derivatives of any order: as numbers at a point, and as formulas.

Both come from the engine's ``backward(create_graph=True)``: the gradient is
itself a graph of Values, built by running the primitive table's derivative
rules on Values, so no derivative rule is written here.

- Numbers: the graph at the point is differentiated again, ``order`` times
  (``derivative_at``, ``hessian``).
- Formulas: the graph is built over placeholder data (NaN arrays, so that no
  domain check fires), differentiated, then read back *structurally* into a
  canonical algebraic form that simplifies as it is built (``Algebra``), and
  printed as an ``Expression`` (``derivative``).

Everything walks graphs in topological order with explicit loops: no
recursion grows with the size or depth of the user's expression.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, NamedTuple, TypeVar, final

from ..core import ops
from ..core.engine import Value, apply, paused_gc, topological_order
from ..core.errors import (
    EvaluationError,
    LimitError,
    UnknownVariableError,
    UsageError,
    format_number,
)
from ..core.expression import Expression
from ..core.program import Step, prune
from .rational import MAX_EXACT_BITS, exact, fold_function

# Each order differentiates the graph of the one before and makes a graph
# about three times larger; differentiating a graph past this many nodes
# would take seconds, so it is refused instead.
MAX_NODES = 60_000

# A formula is differentiated again only while it prints shorter than this:
# derivatives of high order can grow several times per order.
MAX_FORMULA = 50_000

# The formulas that diff prints (all variables, one order) are refused past
# about this many characters, estimated before they are printed; simplifying
# may build at most this many terms. A formula prints at about 1 MB/s.
MAX_CHARS = 1_000_000

# Building and differentiating a graph (of Values over NaN arrays) costs, per
# node, about 20 times a step of the simplifier.
_GRAPH_STEP_COST = 20

# Orders past this take seconds even when nothing grows (sin, exp).
MAX_ORDER = 1000

# A literal with more significant digits, or a larger power of ten, than this
# is read as the float the language reads, before any big integer is built
# (1e-9999999999 would otherwise be 10**(10**10)).
_MAX_LITERAL_DIGITS = 310

# A product is multiplied out over its sums only up to this many terms.
_MAX_EXPANSION = 64


# -- numbers at a point -------------------------------------------------------


def _gradients(output: Value, leaves: Sequence[Value], create_graph: bool) -> list[Any]:
    """d(output)/d(leaf) for each leaf: a Value (create_graph) or a number.

    A leaf outside the output's graph keeps a stale ``grad`` from an earlier
    pass, so every leaf is reset to 0 first.
    """
    for leaf in leaves:
        leaf.grad = 0.0
    output.backward(create_graph=create_graph)
    return [leaf.grad for leaf in leaves]


def _check_size(graph: Value, order: int) -> None:
    """Refuse to differentiate a graph that has grown too large for ``order``."""
    size = len(graph.topological_order())
    if size > MAX_NODES:
        raise LimitError(
            f"the derivative of order {order} would differentiate a graph of {size} nodes "
            f"(limit {MAX_NODES}); ask for a lower order"
        )


def _leaves(expression: Expression, values: Sequence[Value]) -> dict[str, Value]:
    return {s.text: v for s, v in zip(expression.steps, values, strict=True) if s.is_variable}


def _check_variable(expression: Expression, name: str) -> None:
    if name not in expression.variables:
        raise UnknownVariableError(name, expression.variables)


def _finite(x: Any, what: str) -> float:
    number = float(x)
    if not math.isfinite(number):
        raise EvaluationError.not_finite(what, "derivative")
    return number


def _check_order(order: int) -> None:
    if order < 1:
        raise UsageError(f"the order of a derivative must be at least 1, got {order}")
    if order > MAX_ORDER:
        raise LimitError(f"the order of a derivative can be at most {MAX_ORDER}, got {order}")


def derivative_label(name: str, order: int) -> str:
    """``d/dx``, ``d2/dx2``: how plain text names an N-th derivative."""
    return f"d/d{name}" if order == 1 else f"d{order}/d{name}{order}"


@dataclass(frozen=True)
class DerivativeAt:
    """The value and the ``order``-th derivative with respect to ``wrt`` at a point."""

    expr: str
    at: dict[str, float]  # the point, for the expression's variables only
    value: float
    wrt: str
    order: int
    derivative: float


def derivative_at(
    expression: Expression, point: Mapping[str, float], wrt: str, order: int
) -> DerivativeAt:
    """The value and the ``order``-th derivative with respect to ``wrt`` at ``point``.

    In Taylor mode (features/taylor.py), order 200 in milliseconds. Where the
    expression has no Taylor series (abs at 0), the derivative rules as
    written decide, as they do for ``grad``: ``backward_derivative``.

    >>> from autodiff import parse
    >>> found = derivative_at(parse("4*x**2 - 2*x + 5"), {"x": 3}, "x", 2)
    >>> found.value, found.derivative
    (35.0, 8.0)
    """
    from .taylor import NotAnalyticError, derivative

    _check_order(order)
    _check_variable(expression, wrt)
    value = float(expression.evaluate_all(point)[-1].data)
    try:
        found = derivative(expression, point, wrt, order)
    except NotAnalyticError:
        found = backward_derivative(expression, point, wrt, order)
    return DerivativeAt(expression.text, _point_of(expression, point), value, wrt, order, found)


def backward_derivative(
    expression: Expression, point: Mapping[str, float], wrt: str, order: int
) -> float:
    """The ``order``-th derivative by ``backward(create_graph=True)`` run ``order`` times.

    Each pass differentiates the graph of the one before (about three times
    larger each order); the table's rules decide at kinks (sign(0) = 0).
    """
    _check_order(order)
    _check_variable(expression, wrt)
    values = expression.evaluate_all(point)
    leaf = _leaves(expression, values)[wrt]
    current: Any = values[-1]
    with paused_gc():
        for k in range(1, order + 1):
            if not isinstance(current, Value):
                current = 0.0  # the previous derivative was a constant
                break
            if k > 1:
                _check_size(current, k)
            (current,) = _gradients(current, [leaf], create_graph=k < order)
    data = current.data if isinstance(current, Value) else current
    return _finite(data, derivative_label(wrt, order))


def _point_of(expression: Expression, point: Mapping[str, float]) -> dict[str, float]:
    return {name: float(point[name]) for name in expression.variables}


@dataclass(frozen=True)
class HessianResult:
    """The value, the gradient and the matrix of second partials at a point."""

    expr: str
    at: dict[str, float]  # the point, for the expression's variables only
    variables: tuple[str, ...]
    value: float
    grad: dict[str, float]
    hessian: list[list[float]]


def hessian(expression: Expression, point: Mapping[str, float]) -> HessianResult:
    """Every second partial at ``point``, rows and columns in ``variables`` order.

    Row i is the gradient of the graph of d/dx_i, so the matrix is symmetric
    up to rounding.

    >>> from autodiff import parse
    >>> hessian(parse("x**2*y**3"), {"x": 1, "y": 2}).hessian
    [[16.0, 24.0], [24.0, 12.0]]
    """
    values = expression.evaluate_all(point)
    leaves = list(_leaves(expression, values).values())
    names = expression.variables
    with paused_gc():
        firsts = _gradients(values[-1], leaves, create_graph=True)
        grad = {
            n: _finite(g.data if isinstance(g, Value) else g, derivative_label(n, 1))
            for n, g in zip(names, firsts, strict=True)
        }
        rows: list[list[float]] = []
        for name, first in zip(names, firsts, strict=True):
            if not isinstance(first, Value):
                rows.append([0.0] * len(leaves))
                continue
            row = _gradients(first, leaves, create_graph=False)
            rows.append([_finite(h, f"d2/d{name}d{n}") for n, h in zip(names, row, strict=True)])
    return HessianResult(
        expr=expression.text,
        at=_point_of(expression, point),
        variables=names,
        value=float(values[-1].data),
        grad=grad,
        hessian=rows,
    )


# -- formulas -----------------------------------------------------------------


def derivative(expression: Expression, wrt: str, order: int = 1) -> Expression:
    """The ``order``-th derivative with respect to ``wrt``, simplified, as an Expression.

    >>> from autodiff import parse
    >>> print(derivative(parse("4*x**2 - 2*x + 5"), "x"))
    8*x - 2
    >>> print(derivative(parse("sin(x)*y"), "x", order=2))
    -y*sin(x)
    """
    return derivatives(expression, [wrt], order)[wrt]


def derivatives(
    expression: Expression,
    wrt: Sequence[str] | None = None,
    order: int = 1,
    max_chars: int | None = MAX_CHARS,
) -> dict[str, Expression]:
    """The ``order``-th derivative for each name of ``wrt`` (default: every variable).

    ``max_chars`` bounds the work: the formulas of each order together may
    print at most that many characters (estimated before they are printed),
    and simplifying them may take at most half that many steps (operands
    looked at). Past either, LimitError. None: no bound.
    """
    _check_order(order)
    names = list(dict.fromkeys(wrt if wrt is not None else expression.variables))
    for name in names:
        _check_variable(expression, name)
    rank = {name: i for i, name in enumerate(expression.variables)}
    # The first order of every name comes from one backward pass over one graph.
    algebra = Algebra(_steps_for(max_chars))
    roots = algebra.differentiate(expression, names, 1)
    result = _formulas(
        {n: _Root(algebra, r) for n, r in zip(names, roots, strict=True)}, rank, 1, max_chars
    )
    for k in range(2, order + 1):
        found: dict[str, _Root] = {}
        spent = 0  # the names of one order share one budget, as they do at the first
        for name in names:
            current = result[name]
            if len(current.text) > MAX_FORMULA:
                raise LimitError(
                    f"the derivative of order {k - 1} with respect to {name} is already "
                    f"{len(current.text)} characters long (limit {MAX_FORMULA} to go on); "
                    "ask for a lower order"
                )
            algebra = Algebra(_steps_for(max_chars))
            algebra.steps += spent
            # A higher order builds and differentiates one graph per name, from its
            # formula: each step of it costs about as much as 20 of the simplifier's.
            algebra.spend(_GRAPH_STEP_COST * len(current.steps))
            (root,) = algebra.differentiate(current, [name], k)
            spent = algebra.steps
            found[name] = _Root(algebra, root)
        result = _formulas(found, rank, k, max_chars)
    return result


def _steps_for(max_chars: int | None) -> int | None:
    """The simplifier's budget, from the output's: a step costs 0.5 to 5 us, so the
    default 1,000,000 characters allow 500,000 steps, 2 s at most (a polynomial of
    2,000 terms takes 76,000 steps; 600 partials of a product of 600 variables 3 million)."""
    return None if max_chars is None else max(max_chars // 2, 1000)


class _Root(NamedTuple):
    """A derivative as a canonical node and the algebra that holds it."""

    algebra: Algebra
    node: int


def _formulas(
    roots: Mapping[str, _Root],
    rank: Mapping[str, int],
    order: int,
    max_chars: int | None,
) -> dict[str, Expression]:
    """Each canonical root as an Expression, refused first if together they print too long."""
    groups: dict[Algebra, list[str]] = {}  # the names each algebra holds, to factor them together
    for name, root in roots.items():
        groups.setdefault(root.algebra, []).append(name)
    factored: dict[str, int] = {}
    for algebra, names in groups.items():
        rebuilt = algebra.factored_all([roots[name].node for name in names])
        factored.update(zip(names, rebuilt, strict=True))
    size = sum(roots[name].algebra.sizes[node] for name, node in factored.items())
    if max_chars is not None and size > max_chars:
        # The estimate itself is not shown: a deep expression's can have hundreds of digits.
        raise LimitError(
            f"the derivatives of order {order} would print more than {max_chars:,} characters",
            "max_chars",
        )
    printed: dict[str, Expression] = {}
    for algebra, names in groups.items():
        printer = _Printer(algebra, rank)
        expressions = printer.expressions([factored[name] for name in names])
        printed.update(zip(names, expressions, strict=True))
    return {name: printed[name] for name in roots}


def simplify(expression: Expression) -> Expression:
    """The expression in the canonical simplified form that derivatives are printed in.

    >>> from autodiff import parse
    >>> print(simplify(parse("x*x*2 + 0*y - (3 - 1)*x**2 + x/x")))
    1
    """
    algebra = Algebra()
    root = algebra.read(_symbolic_graph(expression)[-1])
    return algebra.to_expression(root, {n: i for i, n in enumerate(expression.variables)})


def _symbolic_graph(expression: Expression) -> list[Value]:
    """The expression's Value graph over placeholder data.

    Every leaf holds a NaN array: numpy computes through any domain without
    raising, and only the structure of the graph is read afterwards.
    """
    import numpy as np

    placeholder = np.full(1, np.nan)
    values: list[Value] = []
    with np.errstate(all="ignore"):
        for step in expression.steps:
            if step.op is not None:
                values.append(apply(step.op, *(values[i] for i in step.args)))
            else:
                values.append(
                    Value(placeholder, label=step.text, requires_grad=step.constant is None)
                )
    return values


# -- the canonical form -------------------------------------------------------

Terms = tuple[tuple[int, Fraction], ...]  # (term, coefficient), sorted by term
Factors = tuple[tuple[int, int], ...]  # (base, exponent), sorted by base

# Named tuples compare and hash as plain tuples, whatever their class. Untagged,
# the sum x + 2, (2, ((x, 1),)), would equal the product 2*x, (2, ((x, one),)),
# since the node one has index 1; and Variable("e") would equal Constant("e"),
# and hash-consing would give both one index. So every kind ends with a tag that
# no other kind holds: nodes of two kinds always differ there. It has a default,
# and no call site passes it.
#
# A kind is told by ``type(node) is Sum``: the classes are final, and a failed
# isinstance, which most tests of a kind are, costs three times as much.


@final
class Number(NamedTuple):
    number: Fraction  # exact, within MAX_EXACT_BITS
    kind: Literal["number"] = "number"


@final
class Variable(NamedTuple):
    name: str
    kind: Literal["variable"] = "variable"


@final
class Constant(NamedTuple):
    name: str  # pi or e
    kind: Literal["constant"] = "constant"


@final
class Sum(NamedTuple):
    constant: Fraction
    terms: Terms
    kind: Literal["sum"] = "sum"


@final
class Product(NamedTuple):
    coefficient: Fraction
    factors: Factors
    kind: Literal["product"] = "product"


@final
class Function(NamedTuple):
    name: str
    args: tuple[int, ...]
    kind: Literal["function"] = "function"


Node = Number | Variable | Constant | Sum | Product | Function
_T = TypeVar("_T")


class Algebra:
    """A hash-consed table of canonical terms that simplify as they are built.

    Nodes (identified by their index; children always have smaller indices):

    - ``Number(number)``: an exact rational number;
    - ``Variable(name)``, ``Constant(name)`` for pi and e;
    - ``Sum(constant, terms)``: constant + the sum of coefficient*term over
      ``terms``, ((term, coefficient), ...), terms free of numeric
      coefficients and never sums themselves;
    - ``Product(coefficient, factors)``: coefficient times the product of
      base**exponent over ``factors``, ((base, exponent), ...) (exponents are
      nodes), bases never products unless raised to a non-integer power,
      where (x*y)**0.5 must not become x**0.5*y**0.5;
    - ``Function(name, args)``: a primitive function of argument nodes.

    Equal structure gives an equal index, so like terms and repeated factors
    are found by comparing integers. Every constructor looks one level down
    at already canonical children: no recursion.

    While a graph is read, products are multiplied out over sums (up to
    ``_MAX_EXPANSION`` terms) so that terms cancel and collect; before
    printing, ``factored`` takes common factors back out of each sum:
    x**2*exp(x) + 2*x*exp(x) prints as (x**2 + 2*x)*exp(x).
    """

    def __init__(self, max_steps: int | None = None) -> None:
        self.nodes: list[Node] = []
        self.sizes: list[int] = []
        # Numbers and products, four lookups in five, are found by their fields, so
        # that looking one up builds no node: that keeps named nodes as fast as
        # tuples were. The other kinds are found by the node itself.
        self.numbers: dict[Fraction, int] = {}
        self.products: dict[tuple[Fraction, Factors], int] = {}
        self.index: dict[Sum | Function | Variable | Constant, int] = {}
        self.max_steps = max_steps
        self.steps = 0  # operands looked at by sums and products: the work done
        self.expand = True  # multiply products out over sums
        self.factor = False  # take common factors out of sums
        self.zero = self.num(Fraction(0))
        self.one = self.num(Fraction(1))
        self.minus_one = self.num(Fraction(-1))

    # construction

    def spend(self, steps: int) -> None:
        self.steps += steps
        if self.max_steps is not None and self.steps > self.max_steps:
            raise LimitError(
                f"simplifying the derivatives takes more than {self.max_steps:,} steps",
                "max_chars",
            )

    def _intern(self, node: Sum | Function | Variable | Constant) -> int:
        # Hashing the node is the work: one step per operand.
        if type(node) is Sum:
            self.spend(len(node.terms))
        elif type(node) is Function:
            self.spend(len(node.args))
        else:
            self.spend(1)
        found = self.index.get(node)
        if found is None:
            found = self.index[node] = self._append(node)
        return found

    def _intern_product(self, coefficient: Fraction, factors: Factors) -> int:
        self.spend(len(factors))  # hashing it
        key = (coefficient, factors)
        found = self.products.get(key)
        if found is None:
            found = self.products[key] = self._append(Product(coefficient, factors))
        return found

    def num(self, q: Fraction) -> int:
        q = exact(q)
        self.spend(1)  # hashing it
        found = self.numbers.get(q)
        if found is None:
            found = self.numbers[q] = self._append(Number(q))
        return found

    def _append(self, node: Node) -> int:
        self.nodes.append(node)
        self.sizes.append(self._size(node))
        return len(self.nodes) - 1

    def _size(self, node: Node) -> int:
        """About how many characters the node prints as (children are already sized)."""
        sizes = self.sizes
        if type(node) is Number:
            return len(str(node.number))
        if type(node) is Variable or type(node) is Constant:
            return len(node.name)
        if type(node) is Function:
            return len(node.name) + sum(sizes[a] for a in node.args) + 3 * len(node.args)
        if type(node) is Sum:
            # A coefficient stands for its text.
            inside = sum(sizes[t] + len(str(c)) for t, c in node.terms)
            return len(str(node.constant)) + inside + 3 * len(node.terms)
        inside = sum(sizes[b] + sizes[e] for b, e in node.factors)
        return len(str(node.coefficient)) + inside + 3 * len(node.factors)

    def rational(self, n: int) -> Fraction | None:
        """The number node n is, or None when it is not a number."""
        node = self.nodes[n]
        return node.number if type(node) is Number else None

    def is_negative(self, n: int) -> bool:
        """Whether node n is a negative number or a product with a negative coefficient.

        Such a node prints with a leading minus, and as an exponent it puts its
        power under a fraction bar (x**(-2*y) prints as 1/x**(2*y)): a product
        with one is not multiplied out over a sum.
        """
        node = self.nodes[n]
        if type(node) is Number:
            return node.number < 0
        return type(node) is Product and node.coefficient < 0

    def factors_of(self, n: int) -> Factors:
        """A term's (base, exponent) pairs: a product's own; any other node is its one base."""
        node = self.nodes[n]
        return node.factors if type(node) is Product else ((n, self.one),)

    def add(self, items: Iterable[int]) -> int:
        return self.signed_sum((n, 1) for n in items)

    def signed_sum(self, items: Iterable[tuple[int, int]]) -> int:
        """The sum of the nodes, each taken with its sign (1 or -1)."""
        constant = Fraction(0)
        terms: dict[int, Fraction] = {}
        for n, sign in items:
            node = self.nodes[n]
            self.spend(len(node.terms) if type(node) is Sum else 1)
            if type(node) is Number:
                constant = exact(constant + node.number if sign > 0 else constant - node.number)
            elif type(node) is Sum:
                constant = exact(constant + node.constant if sign > 0 else constant - node.constant)
                for t, c in node.terms:
                    terms[t] = exact(terms.get(t, 0) + (c if sign > 0 else -c))
            else:
                c, t = self._split(n)
                terms[t] = exact(terms.get(t, 0) + (c if sign > 0 else -c))
        return self._make_add(constant, {t: c for t, c in terms.items() if c != 0})

    def _split(self, n: int) -> tuple[Fraction, int]:
        """A term as (numeric coefficient, the rest)."""
        node = self.nodes[n]
        if type(node) is Product and node.coefficient != 1:
            return node.coefficient, self._make_mul(Fraction(1), dict(node.factors), expand=False)
        return Fraction(1), n

    def _make_add(self, constant: Fraction, terms: dict[int, Fraction]) -> int:
        if not terms:
            return self.num(constant)
        if constant == 0 and len(terms) == 1:
            ((t, c),) = terms.items()
            return self._scale(t, c)
        if self.factor and constant == 0:
            common = self._common_factors(list(terms))
            if common and self._worth_factoring(common, list(terms)):
                return self._factor_out(common, terms)
        return self._intern(Sum(constant, tuple(sorted(terms.items()))))

    def _worth_factoring(self, common: dict[int, int], terms: list[int]) -> bool:
        """Whether c*(a + b) prints shorter than c*a + c*b: n - 1 copies of 'c*' saved,
        two parentheses paid. Only factors that every term has whole count."""
        dicts = [dict(self.factors_of(t)) for t in terms]
        length = 0
        for base, exponent in common.items():
            if all(d[base] == exponent for d in dicts):
                length += self.sizes[base] + 1
                length += 0 if exponent == self.one else self.sizes[exponent] + 2
        return (len(terms) - 1) * length - 2 > 0

    def _common_factors(self, terms: list[int]) -> dict[int, int]:
        """The factors every term has: the same power, or the least positive one."""
        dicts = [dict(self.factors_of(t)) for t in terms]
        common: dict[int, int] = {}
        for base, exponent in dicts[0].items():
            exponents = [d.get(base) for d in dicts]
            if all(e == exponent for e in exponents):
                common[base] = exponent
                continue
            numbers = [None if e is None else self.rational(e) for e in exponents]
            if all(q is not None and q > 0 for q in numbers):
                common[base] = self.num(min(q for q in numbers if q is not None))
        return common

    def _factor_out(self, common: dict[int, int], terms: dict[int, Fraction]) -> int:
        """common * (the sum of what is left of each term), with an integer gcd taken out too.

        What is left has no common factor, so the inner sum does not recurse here.
        """
        pieces = []
        for t, c in terms.items():
            left = dict(self.factors_of(t))
            for base, exponent in common.items():
                if left[base] == exponent:
                    del left[base]
                else:
                    q, least = self.rational(left[base]), self.rational(exponent)
                    assert q is not None and least is not None
                    left[base] = self.num(q - least)
            pieces.append(self._make_mul(c, left, expand=False))
        inner = self.add(pieces)
        g = Fraction(1)
        node = self.nodes[inner]
        if type(node) is Sum:
            coefficients = [c for _, c in node.terms]
            numbers = [node.constant, *coefficients] if node.constant else coefficients
            if all(q.denominator == 1 for q in numbers):
                g = Fraction(math.gcd(*(q.numerator for q in numbers)))
                if sum(q < 0 for q in numbers) > sum(q > 0 for q in numbers):
                    g = -g
                if g != 1:
                    inner = self._make_add(node.constant / g, {t: c / g for t, c in node.terms})
        factors = [self.power(b, e) for b, e in common.items()]
        return self.mul([self.num(g), inner, *factors])

    def _scale(self, t: int, c: Fraction) -> int:
        """c times a term free of coefficient (never a sum or a number)."""
        if c == 1:
            return t
        return self._intern_product(c, self.factors_of(t))

    def mul(self, items: Iterable[int], expand: bool | None = None) -> int:
        coefficient = Fraction(1)
        exponents: dict[int, list[int]] = {}
        for n in items:
            node = self.nodes[n]
            self.spend(len(node.factors) if type(node) is Product else 1)
            if type(node) is Number:
                coefficient = exact(coefficient * node.number)
            elif type(node) is Product:
                coefficient = exact(coefficient * node.coefficient)
                for base, exponent in node.factors:
                    exponents.setdefault(base, []).append(exponent)
            else:
                exponents.setdefault(n, []).append(self.one)
        if coefficient == 0:
            return self.zero
        factors = {base: es[0] if len(es) == 1 else self.add(es) for base, es in exponents.items()}
        return self._make_mul(coefficient, factors, expand)

    def _make_mul(
        self, coefficient: Fraction, factors: dict[int, int], expand: bool | None = None
    ) -> int:
        kept: dict[int, int] = {}
        self.spend(len(factors))
        for base, exponent in factors.items():
            if exponent == self.zero:
                continue  # x**0 = 1
            q, e = self.rational(base), self.rational(exponent)
            if q is not None and e is not None and e.denominator == 1:
                folded = _rational_power(q, e)
                if folded is None:
                    folded = _float_power(q, e)
                if folded is not None:
                    coefficient = exact(coefficient * folded)
                    continue
            kept[base] = exponent
        if coefficient == 0:
            return self.zero
        if not kept:
            return self.num(coefficient)
        if len(kept) == 1:
            ((base, exponent),) = kept.items()
            if exponent == self.one:
                if coefficient == 1:
                    return base
                node = self.nodes[base]
                if type(node) is Sum:  # distribute a number over a sum: 2*(x + 1) = 2*x + 2
                    return self._make_add(
                        exact(coefficient * node.constant),
                        {t: exact(coefficient * c) for t, c in node.terms},
                    )
        if (self.expand if expand is None else expand) and self._expandable(kept):
            return self._expand(coefficient, kept)
        return self._intern_product(coefficient, tuple(sorted(kept.items())))

    def _expandable(self, factors: dict[int, int]) -> bool:
        """Multiply out a product of one sum and no denominator: x*exp(x)*(x + 1).

        Two sums multiplied out, or a sum over a denominator, mostly print longer.
        """
        sums = 0
        for base, exponent in factors.items():
            node = self.nodes[base]
            if type(node) is Sum and exponent == self.one:
                sums += 1
                if len(node.terms) >= _MAX_EXPANSION:
                    return False
            elif self.is_negative(exponent):
                return False
        return sums == 1

    def _expand(self, coefficient: Fraction, factors: dict[int, int]) -> int:
        """Multiply a product out over its sum: x*(y + 1) = x*y + x."""
        (total,) = (b for b, e in factors.items() if e == self.one and type(self.nodes[b]) is Sum)
        rest = self._make_mul(
            coefficient, {b: e for b, e in factors.items() if b != total}, expand=False
        )
        return self.add([self.mul([rest, t], expand=False) for t in self._summands(total)])

    def _summands(self, n: int) -> list[int]:
        """A sum's terms as nodes, the constant first."""
        node = self.nodes[n]
        assert type(node) is Sum
        terms = [self._scale(t, c) for t, c in node.terms]
        return [self.num(node.constant), *terms] if node.constant else terms

    def power(self, base: int, exponent: int) -> int:
        e = self.rational(exponent)
        node = self.nodes[base]
        if e is None:
            if base == self.one:
                return self.one
            return self._make_mul(Fraction(1), {base: exponent})
        if e == 0:
            return self.one
        if e == 1:
            return base
        if type(node) is Number:
            q = node.number
            if q == 0 and e < 0:
                raise EvaluationError.of_value(
                    "pow", [0.0, float(e)], f"is undefined: {ops.POW.domain}", "**"
                )
            if q < 0 and e.denominator != 1:
                raise EvaluationError.of_value(
                    "pow", [float(q), float(e)], f"is undefined: {ops.POW.domain}", "**"
                )
            root = _rational_root(q, e)
            if root is None and e.denominator == 1:
                root = _float_power(q, e)  # past the exact bound: 2**-1074 is 5e-324
            if root is not None:
                return self.num(root)
            return self._make_mul(Fraction(1), {base: exponent})
        if e.denominator == 1 and type(node) is Product:
            # (c*x**a*y)**n = c**n*x**(a*n)*y**n for an integer n.
            c = _rational_power(node.coefficient, e)
            if c is not None:
                return self._make_mul(c, {b: self.mul([x, exponent]) for b, x in node.factors})
        return self._make_mul(Fraction(1), {base: exponent})

    def function(self, name: str, args: Sequence[int]) -> int:
        if name == "log" and self.nodes[args[0]] == Constant("e"):
            return self.one
        if name == "sqrt":
            q = self.rational(args[0])
            if q is not None and q < 0:
                fold_function(name, q)  # raises the domain error of sqrt
            # sqrt(x) is x**(1/2), so that sqrt(x)*sqrt(x) is x and x/sqrt(x) is sqrt(x).
            return self.power(args[0], self.num(Fraction(1, 2)))
        if len(args) == 1:
            q = self.rational(args[0])
            if q is not None:
                folded = fold_function(name, q)
                if folded is not None:
                    return self.num(folded)
        return self._intern(Function(name, tuple(args)))

    # reading graphs

    def read(self, root: Value | float) -> int:
        """The canonical node of a Value graph, read from its structure alone."""
        return self.read_all([root])[0]

    def read_all(self, roots: Sequence[Value | float]) -> list[int]:
        """The canonical nodes of several Value graphs, read in one walk (shared parts once).

        A chain of sums (or of products) is gathered into one list and
        simplified once, where it ends: ``x + x**2 + ... + x**n`` is read in
        linear time, where simplifying every partial sum would take quadratic.
        A chain ends at a node that something else (or a second consumer) needs.
        """
        graphs = [r for r in roots if isinstance(r, Value)]
        order = topological_order(graphs)
        uses = Counter(i for v in order for i in v.inputs)
        uses.update(graphs)  # a root is needed whole
        done: dict[Value, int] = {}
        sums: dict[Value, list[tuple[int, int]]] = {}  # (node, 1 or -1), added up
        products: dict[Value, list[int]] = {}  # nodes, multiplied

        def settled(v: Value) -> int:
            if v not in done:
                done[v] = self.signed_sum(sums.pop(v)) if v in sums else self.mul(products.pop(v))
            return done[v]

        def sum_of(v: Value) -> list[tuple[int, int]]:
            return sums.pop(v) if v in sums and uses[v] == 1 else [(settled(v), 1)]

        def product_of(v: Value) -> list[int]:
            return products.pop(v) if v in products and uses[v] == 1 else [settled(v)]

        for v in order:
            name = v.op.name if v.op is not None else ""
            if name == "add":
                sums[v] = _joined(*(sum_of(i) for i in v.inputs))
            elif name == "mul":
                products[v] = _joined(*(product_of(i) for i in v.inputs))
            elif name == "sub":
                terms = sum_of(v.inputs[0])
                terms.append((settled(v.inputs[1]), -1))
                sums[v] = terms
            elif name == "neg":
                factors = product_of(v.inputs[0])
                factors.append(self.minus_one)
                products[v] = factors
            elif name == "div":
                divisor = settled(v.inputs[1])
                if divisor == self.zero:
                    raise EvaluationError.division_by_zero()
                factors = product_of(v.inputs[0])
                factors.append(self.power(divisor, self.minus_one))
                products[v] = factors
            elif name == "pow":
                base, exponent = (settled(i) for i in v.inputs)
                done[v] = self.power(base, exponent)
            elif v.op is not None:
                done[v] = self.function(name, [settled(i) for i in v.inputs])
            else:
                done[v] = self._leaf(v)
        return [settled(r) if isinstance(r, Value) else self.num(Fraction(r)) for r in roots]

    def _leaf(self, v: Value) -> int:
        if v.requires_grad:
            return self._intern(Variable(v.label))
        if v.label in ops.CONSTANTS:
            return self._intern(Constant(v.label))
        if v.label:
            return self.num(literal_value(v.label))  # as written: 0.1 is 1/10
        return self.num(Fraction(float(v.data)))  # a number from a rule: 1.0, 0.5

    def differentiate(self, expression: Expression, names: Sequence[str], order: int) -> list[int]:
        """Canonical nodes of d/d(name) of the expression, one per name."""
        import numpy as np

        values = _symbolic_graph(expression)
        if order > 1:
            _check_size(values[-1], order)
        leaves = _leaves(expression, values)
        # A variable that a lower derivative lost has derivative 0.
        present = [n for n in names if n in leaves]
        with np.errstate(all="ignore"), paused_gc():
            grads = _gradients(values[-1], [leaves[n] for n in present], create_graph=True)
        found = dict(zip(present, grads, strict=True))
        return self.read_all([found.get(n, 0.0) for n in names])

    # printing

    def to_expression(self, root: int, rank: Mapping[str, int] | None = None) -> Expression:
        """The node as an Expression, printed the way people write formulas."""
        return _Printer(self, rank or {}).expression(self.factored(root))

    def factored(self, root: int) -> int:
        """The node rebuilt with common factors taken out of its sums, nothing multiplied out."""
        return self.factored_all([root])[0]

    def factored_all(self, roots: Sequence[int]) -> list[int]:
        """``factored`` of each root, the parts they share rebuilt once.

        Nodes are rebuilt in index order, children first: a loop, no recursion.
        """
        needed: set[int] = set()
        stack = list(roots)
        while stack:
            n = stack.pop()
            if n not in needed:
                needed.add(n)
                stack.extend(_structural_children(self.nodes[n]))
        saved = self.expand, self.factor
        self.expand, self.factor = False, True
        try:
            new: dict[int, int] = {}
            for n in sorted(needed):
                node = self.nodes[n]
                if type(node) is Function:
                    new[n] = self.function(node.name, [new[a] for a in node.args])
                elif type(node) is Sum:
                    terms = [self.mul([self.num(c), new[t]]) for t, c in node.terms]
                    new[n] = self.add([self.num(node.constant), *terms])
                elif type(node) is Product:
                    powers = [self.power(new[b], new[e]) for b, e in node.factors]
                    new[n] = self.mul([self.num(node.coefficient), *powers])
                else:
                    new[n] = n
            return [new[root] for root in roots]
        finally:
            self.expand, self.factor = saved


def _joined(a: list[_T], b: list[_T]) -> list[_T]:
    """Both lists in one, the longer one extended: linear even for chains nested to the right."""
    if len(a) < len(b):
        a, b = b, a
    a.extend(b)
    return a


def _structural_children(node: Node) -> list[int]:
    if type(node) is Sum:
        return [t for t, _ in node.terms]
    if type(node) is Product:
        return [n for factor in node.factors for n in factor]
    if type(node) is Function:
        return list(node.args)
    return []


def literal_value(text: str) -> Fraction:
    """The number a literal of the language means: 0.1 is exactly 1/10.

    Past the exact bound it is the float the language reads (1e-400 is 0),
    found without building the big integers the literal spells.
    """
    mantissa, _, power = text.lower().partition("e")
    whole, _, decimals = mantissa.partition(".")
    digits = (whole + decimals).lstrip("0")
    if not digits:
        return Fraction(0)
    significant = digits.rstrip("0")
    if len(power) > 12 or len(significant) > _MAX_LITERAL_DIGITS:
        return exact(Fraction(float(text)))
    shift = int(power or 0) - len(decimals) + len(digits) - len(significant)
    if abs(shift) > _MAX_LITERAL_DIGITS:
        return exact(Fraction(float(text)))
    scale = 10 ** abs(shift)
    value = int(significant) * scale if shift >= 0 else Fraction(int(significant), scale)
    return exact(Fraction(value))


def _rational_power(q: Fraction, n: Fraction) -> Fraction | None:
    """q**n for an integer n, or None when it would pass the exact bound (kept as a power)."""
    if q == 0:
        return None if n < 0 else Fraction(0)
    bits = max(abs(q.numerator).bit_length(), q.denominator.bit_length())
    if (bits - 1) * abs(int(n)) > MAX_EXACT_BITS:
        return None  # certainly past the bound: not even computed
    power = q ** int(n)
    return power if exact(power) is power else None


def _float_power(q: Fraction, n: Fraction) -> Fraction | None:
    """q**n as the language computes it, for a power past the exact bound; None when
    that overflows (10**400 stays a power, which the language cannot compute either)."""
    try:
        power = math.pow(float(q), float(n))
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    return Fraction(power) if math.isfinite(power) else None


def _rational_root(q: Fraction, e: Fraction) -> Fraction | None:
    """q**e when it is rational (4**0.5 = 2, 8**(2/3) = 4), else None."""
    if e.denominator == 1:
        return _rational_power(q, e)
    if q < 0 or e.denominator > 16:
        return None
    parts = []
    for whole in (q.numerator, q.denominator):
        r = _integer_root(whole, e.denominator)
        if r is None:
            return None
        parts.append(r)
    return _rational_power(Fraction(parts[0], parts[1]), Fraction(e.numerator))


def _integer_root(n: int, k: int) -> int | None:
    if n.bit_length() > 1000:
        return None
    r: int = round(math.pow(n, 1.0 / k))
    for candidate in (r - 1, r, r + 1):
        if candidate >= 0 and candidate**k == n:
            return candidate
    return None


def number_text(q: Fraction) -> str | None:
    """The shortest text that means q (non-negative), or None when it needs a/b.

    A number that a float holds exactly prints as that float's shortest
    repr, so it reads back as the same float.
    """
    try:
        as_float = float(q)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):  # never echoed: it can have thousands of digits
        raise EvaluationError.inexact("a coefficient of the derivative overflows")
    text = format_number(as_float)
    if Fraction(as_float) == q or Fraction(text) == q:
        return text
    if q.denominator == 1:
        return str(q.numerator)
    return None


class _Printer:
    """Turns canonical nodes into Expression steps, in the order people write terms.

    Nodes are visited in index order (children first), so a loop suffices.
    """

    def __init__(self, algebra: Algebra, rank: Mapping[str, int]) -> None:
        self.algebra = algebra
        self.nodes = algebra.nodes
        self.rank = rank
        self.steps: list[Step] = []
        self.leaves: dict[str, int] = {}
        self.numbers: set[int] = set()  # the number leaves, which take a sign directly
        self.standard: dict[int, int] = {}

    def expression(self, root: int) -> Expression:
        return self.expressions([root])[0]

    def expressions(self, roots: Sequence[int]) -> list[Expression]:
        """An Expression per root; the steps they share are emitted once."""
        needed: set[int] = set()
        stack = list(roots)
        while stack:
            n = stack.pop()
            if n in needed:
                continue
            needed.add(n)
            stack.extend(_structural_children(self.nodes[n]))
        # Variables first, in the original's order: that becomes the formula's order.
        variables = {n: node.name for n in needed if type(node := self.nodes[n]) is Variable}
        for n in sorted(variables, key=lambda n: self.rank.get(variables[n], len(self.rank))):
            self.standard[n] = self._emit(n)
        for n in sorted(needed):
            if n not in self.standard:
                self.standard[n] = self._emit(n)
        return [Expression(prune(self.steps, self.standard[root])) for root in roots]

    # steps

    def _step(self, step: Step) -> int:
        self.steps.append(step)
        return len(self.steps) - 1

    def _leaf(self, name: str, value: float | None) -> int:
        if name not in self.leaves:
            self.leaves[name] = self._step(Step(None, text=name, constant=value))
        return self.leaves[name]

    def _op(self, op: ops.Primitive, *args: int) -> int:
        return self._step(Step(op, args))

    def _chain(self, op: ops.Primitive, items: Sequence[int]) -> int:
        result = items[0]
        for item in items[1:]:
            result = self._op(op, result, item)
        return result

    def _number(self, q: Fraction) -> int:
        """A number leaf; a negative one prints as unary minus, a fraction as a/b."""
        text = number_text(abs(q))
        if text is None:
            top = self._number(Fraction(q.numerator))
            return self._op(ops.DIV, top, self._number(Fraction(q.denominator)))
        if q < 0:
            text = "-" + text
        leaf = self._leaf(text, float(text))
        self.numbers.add(leaf)
        return leaf

    def _emit(self, n: int) -> int:
        node = self.nodes[n]
        if type(node) is Number:
            return self._number(node.number)
        if type(node) is Variable:
            return self._leaf(node.name, None)
        if type(node) is Constant:
            return self._leaf(node.name, ops.CONSTANTS[node.name])
        if type(node) is Function:
            return self._op(ops.BY_NAME[node.name], *(self.standard[a] for a in node.args))
        if type(node) is Product:
            return self._product(node.coefficient, node.factors)
        return self._sum(node.constant, node.terms)

    def _negated_exponent(self, n: int) -> int:
        """A negative exponent without its minus, for the power under a fraction bar."""
        node = self.nodes[n]
        if type(node) is Number:
            return self._number(-node.number)
        assert type(node) is Product, "only a number or a product is negative"
        return self._product(-node.coefficient, node.factors)

    def _power(self, base: int, exponent: int, negate: bool) -> int:
        q = self.algebra.rational(exponent)
        if q is not None and abs(q) == 1:
            return self.standard[base]
        if q is not None and abs(q) == Fraction(1, 2):
            return self._op(ops.BY_NAME["sqrt"], self.standard[base])
        shown = self._negated_exponent(exponent) if negate else self.standard[exponent]
        return self._op(ops.POW, self.standard[base], shown)

    def _factor_key(self, factor: tuple[int, int]) -> tuple[Any, ...]:
        base, exponent = factor
        node = self.nodes[base]
        if type(node) is Number:
            return (0, str(node.number), base)
        if type(node) is Constant:
            return (0, node.name, base)
        if type(node) is Variable:
            # y*x**(y - 1): variables under a symbolic power come after plain ones.
            symbolic = type(self.nodes[exponent]) is not Number
            return (2 if symbolic else 1, self.rank.get(node.name, len(self.rank)), node.name, base)
        if type(node) is Function:
            return (3, node.name, base)
        return (4, "", base)

    def _product(self, coefficient: Fraction, factors: Sequence[tuple[int, int]]) -> int:
        ordered = sorted(factors, key=self._factor_key)
        negative_exponent = self.algebra.is_negative
        top = [self._power(b, e, False) for b, e in ordered if not negative_exponent(e)]
        bottom = [self._power(b, e, True) for b, e in ordered if negative_exponent(e)]
        negative = coefficient < 0
        c = abs(coefficient)
        p, q = c.numerator, c.denominator
        if q != 1:
            decimal = number_text(c)
            fraction_cost = (len(str(p)) + 1 if p != 1 else 0) + len(str(q)) + 1
            fraction_cost += 2 if bottom else 0
            if decimal is not None and len(decimal) + 1 < fraction_cost:
                p, q = 0, 1
                top.insert(0, self._number(c))
        if p not in (0, 1) or (p == 1 and not top):
            top.insert(0, self._number(Fraction(p)))
        if q != 1:
            bottom.insert(0, self._number(Fraction(q)))
        if negative:
            if top[0] in self.numbers:
                top[0] = self._number(-Fraction(self.steps[top[0]].text))
            else:
                top[0] = self._op(ops.NEG, top[0])
        result = self._chain(ops.MUL, top)
        if bottom:
            result = self._op(ops.DIV, result, self._chain(ops.MUL, bottom))
        return result

    def _degree(self, term: int) -> Fraction:
        node = self.nodes[term]
        if type(node) is Variable:
            return Fraction(1)
        if type(node) is not Product:
            return Fraction(0)
        degree = Fraction(0)
        for base, exponent in node.factors:
            e = self.algebra.rational(exponent)
            if type(self.nodes[base]) is Variable and e is not None:
                degree += e
        return degree

    def _term_key(self, term: tuple[int, Fraction]) -> tuple[Any, ...]:
        t, _ = term
        factors = self.algebra.factors_of(t)
        return (-self._degree(t), sorted(self._factor_key(f) for f in factors))

    def _sum(self, constant: Fraction, terms: Sequence[tuple[int, Fraction]]) -> int:
        ordered: list[tuple[int | None, Fraction]] = [
            (t, c) for t, c in sorted(terms, key=self._term_key)
        ]
        if constant != 0:
            ordered.append((None, constant))
        # Start with a positive term when there is one: 1 - x rather than -x + 1.
        _, leading = ordered[0]
        if leading < 0:
            for k, (_, c) in enumerate(ordered):
                if c > 0:
                    ordered.insert(0, ordered.pop(k))
                    break
        result = -1
        for t, c in ordered:
            first = result < 0
            shown = c if first else abs(c)
            if t is None:
                piece = self._number(shown)
            else:
                piece = self._product(shown, self.algebra.factors_of(t))
            result = piece if first else self._op(ops.ADD if c > 0 else ops.SUB, result, piece)
        return result


__all__ = [
    "MAX_CHARS",
    "MAX_EXACT_BITS",
    "MAX_NODES",
    "Algebra",
    "DerivativeAt",
    "HessianResult",
    "derivative",
    "derivative_at",
    "derivative_label",
    "derivatives",
    "exact",
    "hessian",
    "literal_value",
    "simplify",
]

"""An uncertainty propagated through a formula, in every format.

The table rounds as lab manuals do (``lab_rounding``); machine formats keep
every number whole.
"""

from __future__ import annotations

import json

from ..features.uncertainty import Uncertainty
from .delimited import distinct_header, rows_text


def as_json(result: Uncertainty) -> dict[str, object]:
    record: dict[str, object] = {
        "expr": result.expr,
        "at": result.at,
        "sigmas": result.sigmas,
        "value": result.value,
        "sigma": result.sigma,
        "grad": result.grad,
        "budget": [
            {
                "name": c.name,
                "value": c.value,
                "sigma": c.sigma,
                "partial": c.partial,
                "contribution": c.contribution,
                "share": c.share,
            }
            for c in result.budget
        ],
    }
    if result.correlations:
        record["correlations"] = {f"{a}:{b}": r for (a, b), r in result.correlations.items()}
    mc = result.monte_carlo
    if mc is not None:
        record["monte_carlo"] = {
            "samples": mc.samples,
            "seed": mc.seed,
            "mean": mc.mean,
            "sigma": mc.sigma,
            "undefined": mc.undefined,
        }
    return record


def flat(result: Uncertainty) -> dict[str, float | str]:
    """The results as columns: value, sigma, d_NAME per variable, and the Monte Carlo figures."""
    found: dict[str, float | str] = {"value": result.value, "sigma": result.sigma}
    found.update({f"d_{name}": g for name, g in result.grad.items()})
    if result.monte_carlo is not None:
        found["mc_mean"] = result.monte_carlo.mean
        found["mc_sigma"] = result.monte_carlo.sigma
    return found


def result_names(variables: list[str], monte_carlo: bool) -> list[str]:
    names = ["value", "sigma", *(f"d_{n}" for n in variables)]
    return [*names, "mc_mean", "mc_sigma"] if monte_carlo else names


def render(result: Uncertainty, fmt: str) -> str:
    if fmt in ("json", "jsonl"):
        return json.dumps(as_json(result), allow_nan=False) + "\n"
    if fmt == "plain":
        lines = [f"{name}\t{value!r}" for name, value in flat(result).items()]
        if result.budget:
            lines.append("input\tvalue\tsigma\tpartial\tcontribution\tshare")
            lines += [
                "\t".join(
                    [c.name, *map(repr, (c.value, c.sigma, c.partial, c.contribution, c.share))]
                )
                for c in result.budget
            ]
        return "\n".join(lines) + "\n"
    if fmt in ("csv", "tsv"):
        results = flat(result)
        header = [*result.at, *(f"{n}_sigma" for n in result.sigmas), *results]
        row = [*result.at.values(), *result.sigmas.values(), *results.values()]
        return rows_text(
            [distinct_header(header), [repr(x) for x in row]], "," if fmt == "csv" else "\t"
        )
    raise ValueError(f"no such format: {fmt}")

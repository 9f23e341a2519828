"""Regenerate docs/stepper.png: the seed's neuron half way through the backward pass.

    python docs/tools/stepper_screenshot.py

Needs Graphviz's dot, Debian's Chromium (/usr/bin/chromium) and Playwright for
Python (the test extra); no browser is downloaded. The picture is checked by
eye before it is committed: it is what docs/explain.md and the tutorial show.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = "n = x1*w1 + x2*w2 + b; o = tanh(n)"
SEED_AT = "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432"
STEP = 15  # backward edge 5 of 9, n7 -> n6: the sum passing its gradient on


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "backprop.html"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "autodiff",
                "explain",
                SEED,
                "--at",
                SEED_AT,
                "-o",
                str(page_path),
            ],
            check=True,
            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1100, "height": 560}, color_scheme="light")
            page.goto(f"{page_path.as_uri()}#step={STEP}")
            page.screenshot(path=str(ROOT / "docs" / "stepper.png"))
            browser.close()
    print("wrote docs/stepper.png")


if __name__ == "__main__":
    main()

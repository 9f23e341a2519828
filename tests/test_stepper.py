"""The stepper page (explain -o page.html), in a real headless Chromium.

Debian's Chromium, driven by Playwright: the page is opened from disk
(file://), stepped through with the keyboard and the buttons, and compared at
every step with `autodiff explain --format json` and, at the end, with
`autodiff grad`. Every test also asserts that the page made no request but
its own and logged no error (a Content-Security-Policy violation is one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, extended, run_cli

SEED = "n = x1*w1 + x2*w2 + b; o = tanh(n)"
SEED_AT = "x1=2,x2=0,w1=-3,w2=1,b=6.8813735870195432"

# Every explain example of docs/explain.md and docs/tutorial.md, and a fan-out.
CASES = [
    (SEED, SEED_AT),
    ("x*x + x", "x=3"),
    ("a*b + c", "a=2,b=-3,c=10"),
    ("4*x**2 - 2*x + 5", "x=3"),  # a number drawn once per use
]


def expect(locator: Any) -> Any:
    # Playwright's own assertions wait without evaluating strings in the page,
    # which the page's Content-Security-Policy forbids (as it should).
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


class Opened:
    """A page of the browser with what it requested and logged."""

    def __init__(self, browser: Any, path: Path, fragment: str = "", **options: Any) -> None:
        self.page = browser.new_page(**options)
        self.url = path.as_uri()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on(
            "console", lambda m: m.type in ("error", "warning") and self.errors.append(m.text)
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(self.url + fragment)

    def status(self) -> str:
        return str(self.page.text_content("#status"))

    def boxes(self) -> list[tuple[str, str, str]]:
        # One round trip for the whole state (evaluating a function, not a
        # string, is allowed by the page's policy).
        found = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('[data-name]'), e =>"
            " [e.getAttribute('data-name'), e.getAttribute('data-value'),"
            " e.getAttribute('data-grad')])"
        )
        return [tuple(row) for row in found]

    def panel(self) -> str:
        return str(self.page.inner_text("#explanation"))

    def close(self) -> None:
        # Only the page itself: no CDN, no font, no favicon.
        assert [u.split("#")[0] for u in self.requests] == [self.url], self.requests
        assert self.errors == []
        self.page.close()


def make_page(tmp_path: Path, expr: str, at: str, name: str = "page.html") -> Path:
    result = run_cli("explain", expr, "--at", at, "-o", name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    return tmp_path / name


def trace_of(expr: str, at: str) -> dict[str, Any]:
    result = run_cli("explain", expr, "--at", at, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def rounded(x: float) -> str:
    return f"{x + 0.0:.6g}"


@pytest.mark.browser
@pytest.mark.parametrize(("expr", "at"), extended(CASES, 1, several=True))
def test_every_step_matches_explain_and_the_end_matches_grad(browser, tmp_path, expr, at):
    trace = trace_of(expr, at)
    forward, backward = trace["forward"], trace["backward"]
    total = len(forward) + len(backward)
    opened = Opened(browser, make_page(tmp_path, expr, at))
    assert opened.status() == f"step 0 of {total}"
    assert all(value == "" and grad == "" for _, value, grad in opened.boxes())
    names = {node["name"] for node in forward}
    assert {name for name, _, _ in opened.boxes()} == names
    for k in range(1, total + 1):
        opened.page.keyboard.press("ArrowRight")
        assert opened.status() == f"step {k} of {total}"
        assert opened.page.evaluate("location.hash") == (
            "#step=end" if k == total else f"#step={k}"
        )
        shown = {name: value for name, value, _ in opened.boxes()}
        computed = {node["name"] for node in forward[: min(k, len(forward))]}
        for node in forward:
            expected = repr(float(node["value"])) if node["name"] in computed else ""
            assert shown[node["name"]] == expected, (k, node["name"])
        if k > len(forward):
            edge = backward[k - len(forward) - 1]
            panel = opened.panel()
            assert f"{edge['node']} → {edge['input']}" in panel
            assert f"{edge['derivative']} = " in panel
            numbers = f"{rounded(edge['upstream'])} × {rounded(edge['local'])} = "
            assert numbers + rounded(edge["product"]) in panel
            assert f"{edge['input']}.grad = {rounded(edge['grad'])}" in panel
            grads = {name: grad for name, _, grad in opened.boxes()}
            assert grads[edge["input"]] == repr(float(edge["grad"]))
    grad = json.loads(run_cli("grad", expr, "--at", at, "--format", "json").stdout)["grad"]
    final = {name: g for name, _, g in opened.boxes() if name in grad}
    assert final == {name: repr(value) for name, value in grad.items()}
    for name, value in grad.items():
        assert f"∂f/∂{name} = {value!r}" in opened.panel()
    opened.close()


@pytest.mark.browser
def test_a_value_used_twice_shows_its_sum_growing(browser, tmp_path):
    opened = Opened(browser, make_page(tmp_path, "x*x + x", "x=3"), "#step=end")
    opened.page.keyboard.press("Home")
    panels = []
    for _ in range(20):
        opened.page.keyboard.press("ArrowRight")
        panels.append(opened.panel())
    lines = [line for p in panels for line in p.splitlines() if "x is used" in line]
    assert list(dict.fromkeys(lines)) == [
        "x is used 3 times: 1 = 1 so far",
        "x is used 3 times: 1 + 3 = 4 so far",
        "x is used 3 times: 1 + 3 + 3 = 7 so far",
    ]
    opened.close()


@pytest.mark.browser
def test_the_buttons_and_the_keys(browser, tmp_path):
    opened = Opened(browser, make_page(tmp_path, SEED, SEED_AT))
    page = opened.page
    page.click("#next")
    page.click("#next")
    assert opened.status() == "step 2 of 19"
    page.click("#prev")
    assert opened.status() == "step 1 of 19"
    page.click("#last")
    assert opened.status() == "step 19 of 19"
    page.click("#first")
    assert opened.status() == "step 0 of 19"
    page.keyboard.press("End")
    assert opened.status() == "step 19 of 19"
    page.keyboard.press("ArrowLeft")
    assert opened.status() == "step 18 of 19"
    page.keyboard.press("Home")
    assert opened.status() == "step 0 of 19"
    page.click("#play")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    expect(page.locator("#status")).to_have_text("step 1 of 19", timeout=5000)
    page.keyboard.press(" ")  # pauses
    assert page.get_attribute("#play", "aria-pressed") == "false"
    stopped = opened.status()
    page.wait_for_timeout(1300)  # longer than a step of play
    assert opened.status() == stopped
    # A click on a node says what it is.
    page.click("#last")
    page.click("[data-name='n']")
    details = str(page.inner_text("#details"))
    assert "n (add)" in details and "value: 0.8813735870195432" in details
    assert "formula: x1*w1 + x2*w2 + b" in details
    opened.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("fragment", "status"),
    extended(
        [
            ("#step=7", "step 7 of 19"),
            ("#step=end", "step 19 of 19"),
            ("#step=0", "step 0 of 19"),
            ("#step=99", "step 19 of 19"),
            ("#nonsense", "step 0 of 19"),
        ],
        2,
        several=True,
    ),
)
def test_deep_links_open_at_their_step(browser, tmp_path, fragment, status):
    opened = Opened(browser, make_page(tmp_path, SEED, SEED_AT), fragment)
    assert opened.status() == status
    opened.close()


@pytest.mark.browser
@pytest.mark.slow  # the full-step test checks the fragment at every step too
def test_the_fragment_follows_the_steps(browser, tmp_path):
    opened = Opened(browser, make_page(tmp_path, SEED, SEED_AT), "#step=7")
    opened.page.keyboard.press("ArrowRight")
    assert opened.page.evaluate("location.hash") == "#step=8"
    opened.page.evaluate("location.hash = '#step=3'")
    expect(opened.page.locator("#status")).to_have_text("step 3 of 19")
    opened.close()


HOSTILE = (
    "# </script><script>window.pwned = 1</script> \"quotes\" 'and' <b>bold</b> &amp;\x07\n"
    'n = x*2  # <img src=x onerror="window.pwned = 2">\n'
    "tanh(n)\n"
)


@pytest.mark.browser
def test_hostile_text_stays_text(browser, tmp_path):
    (tmp_path / "hostile.txt").write_text(HOSTILE)
    result = run_cli("explain", "-f", "hostile.txt", "--at", "x=1", "-o", "page.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    opened = Opened(browser, tmp_path / "page.html", "#step=end")
    page = opened.page
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("document.scripts.length") == 2  # the data and the page's own script
    assert page.query_selector("img") is None and page.query_selector("b") is None
    assert "</script><script>window.pwned = 1</script>" in str(page.text_content(".expr"))
    opened.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("scheme", "viewport"),
    [("light", {"width": 1280, "height": 720}), ("dark", {"width": 390, "height": 844})],
)
@pytest.mark.slow
def test_usable_on_a_laptop_and_a_phone(browser, tmp_path, scheme, viewport):
    opened = Opened(
        browser,
        make_page(tmp_path, SEED, SEED_AT),
        "#step=10",
        viewport=viewport,
        color_scheme=scheme,
    )
    page = opened.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]  # only the graph scrolls sideways, never the page
    for button in ("#first", "#prev", "#play", "#next", "#last"):
        box = page.query_selector(button).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    ink = page.evaluate("getComputedStyle(document.body).color")
    paper = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert ink != paper
    assert (paper == "rgb(255, 255, 255)") == (scheme == "light")
    graph = page.evaluate("getComputedStyle(document.getElementById('graph')).backgroundColor")
    assert graph == "rgb(255, 255, 255)"  # the records' black text stays on white
    opened.close()


# -- without a browser --------------------------------------------------------


@pytest.mark.dot
def test_the_same_input_writes_the_same_bytes(tmp_path):
    first = make_page(tmp_path, SEED, SEED_AT, "a.html").read_bytes()
    second = make_page(tmp_path, SEED, SEED_AT, "b.html").read_bytes()
    assert first == second
    assert b"http://" not in first.replace(b"http://www.w3.org/", b"")
    assert b"https://" not in first


@pytest.mark.dot
def test_the_page_on_stdout_and_the_message(tmp_path):
    result = run_cli("explain", SEED, "--at", SEED_AT, "-o", "page.html", cwd=tmp_path)
    assert result.stderr == "wrote page.html (10 values, 19 steps)\n"
    piped = run_cli("explain", SEED, "--at", SEED_AT, "-o", "-", cwd=tmp_path)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout == (tmp_path / "page.html").read_text()


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["-o", "page.txt"], 2, "HTML page"),
        (["-o", "page.html", "--format", "json"], 2, "drop --format"),
        (["-o", "page.html", "--max-nodes", "5"], 2, "more than 5 nodes"),
    ],
)
def test_mistakes_leave_no_file(tmp_path, args, code, needle):
    result = run_cli("explain", SEED, "--at", SEED_AT, *args, cwd=tmp_path)
    assert result.returncode == code
    assert result.stdout == ""
    assert needle in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_dot_the_install_hint_and_no_file(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    os.symlink(os.path.realpath(os.sys.executable), bare / "python3")
    result = run_cli(
        "explain", SEED, "--at", SEED_AT, "-o", "page.html", cwd=tmp_path, env={"PATH": str(bare)}
    )
    assert result.returncode == 1
    assert "Graphviz" in result.stderr and "apt-get install graphviz" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]

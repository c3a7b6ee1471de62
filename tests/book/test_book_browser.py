"""The built book, opened in a headless Chromium (marked ``browser``) and crawled.

The book is built once per session from a real, tiny benchmark run (see conftest):
two classical methods that run and one that is skipped here.
"""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bench.leaderboard import leaderboard
from bench.results import load_run

#: The dataset of the fixture run (conftest's FIXTURE_CONFIG; checked by `fixture_dataset`).
FIXTURE_DATASET = "synth-lyso-easy"
LEADERBOARD = f"book/leaderboards/datasets/{FIXTURE_DATASET}.html"


@pytest.fixture(autouse=True)
def _same_dataset(fixture_dataset):
    assert fixture_dataset == FIXTURE_DATASET
IMAGES_LOADED_JS = """
(async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.complete ? null :
      new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  return imgs.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, local: i.src.startsWith(location.origin)}));
})()
"""


def _table(browser, table_id: str) -> list[list[str]]:
    return browser.evaluate(
        f"Array.from(document.querySelectorAll('#{table_id} tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )


def _headers(browser, table_id: str) -> list[str]:
    return browser.evaluate(
        f"Array.from(document.querySelectorAll('#{table_id} thead th')).map(h => h.textContent.trim())"
    )


@pytest.mark.browser
def test_leaderboard_shows_one_row_per_method_of_the_run(browser, book_server, fixture_run):
    run = load_run(fixture_run)
    board = leaderboard(run, dataset=FIXTURE_DATASET)
    browser.goto(f"{book_server}/{LEADERBOARD}")

    rows = _table(browser, f"leaderboard-{FIXTURE_DATASET}")
    heads = _headers(browser, f"leaderboard-{FIXTURE_DATASET}")
    assert len(rows) == len(board) == 3
    shown = {r[heads.index("Method")].removesuffix("notebook").strip(): r for r in rows}
    assert set(shown) == set(board["method_id"])
    for _, expected in board.iterrows():
        row = shown[expected["method_id"]]
        assert row[heads.index("Status")].startswith(expected["status"])
        f1 = row[heads.index("F1@0.5")]
        if expected["status"] == "ok":
            # the number on the page is the one bench.leaderboard computed, with its interval
            assert f1.startswith(f"{expected['f1']:.3f}")
            assert f"[{expected['f1_low']:.3f}, {expected['f1_high']:.3f}]" in f1
        else:
            assert f1 == "–", "a method that did not run must not show a score"
            assert expected["reason"] and expected["reason"][:40] in row[heads.index("Status")], (
                "a method without a score must show why"
            )

    browser.goto(f"{book_server}/book/leaderboards/index.html")
    glance = _table(browser, "methods-at-a-glance")
    assert sorted(r[0] for r in glance) == sorted(set(run.cells["method_id"]))


@pytest.mark.browser
def test_leaderboard_table_sorts_on_click(browser, book_server):
    browser.goto(f"{book_server}/{LEADERBOARD}")
    table = f"leaderboard-{FIXTURE_DATASET}"
    heads = _headers(browser, table)
    col = heads.index("Method")

    def methods():
        return [r[col].removesuffix("notebook").strip() for r in _table(browser, table)]

    browser.evaluate(f"document.querySelectorAll('#{table} thead th')[{col}].click()")
    first = methods()
    browser.evaluate(f"document.querySelectorAll('#{table} thead th')[{col}].click()")
    second = methods()
    assert first == sorted(first, reverse=True)
    assert second == sorted(second)
    # sorting by the score keeps methods without a score (skipped) last, both ways
    f1 = heads.index("F1@0.5")
    for _ in range(2):
        browser.evaluate(f"document.querySelectorAll('#{table} thead th')[{f1}].click()")
        assert _table(browser, table)[-1][f1] == "–"


@pytest.mark.browser
@pytest.mark.parametrize(
    "page, min_images",
    [
        (LEADERBOARD, 5),  # per-class bars, AP sweep, per-image scores, Pareto, gallery
        ("book/leaderboards/index.html", 1),
        (f"book/datasets/cards/{FIXTURE_DATASET}.html", 3),
        ("book/intro.html", 1),
        ("notebooks/colab/classical.html", 1),
    ],
)
def test_images_load(browser, book_server, page, min_images):
    browser.goto(f"{book_server}/{page}")
    images = browser.evaluate(IMAGES_LOADED_JS)
    local = [i for i in images if i["local"]]
    broken = [i["src"] for i in local if i["w"] == 0]
    assert not broken, f"images that did not load on {page}: {broken}"
    assert len(local) >= min_images, f"{page}: expected at least {min_images} images, found {local}"


@pytest.mark.browser
def test_no_javascript_errors(browser, book_server):
    mark = len(browser.events)
    browser.goto(f"{book_server}/{LEADERBOARD}")
    browser.evaluate(f"document.querySelectorAll('#leaderboard-{FIXTURE_DATASET} thead th')[0].click()")
    errors = [e for e in browser.events[mark:] if e.get("method") == "Runtime.exceptionThrown"]
    assert not errors, [json.dumps(e["params"]["exceptionDetails"])[:1000] for e in errors]


@pytest.mark.browser
def test_notebook_pages_have_colab_buttons(browser, book_server, built_book):
    from bench.runner.notebooks import COLAB_URL, list_notebooks

    names = [p.stem for p in list_notebooks()]
    assert names, "no notebook found"
    for name in names:
        browser.goto(f"{book_server}/notebooks/colab/{name}.html")
        links = browser.evaluate(
            "Array.from(document.querySelectorAll('a[href^=\"https://colab.research.google.com/github/\"]'))"
            ".map(a => a.href)"
        )
        assert COLAB_URL.format(path=f"notebooks/colab/{name}.ipynb") in links, (name, links)


@pytest.mark.browser
def test_leaderboard_screenshot(browser, book_server, tmp_path):
    """Screenshot of the leaderboard page (kept in $BENCH_SCREENSHOT_DIR when set)."""
    from PIL import Image

    browser.goto(f"{book_server}/{LEADERBOARD}")
    browser.evaluate(IMAGES_LOADED_JS)
    path = browser.screenshot(tmp_path / "leaderboard.png")
    img = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert img.shape[1] == 1400 and img.shape[0] > 1000
    assert img.std() > 10, "the screenshot is (nearly) blank"
    keep = os.environ.get("BENCH_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / "leaderboard.png")


# ------------------------------------------------------------------ links, no browser
class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")):
                self.refs.append(a[key])


def _parse(text: str) -> _Links:
    p = _Links()
    p.feed(text)
    return p


def test_internal_links_resolve(built_book, book_server):
    """Every same-site link, image, script and style of every page loads (HTTP 200), and
    every fragment names an element of its target page."""
    root = built_book.html
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) > 10
    ids_cache: dict[str, set[str]] = {}
    status: dict[str, int] = {}
    broken, checked = [], 0
    for page in pages:
        rel = page.relative_to(root).as_posix()
        base = f"{book_server}/{rel}"
        for ref in _parse(page.read_text(errors="replace")).refs:
            url = urllib.parse.urljoin(base, ref)
            parts = urllib.parse.urlsplit(url)
            if not url.startswith(book_server) or parts.scheme not in ("http", "https"):
                continue
            target = parts._replace(fragment="").geturl()
            if target not in status:
                try:
                    with urllib.request.urlopen(target, timeout=10) as resp:
                        status[target] = resp.status
                        if target.endswith(".html"):
                            ids_cache[target] = _parse(resp.read().decode(errors="replace")).ids
                except urllib.error.HTTPError as exc:
                    status[target] = exc.code
            checked += 1
            if status[target] != 200:
                broken.append(f"{rel}: {ref} -> HTTP {status[target]}")
                continue
            if parts.fragment and target.endswith(".html"):
                frag = urllib.parse.unquote(parts.fragment)
                if frag not in ids_cache[target]:
                    broken.append(f"{rel}: {ref} -> no element #{frag}")
    assert checked > 100
    assert not broken, "\n".join(broken[:30])


def test_book_pages_of_the_run(built_book, fixture_run):
    """Every generated page exists, the run is named on the leaderboard, and the
    executed notebooks of the run are the ones staged."""
    html_dir = built_book.html
    for page in ("book/intro.html", "book/leaderboards/index.html", LEADERBOARD,
                 f"book/datasets/cards/{FIXTURE_DATASET}.html", "book/experiments/lysoquant.html",
                 "book/experiments/cdl_mdl.html", "book/experiments/classical_vs_deep.html",
                 "book/metrics.html", "book/reproduce.html", "book/references.html"):
        assert (html_dir / page).is_file(), page
    index = (html_dir / "book/leaderboards/index.html").read_text()
    assert Path(fixture_run).name in index
    assert "No benchmark run has been made yet" not in index
    staged = json.loads((built_book.source / "notebooks/colab/classical.ipynb").read_text())
    outputs = [o for c in staged["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs, "the classical notebook page must show the executed copy of the run"

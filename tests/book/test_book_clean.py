"""The built book is clean and complete offline: no progress bars, no warnings, no paths of
the machine that built it; formulas render with MathJax served by the book itself; the
leaderboard shows how firm its ranks are and links its tidy tables."""

from __future__ import annotations

import html.parser
import re
import sys
from pathlib import Path

import pytest

FIXTURE_DATASET = "synth-lyso-easy"
LEADERBOARD = f"book/leaderboards/datasets/{FIXTURE_DATASET}.html"


class _Text(html.parser.HTMLParser):
    """The text a reader sees in the article of a page: no scripts, styles or admonition titles."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._in_article = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article":
            self._in_article += 1
        if tag in ("script", "style") or "admonition-title" in (a.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "article":
            self._in_article -= 1
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._in_article and not self._skip:
            self.parts.append(data)
        elif self._skip and self.lasttag == "p":  # an admonition title ends with its paragraph
            self._skip -= 1


def _pages(built_book) -> list[Path]:
    return sorted(p for p in built_book.html.rglob("*.html") if "_static" not in p.parts)


def _machine_paths(fixture_run) -> list[str]:
    root = Path(__file__).resolve().parents[2]
    out = {str(root), str(Path(sys.prefix)), str(Path(sys.prefix).resolve()), str(Path(fixture_run).parent)}
    home = str(Path.home())
    if len(home) > 1:
        out.add(home + "/")
    return sorted(out, key=len, reverse=True)


def test_no_page_shows_a_bar_a_warning_or_a_path_of_the_build_machine(built_book, fixture_run):
    paths = _machine_paths(fixture_run)
    bars = re.compile(r"\d+%\|" + "[\u2588-\u258f #]*" + r"\|")  # tqdm's "  4%|█▍   |"
    problems = []
    for page in _pages(built_book):
        raw = page.read_text(errors="replace")
        rel = page.relative_to(built_book.html).as_posix()
        problems += [f"{rel}: path {p}" for p in paths if p in raw]
        parser = _Text()
        parser.feed(raw)
        text = "".join(parser.parts)
        problems += [f"{rel}: {m.group(0)!r}" for m in re.finditer(r"\w*Warning\b[^\n]{0,60}", text)]
        problems += [f"{rel}: progress bar {m.group(0)!r}" for m in bars.finditer(text)]
    assert not problems, "\n".join(problems[:30])


def test_executed_notebook_pages_show_the_parameters_once(built_book):
    page = (built_book.html / "notebooks/colab/classical.html").read_text()
    # papermill's injected cell is shown; the notebook's own default cell is removed
    assert "injected-parameters" in page or "# Parameters" in page
    assert page.count("tag_parameters") == 0, "the default parameters cell should not be on the page"


def test_leaderboard_shows_rank_uncertainty_and_tidy_tables(built_book):
    page = (built_book.html / LEADERBOARD).read_text()
    assert "How stable is this ranking?" in page
    assert f"{FIXTURE_DATASET}-ranks.png" in page and f"{FIXTURE_DATASET}-significance.png" in page
    # 3 test images: the page must not claim a significant difference
    assert "No pair of methods differs significantly" in page
    csv = re.findall(r'href="([^"]*instance\.csv)"', page)
    assert csv, "the leaderboard links the dataset's instance table"
    target = (built_book.html / Path(LEADERBOARD).parent / csv[0]).resolve()
    assert target.is_file() and target.read_text().startswith("dataset,split,method_id")
    index = (built_book.html / "book/leaderboards/index.html").read_text()
    zips = re.findall(r'href="([^"]*\.zip)"', index)
    assert zips, "the front page of the leaderboards links the run's archive"
    import zipfile

    with zipfile.ZipFile((built_book.html / "book/leaderboards" / zips[0]).resolve()) as zf:
        names = zf.namelist()
    assert any(n.endswith("/manifest.json") for n in names)
    assert any(n.endswith("/tables/instance.csv") for n in names)
    assert not any("/predictions/" in n for n in names)
    assert "Rank [95% interval] per dataset" in index


def test_mathjax_is_served_by_the_book(built_book):
    assert (built_book.html / "_static/mathjax/tex-chtml.js").is_file()
    assert list((built_book.html / "_static/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    page = (built_book.html / "book/metrics.html").read_text()
    scripts = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, flags=re.I)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts), scripts


@pytest.mark.browser
def test_formulas_render_with_the_network_off(browser, book_server):
    browser.call("Network.enable", session=True)
    # everything but the local book server is unreachable
    browser.call("Network.setBlockedURLs", {"urls": ["https://*", "http://*.org*", "http://*.com*",
                                                      "http://*.net*", "http://*.io*"]}, session=True)
    try:
        browser.goto(f"{book_server}/book/metrics.html")
        state = browser.evaluate("""
        (async () => {
          if (!window.MathJax || !MathJax.startup) return {mathjax: false};
          await MathJax.startup.promise;
          const maths = Array.from(document.querySelectorAll('.math'));
          return {mathjax: true, n: maths.length,
                  rendered: maths.filter(m => m.querySelector('mjx-container')).length,
                  raw: maths.filter(m => !m.querySelector('mjx-container') && /\\\\[a-z]+|\\$/.test(m.textContent)).length,
                  remote: performance.getEntriesByType('resource').map(e => e.name)
                          .filter(n => !n.startsWith(location.origin))};
        })()""")
    finally:
        browser.call("Network.setBlockedURLs", {"urls": []}, session=True)
    assert state["mathjax"], "MathJax did not load"
    assert state["n"] > 5 and state["rendered"] == state["n"] and state["raw"] == 0, state
    assert not state["remote"], state["remote"]


@pytest.mark.browser
def test_wide_leaderboard_keeps_the_method_column_in_view(browser, book_server):
    browser.goto(f"{book_server}/{LEADERBOARD}")
    state = browser.evaluate(f"""
    (() => {{
      const t = document.querySelector('#leaderboard-{FIXTURE_DATASET}');
      const heads = Array.from(t.querySelectorAll('thead th')).map(h => h.textContent.trim());
      const m = heads.indexOf('Method');
      const cell = t.querySelector('tbody tr').children[m];
      return {{m: m, position: getComputedStyle(cell).position,
               first: getComputedStyle(t.querySelector('tbody tr').children[0]).position}};
    }})()""")
    assert state["m"] >= 0 and state["position"] == "sticky" and state["first"] == "sticky", state

#!/usr/bin/env python3
"""Load time of the HTML view in headless Chromium against thread size.

Builds graphs of synthetic bushy threads (scripts/bench_memory.py's generator, a tiny model that links
every pair, so every unit has relations), writes each view, opens it in Chromium (Playwright with the
system executable) and reports the page size, the browser's DOMContentLoaded and load times, the time
until the page's script is ready, and the time a node click takes to select and scroll. Median of 3.

usage: python scripts/bench_view.py [--comments 50,500,1500] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_memory  # noqa: E402

import argmine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", default="50,500,1500")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        model = argmine.load_model(str(bench_memory.tiny_model(Path(tmp) / "tiny")), device="cpu")
        print(
            f"{'comments':>8} {'units':>6} {'relations':>9} {'page KB':>8} {'DOMContentLoaded ms':>20} {'load ms':>8} {'ready ms':>9} {'click ms':>9}"
        )
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            for n in (int(x) for x in args.comments.split(",")):
                graph = argmine.analyze(json.dumps(bench_memory.thread("bushy", n)), model=model)
                page_file = Path(tmp) / f"view-{n}.html"
                page_file.write_text(argmine.export([graph], "html"), encoding="utf-8")
                runs = []
                for _ in range(3):
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    page.goto(page_file.as_uri())
                    page.wait_for_selector("body[data-ready='1']")
                    timing = page.evaluate(
                        "() => { const t = performance.getEntriesByType('navigation')[0];"
                        " return [t.domContentLoadedEventEnd, t.loadEventEnd, performance.now()]; }"
                    )
                    last = graph.units[-1].id
                    click = page.evaluate(
                        "id => { const t = performance.now(); document.getElementById('node-' + id)"
                        ".dispatchEvent(new MouseEvent('click', {bubbles: true})); return performance.now() - t; }",
                        last,
                    )
                    runs.append([*timing, click])
                    page.close()
                med = [statistics.median(r[i] for r in runs) for i in range(4)]
                size = page_file.stat().st_size / 1024
                print(
                    f"{n:>8} {len(graph.units):>6} {len(graph.relations):>9} {size:>8.0f} {med[0]:>20.0f} {med[1]:>8.0f} {med[2]:>9.0f} {med[3]:>9.1f}",
                    flush=True,
                )
            browser.close()


if __name__ == "__main__":
    main()

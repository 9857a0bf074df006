"""Write the README's screenshots of both pages (docs/img/feedback.png, docs/img/summary.png).

    bash scripts/install_chromium.sh   # once, if /usr/bin/chromium is missing
    .venv/bin/python scripts/screenshots.py

Grades the bundled examples into a temporary folder, then opens the pages in the same headless
Chromium as the page tests (tests/chromium.py): a student's feedback at a phone's width, and the
class summary at a laptop's. Re-run it after changing the templates.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from chromium import Chromium  # noqa: E402  (the page tests' browser driver, found through the path above)

IMAGES = REPO / "docs" / "img"
FEEDBACK_STUDENT = "bruno_dupont"  # a partly right notebook: hints, expected against got


def main() -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-screenshots-") as scratch:
        out = Path(scratch) / "out"
        examples = REPO / "examples" / "submissions"
        command = [sys.executable, "-m", "autograder", "grade", str(examples), "--out", str(out)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPO)
        with Chromium() as browser:
            # The top of the page at a phone's width: the total and the first question that lost points.
            browser.viewport(400, 1300, mobile=True, scale=1.5)
            browser.open(out / "feedback" / f"{FEEDBACK_STUDENT}.html")
            feedback = browser.screenshot(IMAGES / "feedback.png", full_page=False)
            browser.viewport(1100, 900)
            browser.open(out / "summary.html")
            summary = browser.screenshot(IMAGES / "summary.png", full_page=True)
            if browser.console_errors:
                print("console errors:", *browser.console_errors, sep="\n  ", file=sys.stderr)
                return 1
    for image in (feedback, summary):
        print(f"wrote {image.relative_to(REPO)} ({image.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A real headless Chromium (Debian's ``chromium``), driven by Playwright.

For the page tests and ``scripts/screenshots.py``: open a local page, read what it rendered,
collect console errors and uncaught exceptions, take PNG screenshots. Playwright's Python package
drives the browser that ``scripts/install_chromium.sh`` installs (``executable_path``): Playwright
downloads no browser here. Each instance runs its own browser with a fresh profile, and
``close()`` (or leaving the ``with`` block) ends it. The instances of one process share one
Playwright driver, stopped when the last of them closes.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import CDPSession, ConsoleMessage, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Playwright already passes --headless, --no-sandbox (as root in a container), --hide-scrollbars and
# the switches that keep the browser off the network; these are the old client's others.
FLAGS = ["--disable-gpu", "--disable-quic"]


class BrowserError(RuntimeError):
    pass


class _Driver:
    """Playwright's driver process, started for the first open browser, stopped with the last."""

    playwright: Playwright | None = None
    users = 0

    @classmethod
    def acquire(cls) -> Playwright:
        if cls.playwright is None:
            cls.playwright = sync_playwright().start()
        cls.users += 1
        return cls.playwright

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.playwright is not None:
            playwright, cls.playwright = cls.playwright, None
            playwright.stop()


class Chromium:
    def __init__(self, width: int = 1100, height: int = 900, timeout: float = 30) -> None:
        self.timeout = timeout
        self.console_errors: list[str] = []
        self._pages: dict[tuple[bool, float], Page] = {}
        self._page: Page | None = None
        self._cdp: CDPSession | None = None
        self._metrics: tuple[int, int, bool, float] = (width, height, False, 1)
        self.browser = None
        playwright = _Driver.acquire()
        self._holds_driver = True
        try:
            self.browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=FLAGS, headless=True, timeout=timeout * 1000
            )
            self._use_page()
        except PlaywrightError as error:
            self.close()
            raise BrowserError(f"{CHROMIUM}: {error.message}") from error
        except BaseException:
            self.close()
            raise

    def _use_page(self) -> None:
        """The page for the current metrics: one context per (mobile, scale), made when first wanted."""
        width, height, mobile, scale = self._metrics
        page = self._pages.get((mobile, scale))
        if page is None:
            context = self.browser.new_context(
                viewport={"width": width, "height": height}, is_mobile=mobile, device_scale_factor=scale
            )
            context.set_default_timeout(self.timeout * 1000)
            page = self._pages[mobile, scale] = context.new_page()
            page.on("console", self._console)
            page.on("pageerror", self._exception)
        elif page.viewport_size != {"width": width, "height": height}:
            page.set_viewport_size({"width": width, "height": height})
        if page is not self._page:
            self._page, self._cdp = page, None

    def _console(self, message: ConsoleMessage) -> None:
        # console.error and failed console.assert, and the browser's own error entries (a resource
        # that failed to load, ...), which Playwright reports as console messages of type "error".
        if message.type in ("error", "assert"):
            self.console_errors.append(message.text)

    def _exception(self, error: PlaywrightError) -> None:
        self.console_errors.append(error.stack or f"{error.name}: {error.message}")

    @property
    def page(self) -> Page:
        """The Playwright page in use, for checks the methods below do not cover."""
        return self._page

    def send(self, method: str, **params: object) -> dict:
        """One DevTools command to the page, through Playwright's CDP session."""
        if self._cdp is None:
            self._cdp = self._page.context.new_cdp_session(self._page)
        try:
            return self._cdp.send(method, params)
        except PlaywrightError as error:
            raise BrowserError(f"{method}: {error.message}") from error

    def viewport(self, width: int, height: int, mobile: bool = False, scale: float = 1) -> None:
        """The page's size in CSS pixels, as a phone (``mobile``) or not, at ``scale`` device pixels each.

        Playwright fixes ``mobile`` and ``scale`` per browser context, so a change of either moves to
        another page (the context made for that pair, kept for later switches): open() a file after.
        """
        self._metrics = (width, height, mobile, scale)
        self._use_page()

    def open(self, path: Path) -> None:
        """Load a local file and wait until it has loaded (images included)."""
        try:
            self._page.goto(path.resolve().as_uri(), wait_until="load")
        except PlaywrightError as error:
            raise BrowserError(f"{path}: {error.message}") from error

    def evaluate(self, expression: str) -> object:
        try:
            return self._page.evaluate(expression)
        except PlaywrightError as error:
            raise BrowserError(f"{expression!r} raised: {error.message}") from error

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """A PNG of the page (all of it when ``full_page``)."""
        self._page.screenshot(path=path, full_page=full_page, type="png")
        return path

    def close(self) -> None:
        browser, self.browser = self.browser, None
        holds_driver, self._holds_driver = self._holds_driver, False
        try:
            if browser is not None:
                browser.close()  # its pages, and the browser process with its helpers
        finally:
            if holds_driver:
                _Driver.release()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

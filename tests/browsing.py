"""Real-browser tests' helpers: headless Chromium through Playwright, and a page that
went through the login form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from support import PASSWORD

CHROMIUM = "/usr/bin/chromium"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run scripts/test, which installs it")
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield b
        finally:
            await b.close()


async def logged_in(context: BrowserContext, url: str, username: str) -> tuple[Page, list[str]]:
    """A page that went to `url` through the login form; the errors its console reports."""
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    return page, errors


async def on_extension(page: Page, ramal: str) -> None:
    """The agent's page registers `ramal` through its form, then waits for the live socket."""
    await page.fill("input[name=ramal]", ramal)
    await page.click("form[action='/atendimento/ramal'] button")
    await expect(page.locator("body[data-ws=open]")).to_have_count(1, timeout=10_000)

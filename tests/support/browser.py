"""Headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, for the inbox's tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def available() -> bool:
    return os.path.exists(CHROMIUM) and os.path.exists(DRIVER) or bool(shutil.which("chromedriver"))


def require() -> None:
    """In CI a missing browser is a failure, never a skip: .ci/run installs it."""
    if available():
        return
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is missing: .ci/run installs chromium and chromium-driver")
    pytest.skip("headless Chromium (apt-get install chromium chromium-driver) is not installed")


def chrome(*arguments: str) -> Iterator[WebDriver]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-extensions",
        *arguments,
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(DRIVER if os.path.exists(DRIVER) else shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, condition, timeout: float = 5.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)

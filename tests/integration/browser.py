"""Headless Chromium (Debian's chromium + chromium-driver, driven by python3-selenium) for the
browser stories: pages of web/ served by the stack's nginx, as a user opens them.

Tests get a `browsers` factory: browsers() starts one Chromium (its own sessionStorage: one user),
all quit at the end of the test. A test is skipped, saying why, only when Chromium cannot start.
Screenshots go to build/screenshots/<name>.png.
"""

import os
import shutil
import time

import pytest

from conftest import REPO

SCREENSHOTS = os.path.join(REPO, "build", "screenshots")
# The browser stories run on the configuration a site starts from (rate limits on).
with open(os.path.join(REPO, "conf", "realtime.yaml")) as f:
    SHIPPED_CONFIG = f.read()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT = 20  # seconds for one thing to show up on a slow 2-core machine


def _start_chromium(width, height):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.skip(f"python3-selenium is not installed ({e}); tools/install-deps.sh installs it")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.skip(f"{path} is missing: tools/install-deps.sh installs chromium and "
                        "chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required", f"--window-size={width},{height}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    except Exception as e:  # selenium's WebDriverException, or chromedriver failing to run
        pytest.skip(f"headless Chromium could not start: {str(e).splitlines()[0]}")


@pytest.fixture
def browsers():
    made = []

    def factory(width=1280, height=800):
        d = _start_chromium(max(width, 500), height)
        if width < 500:
            # a window is at least 500 px wide: emulate a phone's screen below that
            d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
        d.set_page_load_timeout(WAIT)
        made.append(d)
        return d

    yield factory
    for d in made:
        try:
            d.quit()
        except Exception:
            pass


def wait_until(driver, pred, timeout=WAIT, what="a condition"):
    """Poll pred(driver) until truthy; fail with what, the page's text and console."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = pred(driver)
        except Exception:  # the page may be between loads
            v = None
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n"
                                 + describe(driver))
        time.sleep(0.1)


def describe(driver):
    """What the user sees (body text) and what the page logged, for failure reports."""
    try:
        body = driver.execute_script("return document.body ? document.body.innerText : ''")
    except Exception as e:
        body = f"(no page: {e})"
    try:
        logs = [f"{e['level']} {e['message']}" for e in driver.get_log("browser")][-20:]
    except Exception:
        logs = []
    return (f"--- page {driver.current_url} ---\n{body[-3000:]}\n--- console ---\n"
            + "\n".join(logs))


def open_page(driver, stack, path, token=None):
    url = stack.base_url + path + (f"?token={token}" if token else "")
    driver.get(url)


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def wait_chat_ready(driver):
    wait_until(driver, lambda d: js(d, "const p = document.querySelector('.chat');"
                                       "return p && p.dataset.ready === 'true'"),
               what="the chat panel to load its history and subscribe")


def open_chat(driver, stack, channel, token=None):
    """The chat panel of channel alone (/embed/chat/...), signed in with token, once ready."""
    open_page(driver, stack, f"/embed/chat/{channel}", token)
    wait_chat_ready(driver)


def chat_messages(driver):
    """[(id, author, text, system)] of the messages the panel shows, top to bottom."""
    return [tuple(m) for m in js(driver, """
        return [...document.querySelectorAll('.chat-log .msg')].map(li => [
            Number(li.dataset.id),
            (li.querySelector('.msg-author') || {}).textContent || null,
            li.querySelector('.msg-text').textContent,
            li.classList.contains('system')]);""")]


def chat_texts(driver):
    return [m[2] for m in chat_messages(driver)]


def wait_texts(driver, want, timeout=WAIT):
    """Until the panel shows exactly these message texts, in this order."""
    return wait_until(driver, lambda d: chat_texts(d) == want, timeout,
                      what=f"the chat to show exactly {want} (shows {chat_texts(driver)})")


def send_chat(driver, text):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    box = wait_until(driver, lambda d: (lambda e: e if e.is_displayed() and e.is_enabled() else None)(
        d.find_element(By.CSS_SELECTOR, ".chat-send input")), what="the send box")
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    # sent once the box is empty again (the server stored it); an error shows instead
    wait_until(driver, lambda d: js(d, "return document.querySelector('.chat-send input').value === ''"
                                       " || !document.querySelector('.chat-error').hidden"),
               what=f"{text!r} to be sent")


def visible_text(driver, selector):
    """The element's text when it is shown, else None."""
    return js(driver, """const e = document.querySelector(arguments[0]);
        return e && e.offsetParent !== null ? e.textContent : null;""", selector)


def screenshot(driver, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name + ".png")
    driver.save_screenshot(path)
    return path

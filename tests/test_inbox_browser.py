"""The inbox page in a real headless Chromium: the list, a message, live arrival, mailboxes and
search, hostile mail that must stay inert, auth, and requests from other origins."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import pytest
from support.browser import chrome, wait
from support.inbox import send
from support.listener import Listener

from smtp_harness import Harness

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def shared_driver() -> Iterator[object]:
    yield from chrome()  # one browser for the module: starting Chromium costs a second or two


@pytest.fixture
def driver(shared_driver):
    yield shared_driver
    shared_driver.execute_cdp_cmd("Network.enable", {})
    shared_driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    shared_driver.get("about:blank")


def rows(driver) -> list[str]:
    """The rows' text, read in one go: the live list may be redrawn between two element reads."""
    return driver.execute_script("return [...document.querySelectorAll('#messages tbody tr')].map(r => r.innerText)")


def click(driver, css: str) -> None:
    """Click what `css` finds, again if a live redraw replaced it in between."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(20):
        try:
            driver.find_element(By.CSS_SELECTOR, css).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"{css} kept being redrawn")


def test_list_and_message_rendered(driver):
    from selenium.webdriver.common.by import By

    with Harness(tls="off") as h:
        send(h, "First report", "ops@a.example")
        send(h, "Second report", "ops@b.example", html="<h1 id='greeting'>Rendered heading</h1><p>Body text</p>", attach=b"pdf")
        driver.get(h.http_url + "/")
        wait(driver, lambda d: len(rows(d)) == 2)
        assert "Second report" in rows(driver)[0] and "First report" in rows(driver)[1]  # newest first
        assert "plain" in rows(driver)[0]
        click(driver, "#messages tbody tr")
        wait(driver, lambda d: d.find_element(By.ID, "viewer-subject").text == "Second report")
        frame = driver.find_element(By.ID, "html-frame")
        assert frame.get_attribute("sandbox") == ""
        driver.switch_to.frame(frame)
        assert wait(driver, lambda d: d.find_element(By.ID, "greeting")).text == "Rendered heading"
        driver.switch_to.default_content()
        driver.find_element(By.CSS_SELECTOR, "#tabs [data-tab=attachments]").click()
        assert "report.pdf" in driver.find_element(By.ID, "tab-attachments").text
        driver.find_element(By.CSS_SELECTOR, "#tabs [data-tab=headers]").click()
        assert "Subject" in driver.find_element(By.ID, "tab-headers").text
        assert "msg=2" in driver.current_url


def test_a_message_arrives_while_the_page_is_open(driver):
    from selenium.webdriver.common.by import By

    with Harness() as h:
        driver.get(h.http_url + "/")
        wait(driver, lambda d: "off" not in d.find_element(By.ID, "live").get_attribute("class"))
        send(h, "Arrived live")
        wait(driver, lambda d: any("Arrived live" in r for r in rows(d)), timeout=3.0)  # live: shown without a reload


def test_mailboxes_and_search_filter_and_live_in_the_url(driver):
    from selenium.webdriver.common.by import By

    with Harness(users={"org-a": "x"}) as h:
        send(h, "Invoice failed", "ops@a.example")
        send(h, "License expiring", "lic@b.example")
        send(h, "Robot offline", "ops@a.example")
        driver.get(h.http_url + "/")
        wait(driver, lambda d: len(rows(d)) == 3)
        box = '#mailboxes a[data-mailbox="rcpt:ops@a.example"]'
        wait(driver, lambda d: d.execute_script(f"return document.querySelector('{box}')?.innerText.endsWith('2')"))
        click(driver, box)
        wait(driver, lambda d: len(rows(d)) == 2)
        assert "mailbox=rcpt%3Aops%40a.example" in driver.current_url
        driver.find_element(By.ID, "search").send_keys("robot")
        wait(driver, lambda d: len(rows(d)) == 1 and "Robot offline" in rows(d)[0])
        shared = driver.current_url
        assert "q=robot" in shared
        driver.get("about:blank")
        driver.get(shared)  # a shared link opens the same view
        wait(driver, lambda d: len(rows(d)) == 1 and "Robot offline" in rows(d)[0])


def test_hostile_mail_runs_nothing_and_contacts_no_host(driver):
    from selenium.webdriver.common.by import By

    with Listener() as listener, Harness() as h:
        base = f"http://127.0.0.1:{listener.port}"
        hostile = (
            f'<html><head><meta http-equiv="refresh" content="0;url={base}/refresh"><base href="{base}/">'
            f'<link rel="stylesheet" href="{base}/style.css"><link rel="dns-prefetch" href="{base}">'
            f"<script>window.top.pwned = 1; fetch('{base}/script');</script>"
            f'<style>@import url("{base}/import.css"); body {{ background: url("{base}/background.png"); }}</style></head>'
            f'<body onload="fetch(\'{base}/onload\')"><a id="js" href="javascript:fetch(\'{base}/js\')">x</a>'
            f'<img src="{base}/pixel.png" onerror="fetch(\'{base}/onerror\')">'
            f'<svg onload="fetch(\'{base}/svg\')"><script>fetch("{base}/svgscript")</script></svg>'
            f'<form action="{base}/form" method="post"><input name="a" value="b"><button id="submit">go</button></form>'
            f'<iframe src="{base}/frame"></iframe><object data="{base}/object"></object><p id="visible">Visible text</p></body></html>'
        )
        subject = f'<img src="{base}/subject.png" onerror="window.pwned=1">Subject'
        send(h, subject, html=hostile)
        driver.get(h.http_url + "/")
        wait(driver, lambda d: len(rows(d)) == 1)
        assert "<img src=" in rows(driver)[0]  # shown as text
        click(driver, "#messages tbody tr")
        frame = wait(driver, lambda d: d.find_element(By.ID, "html-frame"))
        driver.switch_to.frame(frame)
        wait(driver, lambda d: d.find_element(By.ID, "visible"))
        for element in ("js", "submit"):
            driver.find_element(By.ID, element).click()
        driver.switch_to.default_content()
        assert not listener.reached_within(0.5), listener.hits
        assert driver.execute_script("return window.pwned === undefined && window.top.pwned === undefined")
        assert driver.title == "smtp_harness inbox"
        driver.find_element(By.ID, "load-remote").click()  # the visible choice: remote images, and only those
        wait(driver, lambda d: "/pixel.png" in listener.hits)
        listener.hit.clear()
        listener.reached_within(0.5)  # the background image may follow; nothing else may
        assert set(listener.hits) <= {"/pixel.png", "/background.png"}, listener.hits


def test_http_auth_required_and_given(driver):
    with Harness(http_auth=("viewer", "pa55")) as h:
        send(h, "Behind auth")
        driver.get(h.http_url + "/")
        assert driver.title != "smtp_harness inbox" and "Behind auth" not in driver.page_source  # refused: nothing shown
        token = base64.b64encode(b"viewer:pa55").decode()
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}})
        driver.get(h.http_url + "/")
        wait(driver, lambda d: any("Behind auth" in r for r in rows(d)))


def test_other_origins_and_foreign_hosts_get_nothing():
    with Harness() as h:
        attack = (
            "<script>"
            "Promise.allSettled(["
            f"fetch('http://127.0.0.1:{h.http_port}/api/faults', {{method: 'POST', mode: 'no-cors', body: '{{\"spec\": \"mail=550\"}}',"
            " headers: {'Content-Type': 'text/plain'}}),"
            f"fetch('http://127.0.0.1:{h.http_port}/api/faults', {{method: 'POST', body: '{{\"spec\": \"mail=551\"}}',"
            " headers: {'Content-Type': 'application/json', 'X-Harness-Request': '1'}}),"
            # the read comes after both writes have settled: when the title changes, the server has answered them
            f"]).then(() => fetch('http://127.0.0.1:{h.http_port}/api/messages')).then(r => r.text()).then(t => document.title = t)"
            ".catch(() => document.title = 'blocked');"
            "</script>"
        ).encode()
        with Listener(attack) as evil:
            for driver in chrome("--host-resolver-rules=MAP rebound.test 127.0.0.1"):
                driver.get(f"http://127.0.0.1:{evil.port}/")
                wait(driver, lambda d: d.title == "blocked")
                assert h.faults == []
                driver.get(f"http://rebound.test:{h.http_port}/api/messages")  # DNS rebinding: a foreign Host
                assert "unknown Host" in driver.page_source


def test_faults_panel_lists_adds_and_removes(driver):
    from selenium.webdriver.common.by import By

    with Harness(faults=["rcpt=550 5.1.1 No such user,rcpt=^bounce@"]) as h:
        driver.get(h.http_url + "/")
        wait(driver, lambda d: "rcpt: 550 5.1.1 No such user" in d.find_element(By.ID, "faults").text)
        driver.find_element(By.ID, "fault-spec").send_keys("mail=451 4.3.2 Try again,nth=2")
        click(driver, "#fault-form button")
        wait(driver, lambda d: "mail: 451 4.3.2 Try again" in d.find_element(By.ID, "faults").text)
        assert [f.stage for f in h.faults] == ["rcpt", "mail"]
        driver.find_element(By.ID, "fault-spec").send_keys("rcpt=999")
        click(driver, "#fault-form button")
        wait(driver, lambda d: d.find_element(By.ID, "fault-error").text != "")
        click(driver, "#faults li button")
        wait(driver, lambda d: "rcpt: 550" not in d.find_element(By.ID, "faults").text)
        assert [f.stage for f in h.faults] == ["mail"]

"""`flows run --html` and `check --html`: one self-contained file, failures first, hostile mail inert in a real browser."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import CONFIGS, cli

from notifycfg.notify.flows import Captured, Flow, FlowResult, FlowsResult
from notifycfg.report import html as html_report
from smtp_harness.sanitize import inert_html


def test_report_is_self_contained_with_failures_first(tmp_path):
    env = tmp_path / "prod"
    shutil.copytree(CONFIGS / "prod", env)
    (env / "flows" / "wrong.yaml").write_text(
        "org: acme\nevent: license_expired\nparams: {license_name: X}\nexpect: {messages: 1, to: [someone-else@example.com]}\n"
    )
    report = tmp_path / "report.html"
    done = cli("flows", "run", str(env), "--html", str(report))
    assert done.returncode == 1
    text = report.read_text()
    assert text.index("FAIL</span> wrong") < text.index("PASS</span>")  # failures first
    assert "10 passed" not in text and "9 passed, 1 failed" in text
    assert "expected recipients [&#x27;someone-else@example.com&#x27;], got [&#x27;licensing@example.com&#x27;]" in text
    assert "<script" not in text and not re.search(r"(src|href)=\"https?:", text)  # nothing loaded from outside
    assert "default-src &#x27;none&#x27;" in text and 'sandbox=""' in text
    assert cli("check", str(env), "--html", str(tmp_path / "check.html")).returncode == 1
    assert "FAIL</span> wrong" in (tmp_path / "check.html").read_text()


def _hostile_result(base: str) -> FlowResult:
    hostile = (
        f'<meta http-equiv="refresh" content="0;url={base}/refresh"><script>fetch("{base}/script")</script>'
        f'<img src="{base}/pixel.png"><p id="shown">Shown</p><a href="javascript:fetch(\'{base}/js\')">x</a>'
        f'<style>body {{ background: url("{base}/bg.png") }}</style>'
    )
    captured = Captured(
        "a@example.com",
        ("b@example.com",),
        f'<img src="{base}/subject.png">',
        "A <a@example.com>",
        True,
        "TLSv1.3",
        "svc",
        (("Subject", "s"),),
        "text",
        inert_html(hostile),
    )
    flow = Flow(
        name="hostile", file="flows/hostile.yaml", org="acme", event="license_expired", params={}, server={}, expect={"messages": 1}
    )
    return FlowResult(flow, [], 1, 0.01, "sent", [captured])


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_hostile_mail_in_the_report_stays_inert_in_chromium(tmp_path):
    from support.browser import chrome, wait
    from support.listener import Listener

    with Listener() as listener:
        base = f"http://127.0.0.1:{listener.port}"
        report = tmp_path / "report.html"
        report.write_text(html_report.flows(FlowsResult([_hostile_result(base)])))
        for driver in chrome():
            driver.get(report.as_uri())
            driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
            from selenium.webdriver.common.by import By

            frame = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "iframe"))
            driver.switch_to.frame(frame)
            wait(driver, lambda d: d.find_element(By.ID, "shown"))
            driver.switch_to.default_content()
            assert not listener.reached_within(0.5), listener.hits

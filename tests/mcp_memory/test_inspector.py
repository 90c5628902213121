"""The web inspector in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``,
driven by selenium) against ``mcp-memory serve`` over streamable HTTP on a seeded store.

Each page is loaded after signing in with an operator's token; a screenshot of each is kept under the
test's ``tmp_path`` (``screens/<page>.png``). An agent without the operator group gets 403 (in the browser
and over plain HTTP); no token gets 401.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mcp_memory.config import load_settings
from tests.mcp_memory.seeding import OPERATORS_TEAM, seed

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {agent: f"token-{agent}-{os.urandom(6).hex()}" for agent in OPERATORS_TEAM}
#: Bound on the server's start (imports, migrations) on a loaded machine.
STARTUP_SECONDS = 120


@dataclass
class Served:
    base: str
    ids: dict[str, str]
    screens: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int) -> Path:
    """A TOML config of the operators' team, tokens by SHA-256, lexical search, served over HTTP."""
    lines = [
        'data_dir = "data"',
        "[embedder]",
        'provider = "none"',
        "[server]",
        'transport = "streamable-http"',
        'host = "127.0.0.1"',
        f"port = {port}",
    ]
    for agent, policy in OPERATORS_TEAM.items():
        lines.append(f"[agents.{agent}]")
        lines.append(f'token_sha256 = "{hashlib.sha256(TOKENS[agent].encode()).hexdigest()}"')
        lines += [f"{key} = {json.dumps(value)}" for key, value in policy.items()]
    path = folder / "mcp-memory.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def seed_store(config: Path) -> dict[str, str]:
    """Seed the store of ``config`` in a thread of its own (a test session may already run an event loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, seed, load_settings(config)).result()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    config = write_config(tmp_path, port)
    ids = seed_store(config)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "mcp_memory", "serve", "--config", str(config)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                if httpx.get(f"{base}/health", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"no /health within {STARTUP_SECONDS} s"
            time.sleep(0.1)
        screens = tmp_path / "screens"
        screens.mkdir()
        yield Served(base, ids, screens)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        message = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return browser, driver


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver: Any, base: str, agent: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    driver.get(f"{base}/inspect/")
    assert "Sign in" in driver.find_element(By.TAG_NAME, "h1").text
    driver.find_element(By.ID, "token").send_keys(TOKENS[agent])
    form = driver.find_element(By.TAG_NAME, "form")
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(form))  # the next page loaded


def test_every_page_renders_the_seeded_store_for_an_operator(served: Served, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, served.base, "lead")
    assert browser.find_element(By.ID, "me").text == "lead"
    ids = served.ids
    ns = "shared-customer-context"
    pages = {
        "overview": (
            "/inspect/",
            "Overview",
            ["Order 1182: charged twice", "Customer asks for a goodwill voucher"],
        ),
        "rooms": ("/inspect/rooms", "Rooms", ["Order 1182: charged twice"]),
        "room": (
            f"/inspect/rooms/{ids['room_id']}",
            "Room Order 1182",
            ["I was charged twice", "refunding one", "Refund order 1182"],
        ),
        "memories": ("/inspect/memories", "Memories", ["captured twice by the payment provider"]),
        "search": (
            "/inspect/memories?q=double+captures+refund",
            "Memories",
            ["results for", "Refund double captures"],
        ),
        "memory": (
            f"/inspect/memories/{ids['memory_id']}",
            "Memory",
            ["one capture refunded", "observation"],
        ),
        "facts": (f"/inspect/facts?namespace={ns}", "Facts", ["refund-limit", "100"]),
        "fact": (f"/inspect/facts/history?namespace={ns}&key=refund-limit", "Fact", ["billing"]),
        "tasks": ("/inspect/tasks", "Tasks", ["Refund order 1182", "Check the payment provider"]),
        "escalations": ("/inspect/escalations", "Escalations", ["goodwill voucher"]),
        "escalation": (
            f"/inspect/escalations/{ids['escalation_id']}",
            "Escalation",
            ["Handoff package", "I was charged twice", "one capture refunded"],
        ),
        "graph": (
            f"/inspect/graph?entity=alice&namespace={ns}&depth=2",
            "Graph",
            ["order-1182", "visa-4242", "paid_with"],
        ),
        "audit": ("/inspect/audit", "Audit log", ["create_room", "escalate", "triage"]),
    }
    for name, (path, title, expected) in pages.items():
        browser.get(served.base + path)
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading.startswith(title), (name, heading)
        text = browser.find_element(By.TAG_NAME, "main").text
        for snippet in expected:
            assert snippet in text, (name, snippet)
        shot = served.screens / f"{name}.png"
        assert browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 5_000  # a rendered page, not an empty canvas

    browser.get(f"{served.base}/inspect/facts/history?namespace={ns}&key=refund-limit")
    versions = [row.text.split()[0] for row in browser.find_elements(By.CSS_SELECTOR, "table.history tr")[1:]]
    assert versions == ["2", "1"]
    browser.get(f"{served.base}/inspect/memories?q=double+captures+refund")
    first = browser.find_elements(By.CSS_SELECTOR, "table.results tr")[1].text
    assert first.startswith("1 memory")  # scores are shown as ranks


def test_an_agent_without_the_operator_group_gets_403(served: Served, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, served.base, "triage")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Forbidden"
    assert "is not an operator" in browser.find_element(By.ID, "message").text
    browser.save_screenshot(str(served.screens / "forbidden.png"))
    for path in ("/inspect/", "/inspect/rooms", "/inspect/audit", "/metrics"):
        as_triage = httpx.get(served.base + path, headers={"Authorization": f"Bearer {TOKENS['triage']}"})
        assert as_triage.status_code == 403, path
        anonymous = httpx.get(served.base + path)
        assert anonymous.status_code == 401, path
        wrong = httpx.get(served.base + path, headers={"Authorization": "Bearer not-a-token"})
        assert wrong.status_code == 401, path
    as_lead = httpx.get(f"{served.base}/inspect/rooms", headers={"Authorization": f"Bearer {TOKENS['lead']}"})
    assert as_lead.status_code == 200
    assert "Order 1182" in as_lead.text
    scrape = httpx.get(f"{served.base}/metrics", headers={"Authorization": f"Bearer {TOKENS['lead']}"})
    assert scrape.status_code == 200
    names = {family.name for family in text_string_to_metric_families(scrape.text)}
    assert {
        "mcp_memory_tool_calls",
        "mcp_memory_tool_call_duration_seconds",
        "mcp_memory_open_subscriptions",
    } <= names


def test_inspect_command_serves_a_local_data_dir_without_a_token(tmp_path: Path) -> None:
    port = _free_port()
    config = write_config(tmp_path, _free_port())
    ids = seed_store(config)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    refused = subprocess.run(
        [sys.executable, "-m", "mcp_memory", "inspect", "--config", str(config), "--agent", "triage"],
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert refused.returncode == 2
    assert "is not an operator" in refused.stderr
    cmd = [sys.executable, "-m", "mcp_memory", "inspect", "--config", str(config), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/inspect/rooms/{ids['room_id']}", timeout=2.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "inspect did not answer"
                time.sleep(0.1)
        assert page.status_code == 200
        assert "I was charged twice" in page.text
        assert "local-operator" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.stderr is not None
    assert f"http://127.0.0.1:{port}/inspect/" in proc.stderr.read()

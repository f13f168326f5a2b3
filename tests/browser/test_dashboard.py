"""The dashboard in a real headless browser, against the real server and a real release."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.sharing import PASSWORD, City, Seeded

WAIT_S = 60  # an upper bound for pages to settle, not a performance assertion


def gone(element: WebElement) -> Callable[[webdriver.Chrome], bool]:
    """Wait condition: ``element`` left the document (the page navigated). While Chrome swaps the
    document, asking about the old node can fail with an inspector error ("Node with given id does
    not belong to the document") rather than a stale-element one; both mean it is gone."""

    def check(_browser: webdriver.Chrome) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:
            return True
        return False

    return check


def log_in(
    browser: webdriver.Chrome, base_url: str, email: str, password: str, *, drop_csrf: bool = False
) -> None:
    browser.get(f"{base_url}/dashboard/login")
    if drop_csrf:
        browser.execute_script("document.querySelector('input[name=_csrf]').remove()")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    button = browser.find_element(By.ID, "login")
    button.click()
    WebDriverWait(browser, WAIT_S).until(gone(button))


def ready(browser: webdriver.Chrome) -> None:
    WebDriverWait(browser, WAIT_S).until(
        lambda b: b.execute_script("return document.body && document.body.dataset.ready") == "true"
    )


def chart_points(browser: webdriver.Chrome, canvas_id: str) -> int:
    n = browser.execute_script(
        "const c = Chart.getChart(document.getElementById(arguments[0]));"
        "return c ? c.data.datasets[0].data.length : -1;",
        canvas_id,
    )
    assert isinstance(n, int)
    return n


def test_overview_renders_charts_from_the_release(
    browser: webdriver.Chrome, base_url: str, seeded: Seeded
) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    ready(browser)
    assert chart_points(browser, "mode-trips") >= 1
    assert chart_points(browser, "co2-trend") >= 1
    assert "epsilon 1" in browser.find_element(By.ID, "privacy").text
    # The header says what the account reads: a national account, every campaign.
    assert browser.find_element(By.CSS_SELECTOR, "header .scope").text == "every campaign"


def test_a_citys_team_sees_its_own_campaigns_release_only(
    browser: webdriver.Chrome, base_url: str, seeded: Seeded, city: City
) -> None:
    log_in(browser, base_url, city.analyst, PASSWORD)
    ready(browser)
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#release option")]
    assert options == [f"2023-11-06 – 2023-11-12 · {city.name}"]  # not the pooled release of seeded
    assert city.name in browser.find_element(By.ID, "release-info").text
    assert chart_points(browser, "co2-trend") == 1
    # On every page, the header says the account reads this campaign only.
    assert browser.find_element(By.CSS_SELECTOR, "header .scope").text == f"campaign {city.name}"


def test_flow_map_draws_vector_flows_without_tiles(
    browser: webdriver.Chrome, base_url: str, seeded: Seeded
) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    browser.get(f"{base_url}/dashboard/map")
    ready(browser)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#flow-map path.leaflet-interactive")) >= 2
    assert browser.find_elements(By.CSS_SELECTOR, "#flow-map img.leaflet-tile") == []
    assert len(browser.find_elements(By.CSS_SELECTOR, "#flow-table tbody tr")) >= 1


def test_flow_tooltips_are_text_never_html(browser: webdriver.Chrome, base_url: str, seeded: Seeded) -> None:
    # Zone ids come from the operator's zones file: a tooltip given as a string is read as HTML.
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    browser.get(f"{base_url}/dashboard/map")
    ready(browser)
    contents = browser.execute_script(
        "const out = [];"
        "layers.eachLayer((group) => group.eachLayer((l) => {"
        "  const t = l.getTooltip(); if (t) out.push(t.getContent() instanceof Node); }));"
        "return out;"
    )
    assert contents
    assert all(contents)
    box = browser.execute_script(
        "const b = flowTooltip({origin: '<img src=x>', destination: 'b&amp;', trips: 3});"
        "return [b.textContent, b.children.length];"
    )
    assert box == ["<img src=x> → b&amp;: 3 trips", 0]


def test_time_profiles_render(browser: webdriver.Chrome, base_url: str, seeded: Seeded) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    browser.get(f"{base_url}/dashboard/time")
    ready(browser)
    assert chart_points(browser, "by-hour") >= 1
    assert chart_points(browser, "by-weekday") >= 1


def test_csv_download(browser: webdriver.Chrome, base_url: str, seeded: Seeded, downloads: Path) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    ready(browser)
    browser.find_element(By.CSS_SELECTOR, "a.download-csv[href$='/mode_trips.csv']").click()
    WebDriverWait(browser, WAIT_S).until(lambda _: list(downloads.glob("sillage-mode_trips-week-*.csv")))
    (saved,) = downloads.glob("sillage-mode_trips-week-*.csv")
    assert saved.read_text().startswith("period_start,period_end,epsilon,k,campaign,mode,trips")


def test_wrong_password_is_refused(browser: webdriver.Chrome, base_url: str, seeded: Seeded) -> None:
    log_in(browser, base_url, seeded.analyst_email, "not my password at all")
    assert "Wrong e-mail address or password" in browser.find_element(By.ID, "login-error").text
    assert browser.get_cookie("sillage_team") is None


def test_login_without_csrf_token_is_refused(
    browser: webdriver.Chrome, base_url: str, seeded: Seeded
) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password, drop_csrf=True)
    assert "CSRF" in browser.find_element(By.TAG_NAME, "body").text
    assert browser.get_cookie("sillage_team") is None


def test_analyst_cannot_open_the_admin_page(browser: webdriver.Chrome, base_url: str, seeded: Seeded) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    ready(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "a[href='/dashboard/campaigns']") == []
    browser.get(f"{base_url}/dashboard/campaigns")
    assert "for admins" in browser.find_element(By.TAG_NAME, "body").text


def test_admin_opens_the_campaign_page(browser: webdriver.Chrome, base_url: str, seeded: Seeded) -> None:
    log_in(browser, base_url, seeded.admin_email, seeded.password)
    ready(browser)
    link = browser.find_element(By.CSS_SELECTOR, "a[href='/dashboard/campaigns']")
    link.click()
    WebDriverWait(browser, WAIT_S).until(gone(link))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#campaigns tbody tr")) >= 1


def test_corridor_map_draws_carpool_corridors_without_tiles(
    browser: webdriver.Chrome, base_url: str, seeded: Seeded
) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    browser.get(f"{base_url}/dashboard/corridors")
    ready(browser)
    lines = browser.find_elements(By.CSS_SELECTOR, "#corridor-map path.leaflet-interactive")
    assert len(lines) >= 2  # zones and at least one corridor
    assert browser.find_elements(By.CSS_SELECTOR, "#corridor-map img.leaflet-tile") == []
    assert len(browser.find_elements(By.CSS_SELECTOR, "#corridor-table tbody tr")) >= 2


def test_corridor_tooltip_shows_time_band_and_co2(
    browser: webdriver.Chrome, base_url: str, seeded: Seeded
) -> None:
    log_in(browser, base_url, seeded.analyst_email, seeded.password)
    browser.get(f"{base_url}/dashboard/corridors")
    ready(browser)

    # The corridors are the thick lines drawn last; hovering one opens its tooltip. Leaflet may
    # still be redrawing its SVG when the page reports ready (a busy machine), which replaces the
    # path under the pointer: find it again and retry until the tooltip shows.
    def hovered(b: webdriver.Chrome) -> WebElement | bool:
        try:
            line = b.find_elements(By.CSS_SELECTOR, "#corridor-map path.leaflet-interactive")[-1]
            ActionChains(b).move_to_element(line).perform()
            found = b.find_elements(By.CSS_SELECTOR, ".corridor-tooltip")
        except WebDriverException:
            return False
        return found[0] if found else False

    tooltip = WebDriverWait(browser, WAIT_S, poll_frequency=0.25).until(hovered)
    assert isinstance(tooltip, WebElement)
    assert "potential matches" in tooltip.text
    assert "kg CO2 a year" in tooltip.text
    assert re.search(r"\d\d:\d\d–\d\d:\d\d", tooltip.text)

#!/usr/bin/env python3
"""Real-browser tests of GmailCapture's web UI (headless Chromium through a recording loopback-only proxy).

    python3 Scripts/browser/browser_tests.py --binary .build/debug/gmail-capture --workdir "$(mktemp -d)" \
        --screenshots /tmp/browser-shots
    python3 Scripts/browser/browser_tests.py --self-test --screenshots /tmp/browser-shots

The real run starts `gmail-capture serve --fake` on a fresh database with the hostile messages of
Fixtures/web delivered into alex@firm.example, waits for capture to finish, then drives Chromium through
sign-in, the investors table, an investor page, a thread, search, the hostile threads, a sharing change
seen by a second teammate, and sign-out. Every request Chromium makes goes through loopback_proxy.py
(`--proxy-bypass-list=<-loopback>`), which forwards loopback only and records everything, so the tests
can say exactly which hosts the browser asked for.

`--self-test` needs no gmail-capture: it serves the fixtures' HTML parts raw (no sandbox, no CSP) from a
tiny loopback server, top-level and in an un-sandboxed iframe, and checks that every detector fires; then
it serves a correctly sandboxed control page and checks that none does.

One line per check (`PASS name: ...` / `FAIL name: ...`, indented detail lines below), a closing
`N passed, N failed` line, exit status 1 on any failure. On failure a screenshot and the page source of
every open browser go to the screenshots folder as FAIL-<check>-<n>.png/.html.
Standard library + selenium only; Chromium and chromedriver from Debian (`chromium`, `chromium-driver`).
"""

from __future__ import annotations

import argparse
import dataclasses
import email
import email.policy
import html
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    TimeoutException,
    UnexpectedAlertPresentException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_proxy import LoopbackProxy, loopback_address  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
DEFAULT_FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fixtures", "web"))
ALEX, KIM = "alex@firm.example", "kim@firm.example"
SESSION_COOKIE = "gc_session"
ALLOWED_SANDBOX = {"allow-popups", "allow-popups-to-escape-sandbox"}
SEARCH_TERM = "allocation"  # DemoFirm subject "Follow-on allocation"
LUMENRIDGE = "inv-lumenridge-0"  # Maya at Lumenridge, the hostile fixtures' sender
SETTLE_SECONDS = 2.0

# Runs at the start of every document; in the top window only. It notes the title at DOMContentLoaded
# and at load, and from the load event on counts every mutation of the top document (an observer on the
# top document cannot see inside iframes), so anything a message body does to the page after load shows.
# (Installed through CDP rather than execute_script after navigation, so it is in place before any
# script of the page or of a frame runs; it only starts counting at the load event.)
INIT_SCRIPT = r"""
(function () {
  if (window !== window.top) return;
  var gc = { titleAtDCL: null, titleAtLoad: null, loaded: false, count: 0, samples: [] };
  Object.defineProperty(window, '__gc', { value: gc, configurable: false, enumerable: false, writable: false });
  document.addEventListener('DOMContentLoaded', function () { gc.titleAtDCL = document.title; });
  window.addEventListener('load', function () {
    gc.loaded = true;
    gc.titleAtLoad = document.title;
    new MutationObserver(function (list) {
      list.forEach(function (m) {
        // chromedriver marks an iframe it switches into with a cd_frame_id_ attribute: the harness's own.
        if (m.type === 'attributes' && /^cd_frame_id/.test(m.attributeName || '')) return;
        gc.count += 1;
        if (gc.samples.length < 10) {
          var t = m.target, name = t && t.nodeName ? t.nodeName : '?';
          if (t && t.id) name += '#' + t.id;
          gc.samples.push(m.type + ' ' + name + (m.attributeName ? ' @' + m.attributeName : ''));
        }
      });
    }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
})();
"""

STATE_SCRIPT = r"""
var gc = window.__gc || null;
return {
  href: location.href,
  title: document.title,
  pwned: (typeof window.__pwned === 'undefined') ? null : String(window.__pwned),
  gc: gc ? { titleAtDCL: gc.titleAtDCL, titleAtLoad: gc.titleAtLoad, loaded: gc.loaded, count: gc.count,
             samples: gc.samples.slice(0) } : null
};
"""

# Markup in the top document that no page of the UI has and mail could bring: script elements, inline
# event handlers, frames other than the body iframe, plugins, <base>, <meta http-equiv>, forms posting
# to another origin, javascript:/data:/vbscript: links. (The pages' CSP would stop most of it running;
# this finds it even so: escaping is the first defence.)
MARKUP_SCRIPT = r"""
var out = [];
var sel = 'script, [onerror], [onload], [onclick], [onmouseover], [onfocus], [onanimationstart], [onbegin], ' +
          'iframe:not(.mail-body), frame, object, embed, applet, base, meta[http-equiv]';
document.querySelectorAll(sel).forEach(function (e) { out.push(e.outerHTML.slice(0, 120)); });
Array.prototype.forEach.call(document.forms, function (f) {
  try { if (new URL(f.getAttribute('action') || '', location.href).origin !== location.origin) out.push('form action=' + f.getAttribute('action')); } catch (e) {}
});
document.querySelectorAll('a[href], area[href]').forEach(function (a) {
  var p = (typeof a.protocol === 'string' ? a.protocol : '').toLowerCase();
  if (p === 'javascript:' || p === 'data:' || p === 'vbscript:') out.push('link href=' + a.getAttribute('href').slice(0, 80));
});
return out.slice(0, 12);
"""

# --------------------------------------------------------------------------------------------------
# Fixtures


@dataclasses.dataclass
class Fixture:
    name: str
    path: str
    subject: str
    html: str
    text: str
    images: dict  # Content-ID (no brackets) -> bytes
    hosts: set

    @property
    def stem(self) -> str:
        return os.path.splitext(self.name)[0]


HOST_RE = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*:)?//([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)")


def hosts_named(text: str) -> set:
    hosts = set()
    for variant in (text, html.unescape(text), urllib.parse.unquote(text)):
        for m in HOST_RE.finditer(variant):
            h = m.group(1).lower().rstrip(".")
            if loopback_address(h) is None:
                hosts.add(h)
    return hosts


def load_fixtures(folder: str) -> list:
    fixtures = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".eml"):
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        html_part = text_part = None
        images = {}
        for part in msg.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            if ctype == "text/html" and html_part is None:
                html_part = part.get_content()
            elif ctype == "text/plain" and text_part is None:
                text_part = part.get_content()
            elif part.get("Content-ID"):
                images[part["Content-ID"].strip().strip("<>")] = part.get_payload(decode=True)
        subject = " ".join(str(msg["subject"] or "").split())
        body_html = (html_part or "").replace("\r\n", "\n")
        body_text = (text_part or "").replace("\r\n", "\n")
        hosts = hosts_named(body_html) | hosts_named(body_text)
        sender = str(msg["from"] or "")
        if "@" in sender:
            hosts.add(sender.rsplit("@", 1)[1].strip(" >").lower())
        fixtures.append(Fixture(name, path, subject, body_html, body_text, images, hosts))
    if not fixtures:
        raise SystemExit(f"no .eml fixtures in {folder}")
    return fixtures


def png_size(data: bytes) -> tuple:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def host_matches(host: str | None, names: set) -> bool:
    if not host:
        return False
    h = host.lower().strip("[]").rstrip(".")
    return any(h == n or h.endswith("." + n) for n in names)


# --------------------------------------------------------------------------------------------------
# Output


class CheckFailed(Exception):
    pass


def require(condition, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def line(self, ok: bool, name: str, detail: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    @staticmethod
    def note(text: str) -> None:
        print(f"    {text}", flush=True)

    def close(self) -> int:
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


# --------------------------------------------------------------------------------------------------
# Browser


def make_driver(proxy_port: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--metrics-recording-only",
        "--disable-domain-reliability",
        "--window-size=1280,900",
    ]:
        options.add_argument(arg)
    # Leave alerts open: the tests look for them themselves (switch_to.alert).
    options.unhandled_prompt_behavior = "ignore"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INIT_SCRIPT})
    return driver


def drain_alerts(driver, settle: float = 0.4, limit: int = 30) -> list:
    """Accepts every open alert/confirm/prompt (waiting `settle` s for a next one); returns their texts."""
    texts = []
    quiet_since = None
    while len(texts) < limit:
        try:
            alert = driver.switch_to.alert
            try:
                texts.append(alert.text or "(empty alert)")
            except WebDriverException:
                texts.append("(alert)")
            alert.accept()
            quiet_since = None
        except NoAlertPresentException:
            now = time.time()
            if quiet_since is None:
                quiet_since = now
            if now - quiet_since >= settle:
                break
            time.sleep(0.05)
        except WebDriverException:
            break
    return texts


def with_alerts(driver, alerts: list, fn, retries: int = 6):
    """Runs fn(); an alert in the way is recorded, accepted, and fn tried again."""
    for _ in range(retries):
        try:
            return fn()
        except UnexpectedAlertPresentException as e:
            alerts.append(getattr(e, "alert_text", None) or "(alert)")
            alerts.extend(drain_alerts(driver, settle=0.1))
    return fn()


def page_state(driver, alerts: list) -> dict:
    try:
        return with_alerts(driver, alerts, lambda: driver.execute_script(STATE_SCRIPT))
    except WebDriverException as e:  # e.g. Chromium's own error page after a refused navigation
        try:
            href = driver.current_url
        except WebDriverException:
            href = "(unknown)"
        return {"href": href, "title": None, "pwned": None, "gc": None, "error": str(e).splitlines()[0] if str(e) else type(e).__name__}


def markup_in_page(driver, alerts: list | None = None) -> list:
    """MARKUP_SCRIPT's findings in the top document (see there)."""
    try:
        return with_alerts(driver, alerts if alerts is not None else [], lambda: driver.execute_script(MARKUP_SCRIPT)) or []
    except WebDriverException as e:
        return [f"(could not look: {type(e).__name__})"]


def strip_fragment(url: str) -> str:
    return urllib.parse.urldefrag(url)[0]


def css(driver_or_el, selector: str):
    return driver_or_el.find_elements(By.CSS_SELECTOR, selector)


def one(driver_or_el, selector: str, what: str | None = None):
    found = css(driver_or_el, selector)
    require(found, f"no {what or selector}")
    return found[0]


def wait_replaced(driver, old_html, timeout: float = 20) -> None:
    """Waits until `old_html` has left the document. Chromium sometimes answers a query about a node of a
    page that is being replaced with "Node with given id does not belong to the document" instead of a
    stale-element error; that means the same thing."""

    def gone(_driver) -> bool:
        try:
            old_html.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, timeout).until(gone)


def submit_form(driver, form) -> None:
    """Submits `form` with its submit button (else form.submit()) and waits for the next page."""
    old = driver.find_element(By.TAG_NAME, "html")
    buttons = css(form, 'button[type="submit"], button:not([type]), input[type="submit"]')
    if buttons:
        buttons[0].click()
    else:
        driver.execute_script("HTMLFormElement.prototype.submit.call(arguments[0])", form)
    wait_replaced(driver, old)


def click_and_wait(driver, element) -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait_replaced(driver, old)


def current_path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


# --------------------------------------------------------------------------------------------------
# HTTP without any proxy (the harness's own calls never go through the browser's proxy)

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER_NO_REDIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def http_request(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None, follow: bool = True):
    """-> (status, headers (lower-case keys), body bytes); never raises for an HTTP status."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = _OPENER if follow else _OPENER_NO_REDIRECT
    try:
        with opener.open(request, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in (e.headers or {}).items()}, e.read() if e.fp else b""


# --------------------------------------------------------------------------------------------------
# The hostile-content detectors (shared by the real run and --self-test)


@dataclasses.dataclass
class Observation:
    url: str
    alerts: list
    states: list  # page_state() snapshots: after load, after the settle wait, after probes
    hits: list  # proxy records for fixture hosts
    outside: list  # every non-loopback proxy record in the window
    body: dict  # detector -> [problems] from inspect_bodies
    links: list  # absolute hrefs of links found in bodies
    markup: list  # markup_in_page() after the settle wait

    def problems(self) -> dict:
        found: dict = {}

        def add(kind: str, text: str) -> None:
            found.setdefault(kind, []).append(text)

        for a in self.alerts:
            add("alert", f"alert open: {a!r}")
        first = self.states[0] if self.states else None
        for s in self.states:
            if s is None:
                continue
            titles = [s.get("title")] + ([s["gc"].get("titleAtDCL"), s["gc"].get("titleAtLoad")] if s.get("gc") else [])
            if any((t or "").strip().lower() == "pwned" for t in titles):
                add("title", f"document.title is {s.get('title')!r}")
            base = (first.get("gc") or {}).get("titleAtDCL") if first else None
            if base is None and first:
                base = first.get("title")
            if base is not None and s.get("title") != base:
                add("title", f"document.title changed from {base!r} to {s.get('title')!r}")
            if s.get("pwned") is not None:
                add("pwned", f"window.__pwned is {s['pwned']!r} in the top window")
            if strip_fragment(s.get("href") or "") != strip_fragment(self.url):
                add("location", f"top location is {s.get('href')!r}, not {self.url!r}")
            gc = s.get("gc")
            if gc is None:
                add("mutation", "the mutation observer is gone (the top document was replaced)")
            elif gc.get("count"):
                add("mutation", f"{gc['count']} mutation(s) of the top document after load: {gc.get('samples')}")
        for m in self.markup:
            add("markup", f"the top document holds markup mail could bring: {m}")
        for r in self.hits:
            add("proxy", f"browser asked for a fixture host: {r['method']} {r['url']} ({r['action']} {r['status']})")
        for kind, items in self.body.items():
            for item in items:
                add(kind, item)
        # The same title/location complaint repeats per snapshot; keep each once.
        return {k: list(dict.fromkeys(v)) for k, v in found.items()}


def fixture_hits(records: list, hosts: set) -> list:
    return [r for r in records if host_matches(r.get("host"), hosts)]


def outside_records(records: list) -> list:
    return [r for r in records if loopback_address(r.get("host")) is None]


def probe_frame(driver, alerts: list) -> None:
    """Hover every element with an onmouseover and click every form's submit button (inside a frame)."""
    for el in with_alerts(driver, alerts, lambda: css(driver, "[onmouseover]")):
        try:
            with_alerts(driver, alerts, lambda: ActionChains(driver).move_to_element(el).perform())
        except WebDriverException:
            pass
    alerts.extend(drain_alerts(driver, settle=0.3))
    buttons = with_alerts(
        driver, alerts, lambda: css(driver, 'form button[type="submit"], form button:not([type]), form input[type="submit"]')
    )
    for b in buttons[:1]:  # one submission: a successful one navigates the frame away
        try:
            with_alerts(driver, alerts, lambda: b.click())
        except WebDriverException:
            pass
    time.sleep(0.5)
    alerts.extend(drain_alerts(driver, settle=0.3))


def inspect_bodies(driver, proxy: LoopbackProxy, since: float, origin: str, page_url: str, fixture: Fixture | None,
                   cookie: str | None, alerts: list, probes: bool = True) -> tuple:
    """Checks every iframe.mail-body of the current page. -> ({detector: [problems]}, [link hrefs])."""
    problems: dict = {}
    links: list = []

    def add(kind: str, text: str) -> None:
        problems.setdefault(kind, []).append(text)

    frames = with_alerts(driver, alerts, lambda: css(driver, "iframe.mail-body"))
    if not frames:
        add("frame", "no iframe.mail-body on the page (the HTML body is not framed)")
        return problems, links
    for index, frame in enumerate(frames):
        try:
            inspect_frame(driver, proxy, since, origin, page_url, fixture, cookie, alerts, probes, index, frame, add, links)
        except WebDriverException as e:
            add("frame", f"could not inspect iframe {index}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    return problems, links


def inspect_frame(driver, proxy, since, origin, page_url, fixture, cookie, alerts, probes, index, frame, add, links) -> None:
    """One body iframe: sandbox, src, the body's CSP and status, links, the inline image, then the probes."""
    sandbox = frame.get_dom_attribute("sandbox")
    if sandbox is None:
        add("sandbox", f"iframe {index} has no sandbox attribute")
    else:
        extra = set(sandbox.split()) - ALLOWED_SANDBOX
        if extra:
            add("sandbox", f"iframe {index} sandbox allows {sorted(extra)}")
    if frame.get_dom_attribute("srcdoc") is not None:
        add("frame-src", f"iframe {index} uses srcdoc")
    raw_src = frame.get_dom_attribute("src") or ""
    body_url = urllib.parse.urljoin(page_url, raw_src)
    parts = urllib.parse.urlsplit(body_url)
    if f"{parts.scheme}://{parts.netloc}" != origin or not re.fullmatch(r"/messages/[^/]+/body", parts.path):
        add("frame-src", f"iframe {index} src is {raw_src!r}, not /messages/{{n}}/body on {origin}")
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}
    status, response_headers, _ = http_request(body_url, headers=headers)
    csp = response_headers.get("content-security-policy")
    if status != 200:
        add("csp", f"GET {body_url} (with the session cookie) answered {status}")
    if not (csp or "").strip().startswith("default-src 'none'"):
        add("csp", f"{body_url} has Content-Security-Policy {csp!r}, not starting default-src 'none'")
    seen = [r for r in proxy.records(since) if strip_fragment(r["url"]) == strip_fragment(body_url)]
    if not any(r["action"] == "forwarded" and r["status"] == 200 for r in seen):
        add("body-request", f"the browser's request for {body_url} was not forwarded with 200: {seen}")
    try:
        with_alerts(driver, alerts, lambda: driver.switch_to.frame(frame))
        # Links: every href goes to the server's own warning page, in a new browsing context.
        for a in with_alerts(driver, alerts, lambda: css(driver, "a[href], area[href]")):
            href = a.get_attribute("href")
            if not isinstance(href, str) or not href:
                href = urllib.parse.urljoin(body_url, a.get_dom_attribute("href") or "")
            target = a.get_dom_attribute("target")
            links.append(href)
            if not re.match(re.escape(origin) + r"/link(?:[/?#]|$)", href):
                add("links", f"link {href!r} does not go to {origin}/link")
            if target != "_blank":
                add("links", f"link {href!r} has target {target!r}, not _blank")
        # The cid: image, rendered from the server's /inline/ URL at its intrinsic size.
        if fixture is not None and fixture.images:
            expected = [png_size(data) for data in fixture.images.values() if data[:4] == b"\x89PNG"]
            inline = []
            for img in with_alerts(driver, alerts, lambda: css(driver, "img")):
                src = img.get_attribute("src")
                if isinstance(src, str) and "/inline/" in src:
                    inline.append((img, src))
            if not inline:
                add("inline-image", "no img whose src contains /inline/ (the cid: image is not shown)")
            for img, src in inline:
                size = img.size
                got = (int(round(size["width"])), int(round(size["height"])))
                if got not in expected:
                    add("inline-image", f"inline image {src} renders at {got[0]}x{got[1]}, expected one of {expected}")
                seen = [r for r in proxy.records(since) if strip_fragment(r["url"]) == strip_fragment(src)]
                if not any(r["action"] == "forwarded" and r["status"] == 200 for r in seen):
                    add("inline-image", f"the request for {src} was not forwarded with 200: {seen}")
        if probes:
            probe_frame(driver, alerts)
    except WebDriverException as e:
        add("frame", f"could not inspect iframe {index}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    finally:
        try:
            driver.switch_to.default_content()
        except UnexpectedAlertPresentException:
            alerts.extend(drain_alerts(driver, settle=0.1))
            driver.switch_to.default_content()


def observe(driver, proxy: LoopbackProxy, url: str, hosts: set, *, origin: str | None = None, fixture: Fixture | None = None,
            cookie: str | None = None, inspect: bool = True, probe_top: bool = False, settle: float = SETTLE_SECONDS,
            min_total: float = 0.0) -> Observation:
    """Loads url and watches it: alerts, title, __pwned, top location, top-document mutations after load,
    every iframe.mail-body (inspect), and the proxy's record of what the browser asked for meanwhile.
    probe_top (self-test only) hovers and submits in the top document itself."""
    since = time.time()
    alerts: list = []
    try:
        driver.get(url)
    except UnexpectedAlertPresentException as e:
        alerts.append(getattr(e, "alert_text", None) or "(alert during load)")
    except TimeoutException:
        alerts.extend(drain_alerts(driver, settle=0.1))
    alerts.extend(drain_alerts(driver))
    states = [page_state(driver, alerts)]
    time.sleep(settle)
    alerts.extend(drain_alerts(driver, settle=0.2))
    states.append(page_state(driver, alerts))
    markup = markup_in_page(driver, alerts)
    body: dict = {}
    links: list = []
    if inspect:
        body, links = inspect_bodies(driver, proxy, since, origin or "", url, fixture, cookie, alerts)
    elif probe_top:
        try:
            probe_frame(driver, alerts)
        except WebDriverException:
            pass
    remaining = min_total - (time.time() - since)
    if remaining > 0:
        time.sleep(remaining)
    alerts.extend(drain_alerts(driver, settle=0.2))
    states.append(page_state(driver, alerts))
    time.sleep(0.3)  # let the proxy finish recording requests started just now
    records = proxy.records(since)
    return Observation(url, alerts, states, fixture_hits(records, hosts), outside_records(records), body, links, markup)


def check_link_pages(proxy_port: int, links: list, origin: str, forbidden: list, expected_destinations: set) -> list:
    """Opens each /link URL in a fresh browser (no cookies). -> problems."""
    problems = []
    wanted = [h for h in dict.fromkeys(links) if h.startswith(origin + "/link")]
    if not wanted:
        return ["no /link URL to open"]
    fresh = make_driver(proxy_port)
    destinations = set()
    try:
        for href in wanted[:12]:
            fresh.get(href)
            drained = drain_alerts(fresh, settle=0.1)
            if drained:
                problems.append(f"{href}: alert open: {drained}")
            found = css(fresh, "a#destination")
            if not found:
                problems.append(f"{href}: no a#destination (page path {current_path(fresh)})")
                continue
            dest = found[0].get_dom_attribute("href") or ""
            destinations.add(dest)
            scheme = urllib.parse.urlsplit(dest).scheme.lower()
            if scheme not in ("http", "https", "mailto"):
                problems.append(f"{href}: a#destination href {dest!r} is not http(s)/mailto")
            text = (fresh.find_element(By.TAG_NAME, "body").text or "").lower()
            source = fresh.page_source.lower()
            for word in forbidden:
                if word.lower() in text or word.lower() in source:
                    problems.append(f"{href}: the warning page shows {word!r} from the mailbox")
            if fresh.get_cookie(SESSION_COOKIE):
                problems.append(f"{href}: the cookie-less browser was given a {SESSION_COOKIE} cookie")
        for d in expected_destinations - destinations:
            problems.append(f"no /link page showed the destination {d!r} (saw {sorted(destinations)})")
    finally:
        fresh.quit()
    return problems


# --------------------------------------------------------------------------------------------------
# The real run


class Harness:
    def __init__(self, args) -> None:
        self.args = args
        self.report = Report()
        self.fixtures = load_fixtures(args.fixtures)
        self.hosts = set().union(*(f.hosts for f in self.fixtures))
        self.shots = os.path.abspath(args.screenshots)
        os.makedirs(self.shots, exist_ok=True)
        self.workdir = os.path.abspath(args.workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.proxy: LoopbackProxy | None = None
        self.server: subprocess.Popen | None = None
        self.server_lines: list = []
        self.origin = ""
        self.alex_token = ""
        self.kim_token = ""
        self.alex = None  # WebDriver signed in as alex
        self.kim = None
        self.state: dict = {}
        self.hostile_ids: dict = {}

    # -- infrastructure

    def start(self) -> None:
        self.proxy = LoopbackProxy(os.path.join(self.shots, "proxy.jsonl")).start()
        print(f"# proxy on 127.0.0.1:{self.proxy.port}, log {self.proxy.log_path}", flush=True)
        self.start_server()
        self.wait_for_capture()
        self.kim_token = self.issue_token(KIM)
        self.alex = make_driver(self.proxy.port)

    def start_server(self) -> None:
        db = os.path.join(self.workdir, "ui.db")
        cmd = [self.args.binary, "serve", "--fake", "--host", "127.0.0.1", "--port", "0", "--db", db]
        for f in self.fixtures:
            cmd += ["--fake-deliver", f"{ALEX}={os.path.abspath(f.path)}"]
        print("# " + " ".join(cmd), flush=True)
        stderr = open(os.path.join(self.workdir, "server.stderr"), "w")
        self.server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True,
                                       cwd=self.workdir, bufsize=1)
        ready = threading.Event()
        found: dict = {}

        def read() -> None:
            expect_token = False
            with open(os.path.join(self.workdir, "server.stdout"), "w") as log:
                for line in self.server.stdout:
                    log.write(line)
                    log.flush()
                    self.server_lines.append(line.rstrip("\n"))
                    m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
                    if m:
                        found["origin"] = m.group(1)
                    if expect_token:
                        m = re.match(r"\s+(gct_\S+)", line)
                        if m:
                            found["token"] = m.group(1)
                        expect_token = False
                    if re.search(r"admin token for alex@firm\.example\b.*:\s*$", line):
                        expect_token = True
                    if "origin" in found and "token" in found:
                        ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.time() + 180
        while not ready.wait(0.5):
            if self.server.poll() is not None or time.time() > deadline:
                break
        if "origin" not in found or "token" not in found:
            tail = "\n".join(self.server_lines[-15:])
            stderr.flush()
            with open(os.path.join(self.workdir, "server.stderr"), errors="replace") as f:
                err = "".join(f.readlines()[-10:])
            raise SystemExit(
                f"gmail-capture serve did not print its address and alex's token (exit status {self.server.poll()}); "
                f"stdout so far:\n{tail}\nstderr ({os.path.join(self.workdir, 'server.stderr')}):\n{err}")
        self.origin, self.alex_token = found["origin"], found["token"]
        print(f"# server {self.origin}", flush=True)

    def api(self, path: str, token: str, method: str = "GET", payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, _, data = http_request(self.origin + path, method=method, headers=headers, body=body)
        try:
            return status, json.loads(data.decode() or "null")
        except ValueError:
            return status, None

    def wait_for_capture(self, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"gmail-capture serve exited with status {self.server.returncode} while capturing")
            status, doc = self.api("/api/email/status", self.alex_token)
            last = (status, doc)
            if status == 200 and isinstance(doc, dict) and doc.get("mailboxes"):
                pending = []
                for row in doc["mailboxes"]:
                    m = row.get("mailbox", row) if isinstance(row, dict) else {}
                    run = m.get("lastRun") or {}
                    busy = (
                        m.get("state") != "idle"
                        or not m.get("lastSuccessAt")
                        or run.get("status") in (None, "running")
                        or (m.get("backlog") or 0) > 0
                        or (m.get("attachmentsPending") or 0) > 0
                    )
                    if busy:
                        pending.append(f"{m.get('email')}: state={m.get('state')} run={run.get('status')} "
                                       f"backlog={m.get('backlog')} attachmentsPending={m.get('attachmentsPending')}")
                if not pending:
                    stored = sum((r.get("mailbox", r).get("messagesStored") or 0) for r in doc["mailboxes"])
                    print(f"# capture done: {len(doc['mailboxes'])} mailboxes, {stored} messages stored", flush=True)
                    return
                last = pending
            time.sleep(1)
        raise SystemExit(f"capture did not finish within {timeout:.0f} s (GET /api/email/status); last: {last}")

    def issue_token(self, user: str) -> str:
        r = subprocess.run([self.args.binary, "users", "token", user, "--db", os.path.join(self.workdir, "ui.db")],
                           capture_output=True, text=True, cwd=self.workdir, timeout=120)
        tokens = re.findall(r"gct_\S+", r.stdout)
        if r.returncode != 0 or not tokens:
            raise SystemExit(f"users token {user} failed ({r.returncode}): {r.stdout} {r.stderr}")
        return tokens[-1]

    def stop(self) -> None:
        for d in (self.alex, self.kim):
            if d is not None:
                try:
                    d.quit()
                except WebDriverException:
                    pass
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(5)
        if self.proxy is not None:
            self.proxy.stop()

    def shot(self, driver, name: str) -> None:
        driver.save_screenshot(os.path.join(self.shots, name))

    def save_failure(self, check: str) -> None:
        for n, d in enumerate([d for d in (self.alex, self.kim) if d is not None]):
            base = os.path.join(self.shots, f"FAIL-{check}-{n}")
            try:
                drain_alerts(d, settle=0.1)
                d.save_screenshot(base + ".png")
                with open(base + ".html", "w", encoding="utf-8") as f:
                    f.write(f"<!-- {d.current_url} -->\n" + d.page_source)
            except WebDriverException as e:
                Report.note(f"(could not save {base}: {type(e).__name__})")

    def run(self, name: str, fn) -> None:
        try:
            detail = fn()
            self.report.line(True, name, detail or "ok")
        except CheckFailed as e:
            self.report.line(False, name, str(e))
            self.save_failure(name)
        except Exception as e:  # noqa: BLE001 (a broken check is a failed check)
            self.report.line(False, name, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            for line in traceback.format_exc().rstrip().splitlines()[-6:]:
                Report.note(line)
            self.save_failure(name)

    # -- helpers

    def sign_in(self, driver, token: str) -> None:
        driver.get(self.origin + "/")
        form = one(driver, 'form[action="/session"]', 'sign-in form[action="/session"]')
        field = one(form, 'input[name="token"]')
        field.clear()
        field.send_keys(token)
        submit_form(driver, form)

    def ensure_alex(self) -> None:
        if self.alex.get_cookie(SESSION_COOKIE) is None:
            self.sign_in(self.alex, self.alex_token)
        require(self.alex.get_cookie(SESSION_COOKIE), "could not sign alex in")

    def cookie(self, driver) -> str | None:
        c = driver.get_cookie(SESSION_COOKIE)
        return c["value"] if c else None

    def investor_rows(self, driver) -> list:
        rows = css(driver, "table#investors tr[data-investor-id]")
        out = []
        for r in rows:
            links = css(r, "a")
            out.append((r.get_dom_attribute("data-investor-id"), (links[0].text if links else r.text).strip()))
        return out

    # -- checks

    def check_sign_in(self) -> str:
        d = self.alex
        d.delete_all_cookies()
        d.get(self.origin + "/")
        forms = css(d, 'form[action="/session"]')
        require(forms, "signed out, / shows no form[action=\"/session\"]")
        form = forms[0]
        require((form.get_dom_attribute("method") or "").lower() == "post", "the sign-in form's method is not post")
        typed = [i for i in css(form, "input") if (i.get_dom_attribute("type") or "text").lower() in ("text", "password")]
        require(len(typed) == 1, f"the sign-in form has {len(typed)} text/password inputs, expected 1")
        require(typed[0].get_dom_attribute("name") == "token", f"its input is named {typed[0].get_dom_attribute('name')!r}, not token")
        require(not css(d, "table#investors"), "signed out, / shows table#investors")
        # A wrong token: the form again, with an error.
        self.sign_in(d, "gct_" + "A" * 43)
        require(css(d, ".error"), "a wrong token shows no .error")
        require(css(d, 'form[action="/session"] input[name="token"]'), "a wrong token does not show the form again")
        require(d.get_cookie(SESSION_COOKIE) is None, f"a wrong token was given a {SESSION_COOKIE} cookie")
        # Alex's token.
        self.sign_in(d, self.alex_token)
        require(current_path(d) == "/", f"signing in lands on {current_path(d)}, not /")
        require(css(d, "table#investors"), "after signing in, / shows no table#investors")
        rows = css(d, "table#investors tr[data-investor-id]")
        require(rows, "table#investors has no tr[data-investor-id] rows")
        c = d.get_cookie(SESSION_COOKIE)
        require(c, f"no {SESSION_COOKIE} cookie after signing in (cookies: {[x['name'] for x in d.get_cookies()]})")
        require(c.get("httpOnly") is True, f"{SESSION_COOKIE} is not HttpOnly: {c}")
        require(c.get("sameSite") == "Strict", f"{SESSION_COOKIE} SameSite is {c.get('sameSite')!r}, not Strict")
        require(c.get("value") != self.alex_token and self.alex_token not in c.get("value", ""),
                f"{SESSION_COOKIE} carries the API token itself")
        return f"form, .error on a wrong token, {len(rows)} investor rows, {SESSION_COOKIE} HttpOnly SameSite=Strict"

    def check_investors(self) -> str:
        self.ensure_alex()
        d = self.alex
        d.get(self.origin + "/")
        table = one(d, "table#investors")
        heads = " | ".join(th.text.strip().lower() for th in css(table, "th"))
        for words, what in [(("name", "investor"), "name"), (("strength", "grade"), "strength grade"),
                            (("last contact",), "last contact"), (("by",), "last contact by"), (("teammate",), "teammates")]:
            require(any(w in heads for w in words), f"no {what} column in the header ({heads!r})")
        for key in ("name", "strength", "last"):
            require(css(d, f'a[data-sort="{key}"]'), f'no header link a[data-sort="{key}"]')
        orders = {}
        compared = []
        for key in ("name", "strength", "last"):
            click_and_wait(d, one(d, f'a[data-sort="{key}"]'))
            rows = self.investor_rows(d)
            require(rows, f"sorted by {key}: no rows")
            url = d.current_url
            d.get(url)
            again = self.investor_rows(d)
            require(rows == again, f"sorted by {key}, loading {url} again gives another order")
            orders[key] = rows
            if key == "name":
                if not names_ascending([n for _, n in rows]):  # the link may toggle the current sort's direction
                    click_and_wait(d, one(d, 'a[data-sort="name"]'))
                    rows = self.investor_rows(d)
                require(names_ascending([n for _, n in rows]), f"sorted by name, the names are not ascending: {[n for _, n in rows][:8]}")
            else:
                # The row's own cells: 2nd (strength grade and number), 3rd (last contact, time[datetime]).
                values = []
                for tr in css(d, "table#investors tr[data-investor-id]"):
                    cells = css(tr, "td")
                    if key == "strength":
                        m = re.search(r"\d+(?:\.\d+)?", cells[1].text) if len(cells) > 1 else None
                        values.append(float(m.group(0)) if m else None)
                    else:
                        t = css(cells[2], "time[datetime]") if len(cells) > 2 else []
                        values.append((t[0].get_dom_attribute("datetime") or None) if t else None)
                if values and any(v is not None for v in values):
                    require(monotonic(values), f"sorted by {key}, the {key} column is not monotonic: {values[:12]}")
                    compared.append(key)
        for tab, table_id in (("cold", "cold"), ("suggested", "suggestions")):
            d.get(self.origin + "/")
            click_and_wait(d, one(d, f'a[href="/?tab={tab}"]'))
            require(css(d, f"table#{table_id}") or css(d, ".empty"), f"/?tab={tab} shows neither table#{table_id} nor .empty")
        return (f"{len(orders['name'])} rows; name/strength/last sorts deterministic, names ascending"
                f"{', ' + '/'.join(compared) + ' columns monotonic' if compared else ''}; cold and suggested tabs")

    def check_investor_page(self) -> str:
        self.ensure_alex()
        d = self.alex
        d.get(self.origin + "/")
        links = css(d, "table#investors tr[data-investor-id] a")
        require(links, "no investor link in table#investors")
        click_and_wait(d, links[0])
        path = current_path(d)
        require(re.fullmatch(r"/investors/[^/]+", path), f"the investor link leads to {path}, not /investors/{{id}}")
        for sel in ("h1", "section#figures", "table#teammates", "ol#timeline"):
            require(css(d, sel), f"{path} has no {sel}")
        items = css(d, "ol#timeline > li")
        hrefs = []
        for li in items:
            a = css(li, 'a[href^="/threads/"]')
            require(a, f"a timeline item has no a[href^=\"/threads/\"]: {li.text[:80]!r}")
            hrefs.append(a[0].get_dom_attribute("href"))
        self.state["investor_url"] = d.current_url
        self.state["timeline"] = hrefs
        self.shot(d, "investor.png")
        return f"{path}: h1 {one(d, 'h1').text.strip()!r}, {len(items)} timeline items"

    def check_keyboard(self) -> str:
        """The UI works without a mouse: from the top of `/`, Tab reaches the skip link first, then the
        first investor link; Enter opens it; Tab reaches a timeline link; Enter opens the thread."""
        from selenium.webdriver.common.keys import Keys

        self.ensure_alex()
        d = self.alex
        d.get(self.origin + "/")
        body = one(d, "body")
        body.send_keys(Keys.TAB)
        first = d.switch_to.active_element
        require((first.get_dom_attribute("href") or "") == "#main", f"the first Tab stop is {first.get_dom_attribute('href')!r}, not the skip link")

        def tab_to(predicate, what: str, limit: int = 80):
            for _ in range(limit):
                el = d.switch_to.active_element
                if predicate(el):
                    return el
                el.send_keys(Keys.TAB)
            raise AssertionError(f"{limit} Tab presses never reached {what}")

        link = tab_to(lambda el: re.fullmatch(r"/investors/[^/]+", el.get_dom_attribute("href") or "") is not None, "an investor link")
        old = d.find_element(By.TAG_NAME, "html")
        link.send_keys(Keys.ENTER)
        wait_replaced(d, old)
        require(re.fullmatch(r"/investors/[^/]+", current_path(d)), f"Enter on an investor link led to {current_path(d)}")
        one(d, "body").send_keys(Keys.TAB)
        thread = tab_to(lambda el: (el.get_dom_attribute("href") or "").startswith("/threads/"), "a timeline link", limit=200)
        old = d.find_element(By.TAG_NAME, "html")
        thread.send_keys(Keys.ENTER)
        wait_replaced(d, old)
        require(current_path(d).startswith("/threads/"), f"Enter on a timeline link led to {current_path(d)}")
        return f"skip link first; Tab and Enter reach an investor and then {current_path(d)}"

    def check_thread_page(self) -> str:
        self.ensure_alex()
        d = self.alex
        start = self.state.get("investor_url")
        candidates = [start] if start else []
        if not candidates or not self.state.get("timeline"):
            d.get(self.origin + "/")
            candidates += [a.get_attribute("href") for a in css(d, "table#investors tr[data-investor-id] a")[:8]]
        link = None
        for url in candidates:
            d.get(url)
            found = css(d, 'ol#timeline > li a[href^="/threads/"]')
            if found:
                link = found[0]
                break
        require(link is not None, "no investor page with a timeline link to follow")
        click_and_wait(d, link)
        path = current_path(d)
        require(re.fullmatch(r"/threads/\d+", path), f"the timeline link leads to {path}, not /threads/{{id}}")
        problems = check_articles(d, self.origin) + [f"markup in the page: {m}" for m in markup_in_page(d)]
        require(not problems, "; ".join(problems))
        self.shot(d, "thread.png")
        levels = [a.get_dom_attribute("data-visibility") for a in css(d, "article.message")]
        detail = f"{path}: {len(levels)} article.message ({', '.join(f'{levels.count(v)} {v}' for v in dict.fromkeys(levels))})"
        # Also look at a thread with both kinds if this one lacks one (alex's own mail is full, others' metadata).
        seen = set(levels)
        for href in (self.state.get("timeline") or [])[1:15]:
            if {"metadata", "full"} <= seen:
                break
            d.get(urllib.parse.urljoin(self.origin, href))
            more = [a.get_dom_attribute("data-visibility") for a in css(d, "article.message")]
            if set(more) - seen:
                problems = check_articles(d, self.origin)
                require(not problems, f"{current_path(d)}: " + "; ".join(problems))
                detail += f"; {current_path(d)}: {', '.join(f'{more.count(v)} {v}' for v in dict.fromkeys(more))}"
                seen |= set(more)
        return detail

    def check_search(self) -> str:
        self.ensure_alex()
        d = self.alex
        d.get(self.origin + "/search")
        form = one(d, "form#search")
        q = one(form, 'input[name="q"]')
        q.clear()
        q.send_keys(SEARCH_TERM)
        submit_form(d, form)
        parts = urllib.parse.urlsplit(d.current_url)
        require(parts.path == "/search" and urllib.parse.parse_qs(parts.query).get("q") == [SEARCH_TERM],
                f"the search form leads to {d.current_url}, not /search?q={SEARCH_TERM}")
        results = css(d, "ol#results > li")
        require(results, f"/search?q={SEARCH_TERM} shows no ol#results > li")
        for li in results:
            require(css(li, 'a[href^="/threads/"]'), f"a result has no a[href^=\"/threads/\"]: {li.text[:80]!r}")
        marks = [m.text.strip().lower() for m in css(d, "ol#results mark")]
        require(any(m.startswith(SEARCH_TERM[:7]) for m in marks), f"no <mark> around {SEARCH_TERM!r} in the results (marks: {marks[:5]})")
        markup = markup_in_page(d)
        require(not markup, f"markup in the results page: {markup}")
        self.shot(d, "search.png")
        # An unknown operator: an error on the page, not a 500.
        since = time.time()
        form = one(d, "form#search")
        q = one(form, 'input[name="q"]')
        q.clear()
        q.send_keys("bogus:x")
        submit_form(d, form)
        require(css(d, ".error"), "the query bogus:x shows no .error")
        time.sleep(0.2)
        answers = [r for r in self.proxy.records(since) if "/search" in r["url"] and r["action"] == "forwarded"]
        require(answers, "the proxy saw no /search request for bogus:x")
        require(all((r["status"] or 0) < 500 for r in answers), f"/search?q=bogus:x answered {[r['status'] for r in answers]}")
        return f"{len(results)} results for {SEARCH_TERM!r}, {len(marks)} <mark>; bogus:x -> .error, HTTP {answers[-1]['status']}"

    def hostile_threads(self) -> dict:
        """fixture name -> thread id, through the JSON API as alex."""
        if self.hostile_ids:
            return self.hostile_ids
        status, doc = self.api("/api/email/search?q=" + urllib.parse.quote("subject:hostile") + "&limit=100", self.alex_token)
        require(status == 200, f"GET /api/email/search?q=subject:hostile answered {status}: {doc}")
        results = doc.get("results") or []
        by_subject = {" ".join((r.get("subject") or "").split()): r["threadId"] for r in results}
        missing = []
        for f in self.fixtures:
            tid = by_subject.get(f.subject)
            if tid is None:
                missing.append(f.subject)
            else:
                self.hostile_ids[f.name] = tid
        require(not missing, f"hostile messages not captured or not found by subject:hostile: {missing} (found {sorted(by_subject)})")
        return self.hostile_ids

    def check_hostile(self) -> str:
        self.ensure_alex()
        d = self.alex
        ids = self.hostile_threads()
        since = time.time()
        failures = []
        links = []
        cookie = self.cookie(d)
        for f in self.fixtures:
            url = f"{self.origin}/threads/{ids[f.name]}"
            obs = observe(d, self.proxy, url, self.hosts, origin=self.origin, fixture=f, cookie=cookie)
            if f.stem.startswith("01") or f.subject.startswith("Hostile: script and handlers"):
                self.shot(d, "hostile.png")
            self.shot(d, f"hostile-{f.stem}.png")
            probs = obs.problems()
            if not css(d, 'article.message[data-visibility="full"] iframe.mail-body') and "frame" not in probs:
                probs.setdefault("frame", []).append("no full article.message with an iframe.mail-body")
            for kind, items in probs.items():
                failures += [f"{f.stem} [{kind}] {x}" for x in items]
            links += obs.links
        # The places that list the hostile subjects and text in the top document itself.
        for path in ("/", "/search?q=hostile", f"/investors/{LUMENRIDGE}", "/search?q=" + urllib.parse.quote("subject:hostile")):
            obs = observe(d, self.proxy, self.origin + path, self.hosts, inspect=False)
            for kind, items in obs.problems().items():
                failures += [f"{path} [{kind}] {x}" for x in items]
        # The warning page for links, cookie-less.
        forbidden = ["hostile", "maya", "lumenridge", ALEX, "data room", "memo:", "newsletter"]
        expected = {"https://example.org/ok"} if any("https://example.org/ok" in f.html for f in self.fixtures) else set()
        for p in check_link_pages(self.proxy.port, links, self.origin, sorted(set(forbidden)), expected):
            failures.append(f"/link [cookie-less] {p}")
        records = self.proxy.records(since)
        outside = outside_records(records)
        summarize_outside(outside, self.hosts)
        hits = fixture_hits(records, self.hosts)
        require(not failures and not hits, f"{len(failures)} problem(s):\n" + "\n".join("    " + x for x in failures[:60]))
        return f"{len(self.fixtures)} hostile threads, 4 listing pages, {len(set(links))} rewritten links: nothing ran, nothing left loopback"

    def check_sharing(self) -> str:
        self.ensure_alex()
        hostile = set(self.hostile_threads().values()) if self.hostile_ids else set()
        status, me = self.api("/api/email/me/sharing", self.alex_token)
        require(status == 200, f"GET /api/email/me/sharing as alex answered {status}")
        level_before = me.get("level")
        require(level_before != "full", f"alex's sharing level is already {level_before!r}")
        chosen = None
        offset = 0
        examined = 0
        while chosen is None and offset is not None and examined < 80:
            status, doc = self.api(f"/api/email/threads?account={urllib.parse.quote(ALEX)}&limit=200&offset={offset}", self.alex_token)
            require(status == 200, f"GET /api/email/threads?account={ALEX} answered {status}")
            for t in doc.get("threads") or []:
                if t["id"] in hostile or [m.lower() for m in t.get("mailboxes") or []] != [ALEX]:
                    continue
                examined += 1
                s, detail = self.api(f"/api/email/threads/{t['id']}", self.kim_token)
                if s == 200 and detail.get("messages") and all(m.get("visibility") == "metadata" for m in detail["messages"]):
                    chosen = (t["id"], len(detail["messages"]))
                    break
                if examined >= 80:
                    break
            offset = doc.get("nextOffset")
        require(chosen, f"no thread of alex's that kim sees only at metadata level (examined {examined})")
        tid, count = chosen
        thread_url = f"{self.origin}/threads/{tid}"
        self.kim = make_driver(self.proxy.port)
        self.sign_in(self.kim, self.kim_token)
        require(css(self.kim, "table#investors"), "kim's sign-in does not land on the investors table")
        self.kim.get(thread_url)
        before = [a.get_dom_attribute("data-visibility") for a in css(self.kim, "article.message")]
        require(before and set(before) == {"metadata"}, f"kim sees {thread_url} as {before}, expected all metadata")
        problems = check_articles(self.kim, self.origin)
        require(not problems, "kim's view: " + "; ".join(problems))
        # A wrong or missing csrf value is refused and changes nothing.
        d = self.alex
        d.get(self.origin + "/settings")
        form = one(d, "form#sharing-level")
        one(form, 'select[name="level"]')
        csrf = one(form, 'input[name="csrf"]')
        require((csrf.get_dom_attribute("type") or "").lower() == "hidden", "the csrf input is not hidden")
        refused = []
        action = urllib.parse.urljoin(d.current_url, form.get_dom_attribute("action") or "")
        # In the browser: the real form with its csrf value altered, then without it (the pages' CSP
        # allows no fetch from script, so the form itself is submitted; the proxy saw the answer).
        for value in ("wrong-" + (csrf.get_dom_attribute("value") or "x")[:8], None):
            d.get(self.origin + "/settings")
            form = one(d, "form#sharing-level")
            d.execute_script(FORGE_FORM, form, value)
            Select(one(form, 'select[name="level"]')).select_by_value("full")
            since = time.time()
            submit_form(d, form)
            time.sleep(0.2)
            posts = [r for r in self.proxy.records(since) if r["method"] == "POST" and r["url"] == action]
            require(posts, f"the proxy saw no POST {action}")
            refused.append(posts[-1]["status"])
            require(posts[-1]["status"] == 403, f"the sharing form with csrf={value!r} answered {posts[-1]['status']}, not 403")
        # Outside the browser: the session cookie with a wrong csrf value.
        status, _, _ = http_request(action, method="POST", body=b"csrf=wrong&level=full", follow=False, headers={
            "Cookie": f"{SESSION_COOKIE}={self.cookie(d)}", "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.origin})
        refused.append(status)
        require(status == 403, f"POST {action} with the cookie and csrf=wrong (urllib) answered {status}, not 403")
        status, me = self.api("/api/email/me/sharing", self.alex_token)
        require(me.get("level") == level_before, f"a refused post changed alex's level to {me.get('level')!r}")
        self.kim.get(thread_url)
        still = [a.get_dom_attribute("data-visibility") for a in css(self.kim, "article.message")]
        require(set(still) == {"metadata"}, f"after refused posts kim sees {still}")
        # The real change.
        d.get(self.origin + "/settings")
        form = one(d, "form#sharing-level")
        Select(one(form, 'select[name="level"]')).select_by_value("full")
        submit_form(d, form)
        status, me = self.api("/api/email/me/sharing", self.alex_token)
        require(me.get("level") == "full", f"after submitting full, alex's level is {me.get('level')!r}")
        d.get(self.origin + "/settings")
        shown = Select(one(d, 'form#sharing-level select[name="level"]')).first_selected_option.get_attribute("value")
        require(shown == "full", f"/settings shows level {shown!r} after the change")
        self.shot(d, "settings.png")
        self.kim.refresh()
        after = [a.get_dom_attribute("data-visibility") for a in css(self.kim, "article.message")]
        require(len(after) == len(before) and set(after) == {"full"}, f"after alex shares in full kim sees {after}, expected {len(before)} full")
        problems = check_articles(self.kim, self.origin)
        require(not problems, "kim's view after the change: " + "; ".join(problems))
        return (f"thread {tid} ({count} messages): kim metadata -> full after alex's change; "
                f"forged posts refused {refused}")

    def check_sign_out(self) -> str:
        self.ensure_alex()
        d = self.alex
        d.get(self.origin + "/")
        old = self.cookie(d)
        require(old, "no session cookie before signing out")
        form = one(d, "form#logout")
        require((form.get_dom_attribute("action") or "") == "/session/logout", f"form#logout action is {form.get_dom_attribute('action')!r}")
        require((form.get_dom_attribute("method") or "").lower() == "post", "form#logout is not a POST form")
        require(css(form, 'input[type="hidden"][name="csrf"]'), "form#logout has no hidden csrf input")
        submit_form(d, form)
        d.get(self.origin + "/")
        require(css(d, 'form[action="/session"] input[name="token"]'), "after signing out / does not show the sign-in form")
        require(not css(d, "table#investors"), "after signing out / still shows table#investors")
        d.delete_all_cookies()
        d.add_cookie({"name": SESSION_COOKIE, "value": old, "path": "/", "httpOnly": True, "sameSite": "Strict"})
        d.get(self.origin + "/")
        require(not css(d, "table#investors"), "the old session cookie still signs in after sign-out")
        require(css(d, 'form[action="/session"] input[name="token"]'), "with the old cookie / does not show the sign-in form")
        status, _, body = http_request(self.origin + "/", headers={"Cookie": f"{SESSION_COOKIE}={old}"})
        require(b'id="investors"' not in body, f"GET / with the old cookie (urllib) still shows the investors table (HTTP {status})")
        d.delete_all_cookies()
        return "form#logout ended the session; the old cookie no longer signs in"

    def check_proxy_log(self) -> str:
        records = self.proxy.records()
        outside = outside_records(records)
        hits = fixture_hits(records, self.hosts)
        forwarded = [r for r in records if r["action"] == "forwarded"]
        bad = [r for r in outside if r["action"] != "refused"]
        require(not bad, f"non-loopback requests not refused: {bad[:5]}")
        require(not hits, f"the browser asked for fixture hosts during the run: "
                          f"{sorted({(r['method'], r['url']) for r in hits})[:10]}")
        summarize_outside(outside, self.hosts)
        return (f"{len(forwarded)} loopback requests forwarded, {len(outside)} non-loopback refused, none to "
                f"{', '.join(sorted(self.hosts))}")

    def main(self) -> int:
        try:
            self.start()
        except (SystemExit, Exception) as e:  # noqa: BLE001
            message = str(e) if isinstance(e, SystemExit) else f"{type(e).__name__}: {e}"
            print(f"FAIL setup: {message}", flush=True)
            self.stop()
            print("0 passed, 1 failed", flush=True)
            return 1
        try:
            self.run("sign-in", self.check_sign_in)
            self.run("investors-table", self.check_investors)
            self.run("investor-page", self.check_investor_page)
            self.run("keyboard", self.check_keyboard)
            self.run("thread-page", self.check_thread_page)
            self.run("search", self.check_search)
            self.run("hostile-mail", self.check_hostile)
            self.run("sharing-change", self.check_sharing)
            self.run("sign-out", self.check_sign_out)
            self.run("proxy-log", self.check_proxy_log)
        finally:
            self.stop()
        return self.report.close()


# Alters a form's csrf field in place (arguments[1] null: removes it). DOM edits through WebDriver are
# not page script, so the pages' CSP (no script-src) does not stop them.
FORGE_FORM = r"""
var form = arguments[0], value = arguments[1];
var field = form.querySelector('input[name="csrf"]');
if (value === null) { if (field) field.remove(); } else { field.value = value; }
"""


def names_ascending(names: list) -> bool:
    """Ascending, case-insensitively (or ignoring punctuation, as a collation might)."""
    plain = [n.casefold() for n in names]
    loose = [re.sub(r"[^0-9a-z]+", "", n) for n in plain]
    return plain == sorted(plain) or loose == sorted(loose)


def monotonic(values: list) -> bool:
    """Non-increasing or non-decreasing, with missing values (None) only at one end."""
    present = [v for v in values if v is not None]
    if values:
        first_none = [i for i, v in enumerate(values) if v is None]
        if first_none:
            k = len(first_none)
            if first_none != list(range(k)) and first_none != list(range(len(values) - k, len(values))):
                return False
    return all(a <= b for a, b in zip(present, present[1:])) or all(a >= b for a, b in zip(present, present[1:]))


def check_articles(driver, origin: str) -> list:
    problems = []
    articles = css(driver, "article.message")
    if not articles:
        return ["no article.message"]
    for n, art in enumerate(articles):
        level = art.get_dom_attribute("data-visibility")
        if level not in ("metadata", "subject", "full"):
            problems.append(f"article {n} data-visibility={level!r}")
            continue
        frames = css(art, "iframe")
        texts = css(art, ".text-body")
        if level == "metadata":
            if not css(art, ".lock"):
                problems.append(f"metadata article {n} has no .lock")
            if frames or texts:
                problems.append(f"metadata article {n} shows a body ({len(frames)} iframe, {len(texts)} .text-body)")
        elif level == "subject":
            if frames or texts:
                problems.append(f"subject article {n} shows a body ({len(frames)} iframe, {len(texts)} .text-body)")
        else:
            if not frames and not texts:
                problems.append(f"full article {n} shows neither iframe.mail-body nor .text-body")
            for fr in frames:
                if "mail-body" not in (fr.get_dom_attribute("class") or "").split():
                    problems.append(f"full article {n} has an iframe without class mail-body")
                sandbox = fr.get_dom_attribute("sandbox")
                if sandbox is None or not set(sandbox.split()) <= ALLOWED_SANDBOX:
                    problems.append(f"full article {n} iframe sandbox={sandbox!r}")
                src = fr.get_dom_attribute("src") or ""
                parts = urllib.parse.urlsplit(urllib.parse.urljoin(origin + "/", src))
                if f"{parts.scheme}://{parts.netloc}" != origin or not re.fullmatch(r"/messages/[^/]+/body", parts.path):
                    problems.append(f"full article {n} iframe src={src!r}")
    return problems


def summarize_outside(outside: list, hosts: set) -> None:
    counts: dict = {}
    for r in outside:
        key = (r["method"], r["host"], r["action"], r["status"])
        counts[key] = counts.get(key, 0) + 1
    for (method, host, action, status), n in sorted(counts.items(), key=lambda kv: (kv[0][1] or "", kv[0][0])):
        mark = "  <-- FIXTURE HOST" if host_matches(host, hosts) else ""
        Report.note(f"non-loopback: {method} {host} {action} {status} x{n}{mark}")


# --------------------------------------------------------------------------------------------------
# --self-test


class _SelfTestServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:  # no getfqdn (a name lookup)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


# The control page's own CSP: a page with no script at all (the harness must work under it).
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


def self_test_server(fixtures: list, logo: bytes | None):
    pages = {f.stem: f for f in fixtures}
    state = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            self.send(405, b"no")

        def do_GET(self) -> None:  # noqa: N802
            origin = state["origin"]
            parts = urllib.parse.urlsplit(self.path)
            m = re.fullmatch(r"/(top|frame)/([^/]+)", parts.path)
            if m and m.group(2) in pages:
                f = pages[m.group(2)]
                if m.group(1) == "top":
                    # The raw HTML part, no sandbox, no CSP; cid: pointed at a URL that is not there.
                    body = re.sub(r"cid:([^\"'\s>]+)", r"/inline/missing/\1", f.html)
                    self.send(200, body.encode())
                else:
                    self.send(200, (
                        "<!DOCTYPE html><html><head><title>self-test frame</title></head><body>"
                        f"<h1>{html.escape(f.subject)}</h1>"
                        f'<article class="message" data-visibility="full"><iframe class="mail-body" src="/top/{f.stem}" '
                        'width="900" height="500"></iframe></article></body></html>').encode())
                return
            # The control: what a correct page looks like. No detector may fire on it.
            if parts.path == "/control":
                self.send(200, (
                    "<!DOCTYPE html><html><head><title>control</title></head><body><h1>control</h1>"
                    '<article class="message" data-visibility="full"><iframe class="mail-body" '
                    'sandbox="allow-popups allow-popups-to-escape-sandbox" src="/messages/1/body" width="900" height="300">'
                    "</iframe></article></body></html>").encode(), headers={"Content-Security-Policy": PAGE_CSP})
                return
            if parts.path == "/broken":
                self.send(200, (
                    "<!DOCTYPE html><html><head><title>broken</title></head><body>"
                    '<iframe class="mail-body" sandbox="" src="/messages/404/body"></iframe></body></html>').encode())
                return
            if parts.path == "/messages/1/body":
                link = origin + "/link?u=" + urllib.parse.quote("https://example.org/ok", safe="")
                self.send(200, (
                    '<!DOCTYPE html><html><body><p>Our logo:</p><p><img src="/messages/1/inline/logo" alt="logo"></p>'
                    f'<p><a href="{html.escape(link)}" target="_blank" rel="noopener noreferrer">https://example.org/ok</a></p>'
                    "</body></html>").encode(),
                    headers={"Content-Security-Policy": f"default-src 'none'; img-src {origin}; style-src 'unsafe-inline'",
                             "X-Content-Type-Options": "nosniff"})
                return
            if parts.path == "/messages/1/inline/logo" and logo:
                self.send(200, logo, "image/png", {"X-Content-Type-Options": "nosniff"})
                return
            if parts.path == "/link":
                dest = urllib.parse.parse_qs(parts.query).get("u", [""])[0]
                self.send(200, (
                    "<!DOCTYPE html><html><head><title>Leaving</title></head><body><p>This link goes to:</p>"
                    f'<p><a id="destination" href="{html.escape(dest)}" rel="noopener noreferrer">{html.escape(dest)}</a></p>'
                    "</body></html>").encode())
                return
            self.send(404, b"not found", "text/plain")

    server = _SelfTestServer(("127.0.0.1", 0), Handler)
    state["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state["origin"]


def self_test(args) -> int:
    report = Report()
    fixtures = load_fixtures(args.fixtures)
    hosts = set().union(*(f.hosts for f in fixtures))
    shots = os.path.abspath(args.screenshots)
    os.makedirs(shots, exist_ok=True)
    logo = next((data for f in fixtures for data in f.images.values() if data[:4] == b"\x89PNG"), None)
    proxy = LoopbackProxy(os.path.join(shots, "selftest-proxy.jsonl")).start()
    server, origin = self_test_server(fixtures, logo)
    print(f"# self-test: {len(fixtures)} fixtures, hosts {sorted(hosts)}; page server {origin}; proxy 127.0.0.1:{proxy.port}", flush=True)
    driver = make_driver(proxy.port)
    fired: dict = {}  # detector -> [page]
    script_fixture_ok: dict = {}
    try:
        for f in fixtures:
            for mode in ("top", "frame"):
                url = f"{origin}/{mode}/{f.stem}"
                obs = observe(driver, proxy, url, hosts, origin=origin, fixture=f, inspect=(mode == "frame"),
                              probe_top=(mode == "top"), min_total=4.5)
                problems = obs.problems()
                if mode == "frame":
                    driver.save_screenshot(os.path.join(shots, f"selftest-{f.stem}.png"))
                for kind in problems:
                    fired.setdefault(kind, []).append(f"{f.stem}[{mode}]")
                js = [k for k in ("alert", "title", "pwned") if k in problems]
                if "<script" in f.html:  # its script must be seen running, and its fetch() at the proxy
                    script_fixture_ok[f"{f.stem}[{mode}]"] = bool(js) and ("proxy" in problems or "fetch(" not in f.html)
                Report.note(f"{f.stem} [{mode}]: fired {sorted(problems) or 'nothing'}; "
                            f"fixture hosts asked for: {sorted({r['host'] for r in obs.hits}) or 'none'}")
                driver.get("about:blank")
                drain_alerts(driver, settle=0.1)
        # A body iframe whose document is missing: the body-request and csp detectors.
        obs = observe(driver, proxy, f"{origin}/broken", hosts, origin=origin, fixture=None, min_total=0)
        for kind in obs.problems():
            fired.setdefault(kind, []).append("broken")
        Report.note(f"broken [frame]: fired {sorted(obs.problems()) or 'nothing'}")
        # Every detector can fail.
        for kind in ("alert", "title", "pwned", "location", "mutation", "markup", "proxy", "sandbox", "frame-src", "csp",
                     "body-request", "links", "inline-image"):
            pages = fired.get(kind, [])
            report.line(bool(pages), f"self-test detector {kind}", f"fired on {', '.join(pages[:6])}" if pages else "never fired")
        for page, ok in script_fixture_ok.items():
            report.line(ok, f"self-test script fixture {page}", "its script ran (alert/title/__pwned seen); its fetch(), if any, reached the proxy"
                        if ok else "expected a script detector (and, for fetch(), a fixture-host request) to fire")
        # The control: a correct page, on which no detector may fire.
        control = next((f for f in fixtures if f.images), None)
        if control is not None and logo is not None:
            obs = observe(driver, proxy, f"{origin}/control", hosts, origin=origin, fixture=control, min_total=0)
            problems = obs.problems()
            driver.save_screenshot(os.path.join(shots, "selftest-control.png"))
            report.line(not problems, "self-test control page", "no detector fired on a sandboxed, CSP'd body"
                        if not problems else f"detectors fired on a correct page: {problems}")
            link_problems = check_link_pages(proxy.port, obs.links, origin, ["hostile", "maya", "lumenridge"], {"https://example.org/ok"})
            report.line(not link_problems, "self-test control /link page", "a#destination shown cookie-less"
                        if not link_problems else "; ".join(link_problems))
        else:
            report.line(False, "self-test control page", "no fixture with an inline PNG to build the control from")
        outside = outside_records(proxy.records())
        summarize_outside(outside, hosts)
        leaked = [r for r in outside if r["action"] != "refused"]
        report.line(not leaked, "self-test proxy", f"{len(outside)} non-loopback requests, all refused" if not leaked
                    else f"non-loopback requests not refused: {leaked[:5]}")
    finally:
        try:
            driver.quit()
        finally:
            server.shutdown()
            proxy.stop()
    return report.close()


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="the built gmail-capture")
    parser.add_argument("--workdir", help="a fresh folder for the database, attachments and server logs")
    parser.add_argument("--screenshots", default="/tmp/browser-shots", help="where screenshots, page sources and the proxy log go")
    parser.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="folder of hostile .eml fixtures")
    parser.add_argument("--self-test", action="store_true", help="prove the detectors fire on unprotected pages (no binary needed)")
    args = parser.parse_args(argv)
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(tool):
            print(f"FAIL setup: {tool} not found (apt-get install -y chromium chromium-driver)")
            return 1
    # SIGTERM (a CI timeout, a supervisor) unwinds like Ctrl-C, so the server and the browsers are stopped.
    def on_sigterm(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if args.self_test:
            return self_test(args)
        return real_run(parser, args)
    except KeyboardInterrupt:
        print("FAIL interrupted (the server and the browsers were stopped)", flush=True)
        return 130


def real_run(parser: argparse.ArgumentParser, args) -> int:
    if not args.binary or not args.workdir:
        parser.error("--binary and --workdir are required (or --self-test)")
    if not os.access(args.binary, os.X_OK):
        parser.error(f"{args.binary} is not an executable")
    if os.path.exists(os.path.join(args.workdir, "ui.db")):
        parser.error(f"{args.workdir} already holds ui.db: give a fresh --workdir")
    return Harness(args).main()


if __name__ == "__main__":
    sys.exit(main())

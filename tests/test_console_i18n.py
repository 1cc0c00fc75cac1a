"""Every console page in Simplified Chinese: the catalogues are complete and up to date, and no page (nor a form
posted empty) shows an untranslated English sentence, a pydantic message or a raw code."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.helpers.console import sign_in_link, signed_in
from tests.helpers.everything import one_of_everything
from yutang.web.routes import console_routes

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "yutang" / "web" / "locale"
# Console paths that are not pages in a language: sign-in and out, the language switch, files.
NOT_PAGES = re.compile(r"^/console/(login|logout|language)$|/image$|\.(csv|png)$|/export")
# What a translated page must never show: pydantic's and Python's own words, Yutang's codes, English sentences.
RAW = [
    (re.compile(r"\b(should have|Input should|Field required|field required|value is not a valid|"
                r"Value error|validation error|Traceback|NoneType|object has no attribute)\b"), "a raw error"),
    (re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z_]+:[a-z_]+\b"), "a code (snake_case or kind:code)"),
    (re.compile(r"\b[A-Za-z]{3,}(?:[ ,'-]+[A-Za-z]{2,}){2,}\b"), "an English phrase"),
]
# Words that stay as they are in a Chinese page: product and standard names, and the sample data's own values.
ALLOWED = {"Yutang", "API", "WeCom", "English", "CSV", "JSON", "HTTP", "SMTP", "SMS", "URL", "ID", "RFM", "OneID",
           "ECharts", "HTMX", "Victim", "Victim2", "Hi", "hello", "Standard Webhooks", "Webhooks", "Tag Added",
           "yutang_console", "example.com", "victim-app", "The customer"}
IDS = {"customer_id": "customer_id", "segment_id": "segment_id", "broadcast_id": "broadcast_id",
       "thread_id": "thread_id", "dead_letter_id": "dead_letter_id", "submission_id": "submission_id",
       "endpoint_id": "endpoint_id", "delivery_id": "delivery_id", "template_id": "template_id",
       "tag_id": "tag_id", "group_id": "group_id", "config_id": "config_id", "coupon_id": "coupon_id",
       "member_id": "member_id", "source_id": "source_id", "channel_id": "channel_id", "task_id": "task_id",
       "journey_id": "journey_id", "groupbuy_id": "groupbuy_id", "step": "step", "token": "sign_in_token"}


class Text(HTMLParser):
    """The text a reader sees, and what assistive tech reads out (labels, placeholders, titles); not code, nor
    identifiers shown as such (`class="mono"`), nor JSON examples."""

    CODE = ("script", "style", "code", "pre")
    VOID = ("input", "img", "br", "hr", "meta", "link", "source", "wbr")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self.skipping or tag in self.CODE or "mono" in (attributes.get("class") or "").split():
            if tag not in self.VOID:  # a void element has no end tag to stop skipping at
                self.skipping.append(tag)
            return
        for name in ("placeholder", "title", "aria-label", "alt"):
            value = attributes.get(name)
            if value and not value.lstrip().startswith(("{", "[")):
                self.parts.append(value)

    def handle_startendtag(self, tag, attrs):
        if not self.skipping:
            self.handle_starttag(tag, attrs)
            if self.skipping:
                self.skipping.pop()

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data.strip())


def problems(html: str, data_words: set[str]) -> list[str]:
    """Each visible text that reads as untranslated, with why."""
    parser = Text()
    parser.feed(html)
    found = []
    for text in parser.parts:
        cleaned = text
        for word in sorted(ALLOWED | data_words, key=len, reverse=True):
            cleaned = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", " ", cleaned)
        for pattern, why in RAW:
            match = pattern.search(cleaned)
            if match:
                found.append(f"{why}: {match.group(0)!r} in {text[:80]!r}")
    return found


def test_every_message_has_a_chinese_translation():
    with open(LOCALE / "zh_CN" / "LC_MESSAGES" / "messages.po", "rb") as source:
        catalog = read_po(source, locale="zh_CN")
    empty = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert not empty, f"untranslated in zh_CN: {empty}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy in zh_CN: {fuzzy}"


def test_the_catalogue_holds_every_message_the_code_asks_for(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F",
                    str(ROOT / "yutang/web/babel.cfg"), "--no-location", "-o", str(pot), str(ROOT / "yutang/web")],
                   check=True, cwd=ROOT)
    with open(pot, "rb") as source:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    with open(LOCALE / "zh_CN" / "LC_MESSAGES" / "messages.po", "rb") as source:
        held = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    assert not wanted - held, f"run pybabel extract / update (babel.cfg says how): missing {sorted(wanted - held)}"


def console_paths() -> tuple[list[str], list[str]]:
    """The console's GET pages and POST forms, as path templates."""
    routes = [(method, path) for method, path in console_routes() if not NOT_PAGES.search(path)]
    return [p for m, p in routes if m == "GET"], [p for m, p in routes if m == "POST"]


def filled(path: str, ids: dict) -> str | None:
    """The path with its parameters set to the sample objects' ids, or None when one is unknown."""
    names = re.findall(r"\{(\w+)\}", path)
    if any(IDS.get(n) not in ids for n in names):
        return None
    for name in names:
        path = path.replace("{" + name + "}", str(ids[IDS[name]]))
    return path


@pytest.fixture
def everything(client, database, tenant):
    return one_of_everything(client, tenant) | {"sign_in_token": sign_in_link(database, tenant.key).rsplit("/", 1)[1]}


def test_every_console_page_reads_as_chinese(app, tenant, everything):
    console = signed_in(app, tenant.key)
    console.cookies.set("yutang_locale", "zh_CN")
    data_words = {"MP", "G", "T", "N", "Q", "B", "r", "t", "c", "k", "S", "A1", "Victims"}
    gets, posts = console_paths()
    failures, seen = [], 0
    for template in gets:
        path = filled(template, everything)
        if path is None:
            failures.append(f"{template}: no sample id for its parameters (add one to IDS / one_of_everything)")
            continue
        response = console.get(path, headers={"Accept-Language": "zh-CN"})
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        assert response.status_code < 500, (path, response.text[:500])
        seen += 1
        failures += [f"GET {path}: {p}" for p in problems(response.text, data_words)]
    for template in posts:
        path = filled(template, everything)
        if path is None:
            continue
        response = console.post(path, data={}, headers={"Accept-Language": "zh-CN"}, follow_redirects=False)
        assert response.status_code < 500, (path, response.text[:500])
        if "text/html" in response.headers.get("content-type", ""):
            failures += [f"POST {path} (empty): {p}" for p in problems(response.text, data_words)]
    assert seen >= 20, f"only {seen} pages rendered"
    assert not failures, "\n".join(failures)


def test_the_check_catches_what_it_looks_for():
    assert problems("<p>Input should be a valid integer</p>", set())
    assert problems("<td>consent_withdrawn:email</td>", set())
    assert problems("<p>Nobody was held back.</p>", set())
    assert not problems("<p>没有人被拦下。</p><script>var a_b = 1</script>", set())

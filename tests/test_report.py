"""The release report in a real headless Chromium, opened from disk with the network switched off."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.slow

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # any request leaving the machine fails: the page must not need one
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]  # fmt: skip


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium is not installed; `make test` installs it (Debian package chromium)")
    return exe


def _run(args, tmp_path):
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, timeout=120, check=True)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v:
                self.refs.append(v)


def test_report_renders_offline_with_its_sections(demo_release, tmp_path):
    out, res = demo_release
    page = out / "release" / "report" / "index.html"
    proc = _run(["--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()], tmp_path)
    dom = proc.stdout.decode()
    log = proc.stderr.decode(errors="replace")
    # the page logs no console errors and fails no resource load
    assert not [ln for ln in log.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]
    assert "net::ERR_FILE_NOT_FOUND" not in log
    for section in ("summary", "funnel", "reasons", "languages", "regions", "pii", "rights", "dedup", "gate",
                    "shards", "errors", "inputs"):  # fmt: skip
        assert f'id="{section}"' in dom, section
    published = res.manifest["counts"]["documents_published"]
    assert re.search(rf"<b[^>]*>{published}</b>documents published", dom)
    assert dom.count("<svg") >= 3  # funnel, languages, regions
    assert "pending_review" in dom
    counts = res.manifest["counts"]
    for key in ("documents_dropped", "documents_quarantined", "input_files"):
        assert re.search(rf"<b[^>]*>{counts[key]:,}</b>", dom), key
    for lang in ("sv", "fi", "de"):
        assert f">{lang}</text>" in dom  # language chart labels
    parser = _Refs()
    parser.feed(page.read_text())
    assert parser.refs == ["gx/index.html"]  # the only link: the local Data Docs
    assert (page.parent / "gx" / "index.html").is_file()


def test_report_screenshot_is_not_blank(demo_release, tmp_path):
    from PIL import Image

    out, _ = demo_release
    shot = tmp_path / "report.png"
    _run([f"--screenshot={shot}", "--window-size=1280,1800", (out / "release" / "report" / "index.html").as_uri()],
         tmp_path)  # fmt: skip
    keep = out / "report-screenshot.png"  # kept beside the release for a person to look at
    keep.write_bytes(shot.read_bytes())
    img = Image.open(shot).convert("L")
    colors = img.getcolors(maxcolors=1 << 16)
    assert img.size == (1280, 1800)
    assert colors is not None and len(colors) > 20  # text, charts and cards, not an empty page

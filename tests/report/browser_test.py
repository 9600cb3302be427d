#!/usr/bin/env python3
"""Browser test of the HTML reports (CTest label `browser`).

Produces runs with `quasar run`, renders `quasar cost --format html` (also through --out) and
`quasar compare --format html`, and a run whose trace and layer names are hostile HTML, then
opens each page in headless Chromium and asserts:
  - the markup is self-contained (no src=, links, url(), scripts) and well-formed XML;
  - the same inputs give the same bytes, and `cost --out DIR` writes the page it prints;
  - the page loads: Chromium's DOM dump has the header text, exactly the expected <svg>
    charts (by data-chart name), each with drawn shapes, and no <script> element;
  - the browser logs no console message at all (no CONSOLE or Uncaught lines): the pages have
    no scripts, so any message is an error;
  - the screenshot is not blank: enough distinct colours and non-white pixels in the chart
    area, and every fill colour the charts declare painted on screen.
Without Chromium the test fails, unless QUASAR_ALLOW_NO_BROWSER=1 (then it exits 77, which
CTest reports as skipped).

Usage: browser_test.py --quasar BIN --source REPO --work DIR
"""
import argparse
import collections
import html.parser
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

SKIP = 77
failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)
    return cond


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300, **kw)
    if p.returncode != 0:
        sys.stdout.write(p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"))
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}")
    return p.stdout


# ---- PNG (stdlib only): 8-bit RGB/RGBA, not interlaced, as Chromium writes screenshots.
def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace != 0:
        raise ValueError(f"{path}: PNG depth {depth} colour type {ctype} interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    lo = int.from_bytes(b"\x7f" * stride, "big")
    hi = int.from_bytes(b"\x80" * stride, "big")
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:  # bytewise (line + prev) mod 256, without carries between bytes
            a, b = int.from_bytes(line, "big"), int.from_bytes(prev, "big")
            line = bytearray((((a & lo) + (b & lo)) ^ ((a ^ b) & hi)).to_bytes(stride, "big"))
        elif f == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + (left + prev[x]) // 2) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif f != 0:
            raise ValueError(f"{path}: bad PNG filter {f}")
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def pixel_counts(rows, bpp, y_end):
    counts = collections.Counter()
    for r in rows[:y_end]:
        for x in range(0, len(r), bpp):
            counts[r[x:x + 3]] += 1
    return counts


# ---- DOM (Chromium's --dump-dom output).
class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.charts = []  # [data-chart, shapes drawn, fill colours]
        self.svg_depth = 0
        self.nested_svg = False
        self.scripts = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            if self.svg_depth:
                self.nested_svg = True
            self.svg_depth += 1
            self.charts.append([a.get("data-chart"), 0, set()])
        elif tag == "script":
            self.scripts += 1
        elif self.svg_depth and tag in ("rect", "path", "circle"):
            drawn = tag != "rect" or (float(a.get("width", "0")) > 0 and float(a.get("height", "0")) > 0)
            if drawn:
                self.charts[-1][1] += 1
            fill = a.get("fill", "")
            if re.fullmatch(r"#[0-9a-f]{6}", fill) and fill != "#ffffff":
                self.charts[-1][2].add(fill)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg_depth -= 1

    def handle_data(self, data):
        self.text.append(data)


def chromium_cmd(browser, profile):
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"]


def console_lines(stderr):
    return [l for l in stderr.splitlines() if ":CONSOLE" in l or "Uncaught" in l]


def check_page(name, path, browser, work, charts, texts, raw_forbidden=()):
    print(f"--- {name}: {path}")
    src = open(path, encoding="utf-8").read()
    try:
        ET.fromstring(src.replace("<!DOCTYPE html>", "", 1))
        check(True, f"{name}: well-formed markup")
    except ET.ParseError as e:
        check(False, f"{name}: well-formed markup ({e})")
    external = re.findall(r"<link|<img|<iframe|<script|\bsrc=|url\(|@import|https?://", src)
    check(not external, f"{name}: self-contained (found: {sorted(set(external))})")
    for s in raw_forbidden:
        check(s not in src, f"{name}: unescaped {s!r} absent from the source")

    url = "file://" + os.path.abspath(path)
    timeout = 120
    p = subprocess.run(chromium_cmd(browser, os.path.join(work, "profile-dom-" + name)) +
                       ["--dump-dom", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    dom_text, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    open(os.path.join(work, name + ".dom.html"), "w").write(dom_text)
    open(os.path.join(work, name + ".dom.log"), "w").write(err)
    check(p.returncode == 0, f"{name}: chromium --dump-dom exited {p.returncode}")
    shot = os.path.join(work, name + ".png")
    if os.path.exists(shot):
        os.remove(shot)
    p2 = subprocess.run(chromium_cmd(browser, os.path.join(work, "profile-shot-" + name)) +
                        ["--screenshot=" + shot, "--window-size=1280,2000", url],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    err2 = p2.stderr.decode(errors="replace")
    open(os.path.join(work, name + ".shot.log"), "w").write(err2)
    check(p2.returncode == 0, f"{name}: chromium --screenshot exited {p2.returncode}")

    msgs = console_lines(err) + console_lines(err2)
    check(not msgs, f"{name}: no console messages" + "".join("\n      " + m for m in msgs))

    dom = Dom()
    dom.feed(dom_text)
    got = [c[0] for c in dom.charts]
    check(got == charts, f"{name}: <svg> charts {got} == {charts}")
    check(not dom.nested_svg, f"{name}: no <svg> inside another")
    check(dom.scripts == 0, f"{name}: no <script> element in the DOM ({dom.scripts})")
    for chart, shapes, _ in dom.charts:
        check(shapes > 0, f"{name}: chart {chart} draws shapes ({shapes})")
    body = " ".join(" ".join(dom.text).split())
    for t in texts:
        check(t in body, f"{name}: page text has {t!r}")

    if not check(os.path.exists(shot), f"{name}: screenshot written"):
        return
    w, h, bpp, rows = read_png(shot)
    check((w, h) == (1280, 2000), f"{name}: screenshot is 1280x2000 ({w}x{h})")
    # The charts are at the top of the page; count in its first 1100 rows.
    y_end = min(h, 1100)
    counts = pixel_counts(rows, bpp, y_end)
    total = w * y_end
    non_white = total - counts[b"\xff\xff\xff"]
    check(len(counts) >= 30, f"{name}: distinct colours in the chart area: {len(counts)} >= 30")
    check(non_white >= 0.05 * total,
          f"{name}: non-white pixels in the chart area: {non_white} >= 5% of {total}")
    fills = set().union(*(c[2] for c in dom.charts)) if dom.charts else set()
    painted = 0
    for f in sorted(fills):
        n = counts[bytes.fromhex(f[1:])]
        painted += n
        check(n >= 50, f"{name}: chart colour {f} painted ({n} pixels >= 50)")
    check(painted >= 0.02 * total, f"{name}: chart colours cover {painted} >= 2% of {total} pixels")


ESCAPE_TRACE = """# Names that are HTML: the report must show them as text.
quasar_trace: 1
name: "esc <b>bold</b> & \\"quoted\\" 'single'"
layers:
  - name: "q<k>&v"
    op: linear
    m: 16
    k: 256
    n: 64
    scheme: w8a8
  - name: "</svg><script>throw new Error('escaped badly')</script>"
    op: linear
    m: 16
    k: 512
    n: 128
    scheme: w8a8
  - name: "down_proj"
    op: linear
    m: 16
    k: 128
    n: 256
    scheme: w8a8
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quasar", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()

    # QUASAR_CHROMIUM names another browser binary (one that does not exist counts as missing).
    browser = shutil.which(os.environ.get("QUASAR_CHROMIUM") or "chromium")
    if not browser:
        msg = ("chromium not found (Debian package `chromium`; scripts/install-deps.sh installs "
               "it): the HTML reports cannot be checked in a browser")
        if os.environ.get("QUASAR_ALLOW_NO_BROWSER") == "1":
            print("SKIP: " + msg + " (QUASAR_ALLOW_NO_BROWSER=1)")
            return SKIP
        print("FAIL: " + msg + ". Set QUASAR_ALLOW_NO_BROWSER=1 to skip this test instead.")
        return 1
    print("browser: " + run([browser, "--version"]).decode().strip())

    work = os.path.abspath(a.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    q = a.quasar
    trace = os.path.join(a.source, "tests/cli/shape_only.yaml")
    run_a, run_b, run_e = (os.path.join(work, d) for d in ("run_a", "run_b", "run_esc"))
    run([q, "run", "--arch", "int8-baseline", "--trace", trace, "--out", run_a])
    run([q, "run", "--arch", "dgq", "--trace", trace, "--out", run_b])
    esc_trace = os.path.join(work, "escape.yaml")
    open(esc_trace, "w").write(ESCAPE_TRACE)
    run([q, "run", "--arch", "int8-baseline", "--trace", esc_trace, "--out", run_e])

    pages = {}
    page = run([q, "cost", run_a + "/report.json", "--format", "html"])
    again = run([q, "cost", run_a + "/report.json", "--format", "html", "--out",
                 os.path.join(work, "cost_a")])
    check(page == again, "cost --format html: same inputs, same bytes")
    written = open(os.path.join(work, "cost_a", "report.html"), "rb").read()
    check(written == page, "cost --out DIR: DIR/report.html is the page --format html prints")
    pages["run"] = page
    cmp = run([q, "compare", run_a + "/report.json", run_b + "/report.json", "--format", "html"])
    check(cmp == run([q, "compare", run_a + "/report.json", run_b + "/report.json", "--format",
                      "html"]), "compare --format html: same inputs, same bytes")
    pages["compare"] = cmp
    pages["escape"] = run([q, "cost", run_e + "/report.json", "--format", "html"])
    for name, data in pages.items():
        open(os.path.join(work, name + ".html"), "wb").write(data)

    run_charts = ["latency", "energy", "timeline", "area"]
    check_page("run", os.path.join(work, "run.html"), browser, work, run_charts,
               ["quasar run report: int8-baseline on one-linear", "45 nm", "TOPS/W", "energy/token",
                "Latency breakdown", "Energy breakdown", "Timeline", "Not priced", "source", "proj"])
    check_page("compare", os.path.join(work, "compare.html"), browser, work, ["compare"],
               ["quasar compare: one-linear", "int8-baseline", "dgq", "latency (ms)", "TOPS/mm2"])
    check_page("escape", os.path.join(work, "escape.html"), browser, work, run_charts,
               ["esc <b>bold</b> & \"quoted\" 'single'", "q<k>&v",
                "</svg><script>throw new Error('escaped badly')</script>", "down_proj"],
               raw_forbidden=["<b>bold", "<k>", "</svg><script"])

    if failures:
        print(f"\n{len(failures)} check(s) failed; pages, DOM dumps, logs and screenshots are in {work}")
        return 1
    print(f"\nall checks passed; pages and screenshots are in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

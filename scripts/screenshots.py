"""Regenerate the README tour's screenshots with the real browser (docs/img/*.png).

Starts ``jbgrade serve`` on a free port with throw-away data and key directories,
drives Debian's Chromium through Playwright, and writes small palette PNGs:

    .venv/bin/python scripts/screenshots.py            # needs /usr/bin/chromium

Nothing is fetched from outside 127.0.0.1.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
V11 = "JBG:1.1/LY:C/UN:D/RL:H/TR:F/HD:W/UP:F/CG:S/AG:T/AC:L/AU:Y/EX:P/RE:W/ST:P"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _save(png: bytes, name: str, colours: int = 64, width: int | None = None) -> Path:
    """A palette PNG (a few dozen colours suffice for a UI): a tenth of the RGB size."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    if width is not None and img.size[0] > width:
        size = (width, round(img.size[1] * width / img.size[0]))
        img = img.resize(size, Image.Resampling.LANCZOS)
    small = img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path = OUT / name
    small.save(path, optimize=True)
    kib = path.stat().st_size // 1024
    print(f"wrote {path.relative_to(ROOT)} ({kib} KiB, {img.size[0]}x{img.size[1]})")
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "JBGRADE_DATA_DIR": f"{tmp}/data",
            "JBGRADE_KEY_DIR": f"{tmp}/keys",
        }
        for var in ("JBGRADE_DATABASE_URL", "JBGRADE_KEY", "JBGRADE_KEY_FILE"):
            env.pop(var, None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "jbgrade", "serve", "--port", str(port), "--no-access-log"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx2.get(base + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx2.HTTPError:
                    time.sleep(0.1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                desk = browser.new_page(viewport={"width": 1280, "height": 800})
                desk.goto(f"{base}/calculator?v={V11}")
                _save(desk.screenshot(), "calculator.png")
                phone = browser.new_page(
                    viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True
                )
                phone.goto(f"{base}/calculator?v={V11}")
                _save(phone.screenshot(), "calculator-390px.png")
                card = httpx2.get(f"{base}/calculator/scorecard.png", params={"v": V11}, timeout=30)
                card.raise_for_status()
                _save(card.content, "scorecard.png", colours=32, width=760)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()

"""The README's screenshots, scripts/screenshots.py's page table and docs/screenshots/ agree:
every screenshot the README links exists, every file there is linked, and they are exactly
the ready pages of the table at each of its widths, PNGs of those sizes and kept small."""

from __future__ import annotations

import importlib.util
import re
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
MAX_BYTES = 400_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts/screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def readme_links() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"\]\((docs/screenshots/[^)\s]+)\)", text)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])  # IHDR, the first chunk
    return width, height


def test_the_readme_links_exactly_the_ready_pages_screenshots(script: ModuleType) -> None:
    links = readme_links()
    assert len(links) == len(set(links)), "a screenshot is linked twice"
    expected = {
        f"docs/screenshots/{name}"
        for shot in script.PAGES
        if not shot.pending
        for name in script.file_names(shot)
    }
    assert set(links) == expected


def test_every_linked_screenshot_exists_and_every_file_is_linked() -> None:
    linked = {Path(link).name for link in readme_links()}
    assert linked, "the README links no screenshot"
    on_disk = {path.name for path in SCREENSHOTS.iterdir()}
    assert sorted(linked - on_disk) == [], "linked but missing"
    assert sorted(on_disk - linked) == [], "in docs/screenshots but not linked"


def test_screenshots_are_small_pngs_of_their_width(script: ModuleType) -> None:
    for shot in script.PAGES:
        if shot.pending:
            continue
        for width_name, size in script.VIEWPORTS.items():
            path = SCREENSHOTS / f"{shot.name}-{width_name}.png"
            assert png_size(path) == size, path.name
            assert path.stat().st_size <= MAX_BYTES, path.name


def test_the_page_table_names_each_page_once(script: ModuleType) -> None:
    names = [shot.name for shot in script.PAGES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in names), names

"""Browser fixtures: the real app served by uvicorn on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from civique.demo import create_demo
from civique.llm.model_files import QWEN_FILENAME
from civique.settings import Settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.live import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DEMO_AGENT = "agent@exemple.test"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}


@dataclass
class LiveServer:
    """A running instance: its base URL and settings."""

    url: str
    settings: Settings


def _base_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "data_dir": data_dir,
        "embedded_embeddings_enabled": False,
        "log_json": False,
        "log_level": "WARNING",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture(scope="session")
def _serve() -> Iterator[Callable[[Settings], LiveServer]]:
    """A factory starting servers; every one is stopped at the end of the session."""
    from civique.app import create_app

    with ExitStack() as stack:

        def start(settings: Settings) -> LiveServer:
            create_demo(settings)
            app = create_app(settings)
            stack.callback(app.state.engine.dispose)
            return LiveServer(stack.enter_context(serve_in_thread(app)), settings)

        yield start


@pytest.fixture(scope="session")
def fake_server(
    _serve: Callable[[Settings], LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """The app with the fake model only, slow enough that streaming can be watched and stopped."""
    data_dir = tmp_path_factory.mktemp("civique-fake")
    settings = _base_settings(
        data_dir,
        fake_provider_enabled=True,
        embedded_enabled=False,
        fake_token_delay_seconds=0.08,
    )
    return _serve(settings)


def packaged_model_file() -> Path:
    """The verified embedded model assembled by `make models` (data dir of the checkout)."""
    data_dir = Path(os.environ.get("CIVIQUE_DATA_DIR") or ROOT / "var")
    path = data_dir / "models" / QWEN_FILENAME
    stamp = path.with_name(path.name + ".verified.json")
    if not (path.is_file() and stamp.is_file()):
        pytest.fail(f"embedded model not assembled at {path}: run `make models` first")
    return path


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # same inode and mtime: the verification stamp stays valid
    except OSError:
        shutil.copy2(source, target)


@pytest.fixture(scope="session")
def embedded_server(
    _serve: Callable[[Settings], LiveServer], tmp_path_factory: pytest.TempPathFactory
) -> LiveServer:
    """The app with the real embedded model (verified file linked into a fresh data dir)."""
    source = packaged_model_file()
    data_dir = tmp_path_factory.mktemp("civique-embedded")
    models = data_dir / "models"
    models.mkdir()
    stamp = source.with_name(source.name + ".verified.json")
    _link_or_copy(source, models / source.name)
    shutil.copy2(stamp, models / stamp.name)
    settings = _base_settings(
        data_dir,
        fake_provider_enabled=False,
        embedded_enabled=True,
        embedded_max_tokens=64,
    )
    return _serve(settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (never a browser downloaded by Playwright).

    Module scope: the sync API allows one Playwright per thread, and other modules start theirs.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/install.sh dev`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies, empty storage) at desktop size, in French."""
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS

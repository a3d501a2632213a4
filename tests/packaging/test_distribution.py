"""`pip install .` installs one top-level import name, costscan, with every module and file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("scanner", "providers", "policies", "reports", "demo", "publish")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as pip installs it: its wheel built (with the pinned setuptools of
    pyproject.toml's build-system) and installed into an empty target folder."""
    wheels = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)], check=True)
    (wheel,) = wheels.glob("costscan-*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-compile", "--target", str(target), str(wheel)],
        check=True,
    )
    with zipfile.ZipFile(wheel) as archive:
        (target / "wheel-entries.txt").write_text("\n".join(archive.namelist()))
    return target


def test_pip_install_puts_only_costscan_in_site_packages(installed: Path) -> None:
    names = {p.name for p in installed.iterdir()} - {"wheel-entries.txt", "bin"}
    assert names == {"costscan", "costscan-0.1.0.dist-info"}
    top_level = (installed / "costscan-0.1.0.dist-info" / "top_level.txt").read_text()
    assert top_level.split() == ["costscan"]


def test_every_module_and_data_file_of_the_rooms_is_installed(installed: Path) -> None:
    # A new sub-package must be listed in pyproject.toml's packages: this fails until it is.
    in_repo = {
        f"costscan/{path.relative_to(ROOT)}"
        for room in ROOMS
        for path in (ROOT / room).rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix in (".py", ".csv", ".j2", ".css", ".js")
    }
    entries = set((installed / "wheel-entries.txt").read_text().split())
    assert in_repo - entries == set()
    assert not [e for e in entries if e.startswith(("costscan/tests/", "costscan/benchmarks/"))]


def test_the_installed_package_runs_without_the_checkout(installed: Path, tmp_path: Path) -> None:
    # From an unrelated folder, with only the installed copy (and this venv's dependencies)
    # on the path: the console entry point's module imports and the policies load.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import costscan.scanner.app.cli as cli; "
        "from costscan.scanner.app.catalog import all_policies; "
        "print(cli.__file__.startswith(sys.argv[1]), len(all_policies()) > 30)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(installed)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["True", "True"]

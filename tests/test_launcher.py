"""The launcher: install once then start offline, and the check of Qt's system libraries.

The checker (scripts/qt_platform.py) is tested on real ldd output: live runs on the
installed PySide6, a plugin copy whose dependency is renamed away in a temp dir, and the
output captured on a Debian 12 machine that lacked libxcb-icccm4, libxcb-keysyms1 and
libwayland-cursor0 (tests/launcher_data). Its verdicts are compared with Qt's own plugin
loader. The installer runs for real on a small project in a temp dir.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "launcher_data"
PYTHON = sys.executable


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


qt_platform = load_script("qt_platform")
check_screenshot = load_script("check_screenshot")
PYSIDE = qt_platform.pyside_dir()

# What a network-less laptop looks like to pip: no index, and the one given unreachable.
# pip's configuration files (extra indexes, local wheel folders) are ignored too.
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
           "PIP_FIND_LINKS": "/nonexistent", "PIP_CONFIG_FILE": os.devnull}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a desktop session without a display, plus extra."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE",
                          "QT_QPA_PLATFORM_PLUGIN_PATH")}
    env.update(extra)
    return env


# --- ldd output and the Debian packages ------------------------------------------------

def test_captured_xcb_output_names_the_missing_libraries_and_one_apt_command():
    libraries = qt_platform.parse_ldd((DATA / "ldd-libqxcb-debian12.txt").read_text())
    missing = qt_platform.missing_sonames(libraries)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert libraries["libxcb-cursor.so.0"] == "/lib/x86_64-linux-gnu/libxcb-cursor.so.0"
    assert libraries["libQt6XcbQpa.so.6"].endswith("/PySide6/Qt/plugins/platforms/../../lib/"
                                                   "libQt6XcbQpa.so.6")

    packages, unknown = qt_platform.debian_packages(missing)
    assert (packages, unknown) == (["libxcb-icccm4", "libxcb-keysyms1"], [])
    assert qt_platform.apt_command(packages, as_root=False) == \
        "sudo apt install libxcb-icccm4 libxcb-keysyms1"
    assert qt_platform.apt_command(packages, as_root=True) == \
        "apt install libxcb-icccm4 libxcb-keysyms1"

    message = qt_platform.report("xcb", missing, display=True, as_root=False)
    assert message.count("apt install") == 1
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in message
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "« X11 (xcb) »" in message and "des bibliothèques" in message


def test_captured_wayland_output_with_its_shell_plugin():
    text = (DATA / "ldd-libqwayland-debian12.txt").read_text()
    assert text.count(":\n") == 2  # two files in one ldd run
    missing = qt_platform.missing_sonames(qt_platform.parse_ldd(text))
    assert missing == ["libwayland-cursor.so.0"]  # once, though both files lack it
    message = qt_platform.report("wayland", missing, display=True, as_root=True)
    assert "\n  apt install libwayland-cursor0\n" in message
    assert "une bibliothèque" in message and "« Wayland »" in message


def test_libraries_without_a_known_package_and_bundled_ones_are_told_apart():
    missing = ["libQt6Gui.so.6", "libxcb-cursor.so.0", "libfoo-inconnue.so.3",
               "libxcb-cursor.so.0"]
    assert qt_platform.debian_packages(missing) == (["libxcb-cursor0"],
                                                    ["libfoo-inconnue.so.3"])
    message = qt_platform.report("xcb", missing, display=True, as_root=False)
    assert "sudo apt install libxcb-cursor0\n" in message
    assert "libfoo-inconnue.so.3" in message and "apt-file search" in message
    assert "supprimez le dossier .venv" in message


def test_no_display_is_said_with_what_to_do():
    message = qt_platform.report("xcb", [], display=False, as_root=False)
    assert "apt install" not in message
    assert "DISPLAY" in message and "--screenshot" in message


def test_falling_back_from_wayland_to_x11_is_said_in_french():
    note = qt_platform.fallback_note("wayland", ["libwayland-cursor.so.0"], "xcb",
                                     as_root=False)
    assert "« X11 (xcb) » au lieu de « Wayland »" in note
    assert note.endswith("sudo apt install libwayland-cursor0")


def inspected_libraries(name: str) -> dict[str, str | None]:
    plugin = qt_platform.find_plugin(name, qt_platform.plugin_dirs(PYSIDE, {}))
    files, absent = qt_platform.inspected_files(name, plugin, PYSIDE, os.environ)
    libraries = qt_platform.run_ldd(files)
    for soname in absent:
        libraries.setdefault(soname, None)
    return libraries


def test_every_library_of_the_installed_plugins_is_in_the_table_with_its_debian_package():
    """The table covers what ldd lists for the real plugins and modules, and says the
    package that dpkg says owns each library present on this machine."""
    libraries: dict[str, str | None] = {}
    for name in ("xcb", "wayland", "offscreen"):
        libraries.update(inspected_libraries(name))
    system = {soname: path for soname, path in libraries.items()
              if not qt_platform.is_bundled(soname)}
    assert "libxcb-cursor.so.0" in system and "libEGL.so.1" in system
    unmapped = sorted(set(system) - set(qt_platform.DEBIAN_PACKAGES))
    assert unmapped == []

    present = {soname: os.path.realpath(path) for soname, path in system.items() if path}
    # With /lib merged into /usr/lib, dpkg knows some files under one name, some under the
    # other: ask for both.
    asked = [*present.values(), *(path.replace("/usr/lib/", "/lib/", 1)
                                  for path in present.values())]
    result = subprocess.run(["dpkg", "-S", *asked], capture_output=True, text=True,
                            check=False)
    owner = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        path = path.strip()
        if path.startswith("/lib/"):
            path = "/usr" + path
        owner[path] = package.split(":")[0]
    assert sorted(set(present.values()) - set(owner)) == [], result.stderr
    wrong = {soname: (qt_platform.DEBIAN_PACKAGES[soname], owner[path])
             for soname, path in present.items()
             if path in owner and owner[path] not in (qt_platform.DEBIAN_PACKAGES[soname],
                                                       qt_platform.DEBIAN_PACKAGES[soname]
                                                       + "t64")}
    assert wrong == {}


def test_ldconfig_cache_of_this_machine_resolves_the_libraries_qt_opens_at_run_time():
    result = subprocess.run([shutil.which("ldconfig", path="/sbin:/usr/sbin:" +
                                          os.environ.get("PATH", "")), "-p"],
                            capture_output=True, text=True, check=True)
    arch = qt_platform.LDCONFIG_ARCH[os.uname().machine]
    cache = qt_platform.parse_ldconfig(result.stdout, arch)
    assert Path(cache["libc.so.6"]).exists()
    assert Path(cache["libxcb.so.1"]).exists()
    # 32-bit entries say "(libc6)" only and must not be taken for this architecture.
    assert qt_platform.parse_ldconfig(
        "\tlibz.so.1 (libc6) => /lib/i386-linux-gnu/libz.so.1\n"
        "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1\n", "x86-64") == \
        {"libz.so.1": "/lib/x86_64-linux-gnu/libz.so.1"}


# --- which plugin Qt will use ------------------------------------------------------------

def test_the_platform_is_the_one_qt_picks():
    candidates = qt_platform.platform_candidates
    assert candidates({}, []) == ["xcb"]
    assert candidates({"DISPLAY": ":0"}, []) == ["xcb"]
    assert candidates({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, []) == \
        ["wayland", "xcb"]
    assert candidates({"XDG_SESSION_TYPE": "wayland"}, []) == ["wayland", "xcb"]
    assert candidates({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, []) == ["xcb"]
    assert candidates({"QT_QPA_PLATFORM": "wayland:foo=1;xcb"}, []) == ["wayland", "xcb"]
    # desktop/app.py makes a screenshot offscreen unless QT_QPA_PLATFORM says otherwise.
    assert candidates({"DISPLAY": ":0"}, ["--screenshot", "x.png"]) == ["offscreen"]
    assert candidates({"QT_QPA_PLATFORM": "xcb"}, ["--screenshot=x.png"]) == ["xcb"]


def test_sub_commands_and_options_are_those_of_main():
    """The checker mirrors main.py's command line without importing it at launch."""
    import argparse

    import main

    parser = main._parser()
    commands = next(action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction))
    assert qt_platform.HEADLESS_COMMANDS == set(commands.choices)
    with_value = {option for action in parser._actions if action.nargs is None
                  and action.option_strings and not isinstance(
                      action, (argparse._HelpAction, argparse._SubParsersAction))
                  for option in action.option_strings}
    assert qt_platform.OPTIONS_WITH_VALUE == with_value

    requested = qt_platform.gui_requested
    assert requested([]) and requested(["--db", "demo"]) and requested(["--db=x.sqlite"])
    assert requested(["--db", "x", "--screenshot", "check", "--view", "operations"])
    assert not requested(["demo", "--db", "x"])
    assert not requested(["--db", "x", "check", "--json"])
    assert not requested(["--help"])


# --- the checker on real plugins -----------------------------------------------------------

def run_checker(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, str(ROOT / "scripts" / "qt_platform.py"), *args],
                          capture_output=True, text=True, env=clean_env(**env), timeout=60)


def test_offscreen_plugin_resolves_and_nothing_is_printed():
    verdict = qt_platform.check_platform("offscreen", PYSIDE, clean_env())
    assert verdict.plugin == PYSIDE / "Qt" / "plugins" / "platforms" / "libqoffscreen.so"
    assert verdict.missing == [] and verdict.usable
    for args, env in (((), {"QT_QPA_PLATFORM": "offscreen"}),
                      (("--db", "x.sqlite", "--screenshot", "x.png"), {}),
                      (("demo", "--db", "x.sqlite"), {"QT_QPA_PLATFORM": "nulle-part"})):
        result = run_checker(*args, **env)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def broken_plugin_copy(tmp_path: Path) -> Path:
    """A copy of the xcb plugin whose Qt library dir ($ORIGIN/../../lib) has every library
    of PySide6 but libQt6XcbQpa, renamed away: a dependency really missing, on any machine."""
    platforms = tmp_path / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    shutil.copy2(PYSIDE / "Qt" / "plugins" / "platforms" / "libqxcb.so", platforms)
    lib = tmp_path / "lib"
    lib.mkdir()
    for entry in (PYSIDE / "Qt" / "lib").iterdir():
        name = entry.name + ".renamed" if entry.name == "libQt6XcbQpa.so.6" else entry.name
        (lib / name).symlink_to(entry)
    return platforms / "libqxcb.so"


def test_a_plugin_copy_missing_a_renamed_dependency(tmp_path):
    copy = broken_plugin_copy(tmp_path)
    missing = qt_platform.missing_sonames(qt_platform.run_ldd([copy]))
    assert "libQt6XcbQpa.so.6" in missing
    assert qt_platform.missing_sonames(qt_platform.run_ldd(
        [PYSIDE / "Qt" / "plugins" / "platforms" / "libqxcb.so"])) == \
        [soname for soname in missing if soname != "libQt6XcbQpa.so.6"]
    message = qt_platform.report("xcb", missing, display=True, as_root=False)
    assert "libQt6XcbQpa.so.6" in message and "supprimez le dossier .venv" in message


def test_unknown_platform_is_named(tmp_path):
    result = run_checker(QT_QPA_PLATFORM="inexistante")
    assert result.returncode == 1
    assert "« inexistante »" in result.stderr and "offscreen" in result.stderr


@pytest.mark.parametrize("name", ["xcb", "wayland"])
def test_checker_agrees_with_qts_plugin_loader(name, tmp_path):
    """Whatever this machine has installed: Qt fails to load the plugin exactly when the
    checker finds a library missing, and the library Qt names is one of those found."""
    verdict = qt_platform.check_platform(name, PYSIDE, clean_env())
    plugin_missing = qt_platform.missing_sonames(qt_platform.run_ldd([verdict.plugin]))
    qt = subprocess.run(
        [PYTHON, "-c", "import resource; resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); "
                       "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env=clean_env(QT_QPA_PLATFORM=name, QT_DEBUG_PLUGINS="1"))
    assert qt.returncode != 0  # no display here: Qt aborts either way
    cannot = re.search(rf"{re.escape(verdict.plugin.name)}: (\S+): cannot open shared object",
                       qt.stderr)
    assert bool(cannot) == bool(plugin_missing), qt.stderr[-2000:]
    if cannot:
        assert cannot.group(1) in plugin_missing
        assert set(plugin_missing) <= set(verdict.missing)
        result = run_checker(QT_QPA_PLATFORM=name, DISPLAY=":0", WAYLAND_DISPLAY="wayland-0")
        assert result.returncode == 1
        packages, _ = qt_platform.debian_packages(verdict.missing)
        assert qt_platform.apt_command(packages, os.geteuid() == 0) in result.stderr


# --- the launcher ------------------------------------------------------------------------

def launcher(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "lancer.sh"), *args],
                          capture_output=True, text=True, timeout=300,
                          env=clean_env(**OFFLINE, **env))


def test_launcher_starts_the_app_with_no_package_index(demo_path, tmp_path):
    shot = tmp_path / "capture.png"
    result = launcher("--db", str(demo_path), "--screenshot", str(shot),
                      XDG_RUNTIME_DIR=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Installation impossible" not in result.stderr
    assert check_screenshot.blank_reasons(check_screenshot.image_stats(shot)) == []


def test_launcher_refuses_before_qt_when_xcb_cannot_start(demo_path, tmp_path):
    """X11 asked for, no display: Qt would abort (rc 134) with an English message."""
    shot = tmp_path / "capture.png"
    result = launcher("--db", str(demo_path), "--screenshot", str(shot),
                      QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=str(tmp_path))
    assert result.returncode == 1
    assert "Aucun écran graphique : la variable DISPLAY est vide" in result.stderr
    assert "qt.qpa" not in result.stderr and not shot.exists()  # Qt never started


def test_screenshot_check_tells_a_blank_image_from_a_window(tmp_path):
    blank = tmp_path / "vide.png"
    Image.new("RGB", (1200, 800), (239, 239, 239)).save(blank)
    stats = check_screenshot.image_stats(blank)
    assert (stats.colours, stats.dominant_share) == (1, 1.0)
    assert len(check_screenshot.blank_reasons(stats)) == 2
    small = tmp_path / "petite.png"
    Image.effect_noise((200, 100), 64).convert("RGB").save(small)
    assert check_screenshot.blank_reasons(check_screenshot.image_stats(small)) == [
        "image trop petite (200 × 100 pixels, au moins 640 × 400 attendus)"]
    result = subprocess.run([PYTHON, str(ROOT / "scripts" / "check_screenshot.py"), str(blank)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "vide.png" in result.stderr


# --- the installer, for real, on a small project ------------------------------------------

SMALL_PROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "suivi-contrats-territoriaux"
version = "0.0.1"
license = "EUPL-1.2"
requires-python = ">=3.11"

[tool.setuptools]
py-modules = ["main"]
"""


def installer(project: Path, offline: bool) -> subprocess.CompletedProcess[str]:
    env = clean_env(**OFFLINE) if offline else clean_env()
    return subprocess.run(["bash", str(project / "scripts" / "installer.sh")],
                          capture_output=True, text=True, timeout=600, env=env)


def small_project(path: Path) -> Path:
    (path / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "installer.sh", path / "scripts")
    (path / "pyproject.toml").write_text(SMALL_PROJECT)
    (path / "main.py").write_text("")
    return path


def stamp_of(project: Path) -> list[str]:
    return (project / ".venv" / ".installation").read_text().split()


def digest(project: Path) -> str:
    return hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()


def test_installer_installs_once_then_needs_no_network(tmp_path):
    project = small_project(tmp_path / "projet")
    first = installer(project, offline=False)
    assert first.returncode == 0, first.stderr + (project / ".venv/installation.log").read_text()
    assert stamp_of(project) == [digest(project), sys.implementation.cache_tag, "base"]
    installed = subprocess.run([str(project / ".venv/bin/python"), "-I", "-c",
                                "from importlib.metadata import version; "
                                "print(version('suivi-contrats-territoriaux'))"],
                               capture_output=True, text=True, check=True)
    assert installed.stdout.strip() == "0.0.1"

    # Already installed: pip does not even run, and nothing is printed.
    log = project / ".venv" / "installation.log"
    log.write_text("")
    again = installer(project, offline=True)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert log.read_text() == ""

    # pyproject.toml changed while offline: the previous install starts, with a warning;
    # the stamp keeps the old digest so that the next launch with a network updates.
    old = digest(project)
    (project / "pyproject.toml").write_text(SMALL_PROJECT.replace("0.0.1", "0.0.2"))
    offline = installer(project, offline=True)
    assert offline.returncode == 0
    assert "Attention" in offline.stderr and "déjà installés" in offline.stderr
    assert stamp_of(project)[0] == old
    assert "setuptools>=77" in log.read_text()  # pip tried, and found no index

    online = installer(project, offline=False)
    assert online.returncode == 0, log.read_text()
    assert stamp_of(project)[0] == digest(project) != old
    installed = subprocess.run(installed.args, capture_output=True, text=True, check=True)
    assert installed.stdout.strip() == "0.0.2"

    # An install made before stamps existed is a previous install too.
    (project / ".venv" / ".installation").unlink()
    (project / "pyproject.toml").write_text(SMALL_PROJECT)
    legacy = installer(project, offline=True)
    assert legacy.returncode == 0 and "Attention" in legacy.stderr


def test_installer_without_network_nor_previous_install_says_what_to_do(tmp_path):
    project = small_project(tmp_path / "neuf")
    result = installer(project, offline=True)
    assert result.returncode == 1
    assert "Installation impossible" in result.stderr
    assert "connexion" in result.stderr and "bash scripts/lancer.sh" in result.stderr
    assert not (project / ".venv" / ".installation").exists()

"""Check, before Qt is loaded, that the system libraries of its platform plugin are there.

    python scripts/qt_platform.py [arguments of main.py]   (run by lancer.sh and tester.sh)
    python scripts/qt_platform.py --paquets                (missing Debian packages, for CI)

When a library of the platform plugin is missing, Qt aborts (SIGABRT, exit code 134) with an
English message that names one library at a time. This check runs ``ldd`` on the plugin that
Qt will pick, on the libraries Qt loads at run time for it and on the Qt modules the
application imports, then prints one ``apt`` command naming every missing Debian package and
exits with 1, without starting Qt. It never imports PySide6: importing QtGui would load the
very libraries in question. Nothing is printed when all is well.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# main.py's sub-commands never load Qt (headless jobs) and the options that take a value:
# keep in step with main._parser(), which is not imported here (it would import SQLAlchemy).
HEADLESS_COMMANDS = frozenset({"demo", "check", "print", "verify", "import", "field",
                               "history", "journal", "backup", "backups", "restore",
                               "deadlines", "envelopes", "scans", "export"})
OPTIONS_WITH_VALUE = frozenset({"--db", "--screenshot", "--view"})

# The Qt modules the application imports, besides the platform plugin: QtPdf brings
# QtNetwork and Kerberos (libgssapi_krb5), which the plugin itself does not need.
APP_MODULES = ("QtWidgets", "QtPrintSupport", "QtPdf", "QtPdfWidgets")

# Libraries that Qt opens with dlopen for a platform, which ldd on the plugin cannot see.
# xcb: since Qt 6.5 the plugin refuses to load without libxcb-cursor (the PyPI wheels link
# it, other builds open it at run time). wayland: the plugin opens a shell integration
# plugin to create windows, xdg-shell being the one every current compositor offers.
RUNTIME_SONAMES = {"xcb": ("libxcb-cursor.so.0",)}
RUNTIME_PLUGINS = {"wayland": ("wayland-shell-integration/libxdg-shell.so",)}

# Debian (and Ubuntu) package of each shared library the Qt plugins and modules need, as
# listed by ldd on PySide6 6.8-6.11. Debian 13 / Ubuntu 24.04 renamed a few of them
# (…t64); apt accepts the old name and picks the new package, so one table serves both.
DEBIAN_PACKAGES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libpng16.so.16": "libpng16-16",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
    "libexpat.so.1": "libexpat1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libffi.so.8": "libffi8",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "liblzma.so.5": "liblzma5",
    "liblz4.so.1": "liblz4-1",
    "libbsd.so.0": "libbsd0",
    "libmd.so.0": "libmd0",
    "libsystemd.so.0": "libsystemd0",
    "libcap.so.2": "libcap2",
    "libgcrypt.so.20": "libgcrypt20",
    "libgpg-error.so.0": "libgpg-error0",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libkrb5.so.3": "libkrb5-3",
    "libk5crypto.so.3": "libk5crypto3",
    "libkrb5support.so.0": "libkrb5support0",
    "libkeyutils.so.1": "libkeyutils1",
    "libcom_err.so.2": "libcom-err2",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libresolv.so.2": "libc6",
}

# Libraries shipped inside the PySide6 wheels: missing, they mean a broken install of
# PySide6, not a missing system package.
BUNDLED_PREFIXES = ("libQt6", "libpyside6", "libshiboken6", "libicu", "libav", "libsw")

# Tag of the current architecture in `ldconfig -p` (it lists other architectures too).
LDCONFIG_ARCH = {"x86_64": "x86-64", "aarch64": "AArch64", "ppc64le": "64bit",
                 "s390x": "64bit", "riscv64": "64bit"}

PLATFORM_LABELS = {"xcb": "X11 (xcb)", "wayland": "Wayland", "offscreen": "hors écran"}


# --- pure functions -------------------------------------------------------------------

def parse_ldd(text: str) -> dict[str, str | None]:
    """Shared objects named in ldd's output, in order: soname -> path, or None if not found.

    Takes the output for one file or for several (then each starts with a "file:" line).
    """
    libraries: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or not raw[:1].isspace():
            continue  # header of a file in multi-file output
        name, arrow, target = line.partition(" => ")
        if not arrow:
            continue  # the vdso and the dynamic loader itself, listed by path
        target = target.strip()
        if target.startswith("not found"):
            libraries.setdefault(name.strip(), None)
        else:
            path = target.split(" (", 1)[0].strip()
            if path:
                libraries[name.strip()] = path
    return libraries


def missing_sonames(libraries: Mapping[str, str | None]) -> list[str]:
    return [name for name, path in libraries.items() if path is None]


def parse_ldconfig(text: str, arch_tag: str | None) -> dict[str, str]:
    """soname -> path from `ldconfig -p`, keeping the entries of one architecture.

    Lines look like "\tlibxcb.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libxcb.so.1";
    32-bit entries say "(libc6)" only. arch_tag None keeps the first entry of each name.
    """
    cache: dict[str, str] = {}
    for raw in text.splitlines():
        name_flags, arrow, path = raw.strip().partition(" => ")
        if not arrow or " (" not in name_flags:
            continue
        name, _, flags = name_flags.partition(" (")
        flags = flags.rstrip(")")
        tags = [tag.strip() for tag in flags.split(",")]
        if arch_tag is not None and arch_tag not in tags:
            continue
        cache.setdefault(name.strip(), path.strip())
    return cache


def gui_requested(argv: list[str]) -> bool:
    """Whether main.py, given these arguments, opens the window (so loads Qt)."""
    expects_value = False
    for argument in argv:
        if expects_value:
            expects_value = False
            continue
        if argument in ("-h", "--help"):
            return False
        if argument.startswith("-"):
            expects_value = argument in OPTIONS_WITH_VALUE
            continue
        return argument not in HEADLESS_COMMANDS
    return True


def screenshot_requested(argv: list[str]) -> bool:
    return any(a == "--screenshot" or a.startswith("--screenshot=") for a in argv)


def platform_candidates(env: Mapping[str, str], argv: list[str]) -> list[str]:
    """The platform plugins Qt will try, in order, as Qt 6.8-6.11 chooses them.

    QT_QPA_PLATFORM wins (a list separated by ";", each with optional ":arguments");
    otherwise wayland first when WAYLAND_DISPLAY is set or the session is a Wayland one,
    with xcb as its fallback, and xcb alone elsewhere (observed with QT_DEBUG_PLUGINS=1
    on PySide6 6.11). desktop/app.py makes a --screenshot run offscreen unless told.
    """
    explicit = env.get("QT_QPA_PLATFORM", "")
    if not explicit and screenshot_requested(argv):
        explicit = "offscreen"
    if explicit:
        names = [part.split(":", 1)[0].strip() for part in explicit.split(";")]
        return [name for name in names if name]
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def family(name: str) -> str:
    """wayland-egl and wayland-brcm are served by the wayland plugin."""
    return "wayland" if name.startswith("wayland") else name


def has_display(name: str, env: Mapping[str, str]) -> bool:
    kind = family(name)
    if kind == "xcb":
        return bool(env.get("DISPLAY"))
    if kind == "wayland":
        runtime = env.get("XDG_RUNTIME_DIR")
        return bool(env.get("WAYLAND_DISPLAY")) or bool(
            runtime and Path(runtime, "wayland-0").exists())
    return True


def is_bundled(soname: str) -> bool:
    return soname.startswith(BUNDLED_PREFIXES)


def debian_packages(sonames: Iterable[str]) -> tuple[list[str], list[str]]:
    """(Debian packages to install, in first-needed order without repeats; sonames that the
    table does not know). Libraries bundled with PySide6 are in neither list."""
    packages: list[str] = []
    unknown: list[str] = []
    for soname in sonames:
        if is_bundled(soname):
            continue
        package = DEBIAN_PACKAGES.get(soname)
        if package is None:
            if soname not in unknown:
                unknown.append(soname)
        elif package not in packages:
            packages.append(package)
    return packages, unknown


def apt_command(packages: Iterable[str], as_root: bool) -> str:
    prefix = "apt install" if as_root else "sudo apt install"
    return " ".join([prefix, *packages])


def plural(count: int, singular: str, plural_form: str) -> str:
    return singular if count == 1 else plural_form


def report(name: str, missing: list[str], display: bool, as_root: bool) -> str:
    """The French message for a platform plugin that cannot start: its missing libraries
    (with the apt command), or the lack of a display."""
    label = PLATFORM_LABELS.get(family(name), name)
    lines: list[str] = []
    if missing:
        packages, unknown = debian_packages(missing)
        bundled = [soname for soname in missing if is_bundled(soname)]
        system = [soname for soname in missing if not is_bundled(soname)]
        lines.append("L'application ne peut pas ouvrir sa fenêtre : il manque "
                     + plural(len(missing), "une bibliothèque", "des bibliothèques")
                     + f" au module d'affichage « {label} » de Qt :")
        lines.append("  " + ", ".join(missing))
        if packages:
            lines.append(plural(len(packages), "Installez le paquet qui la fournit :",
                                "Installez les paquets qui les fournissent :"))
            lines.append("  " + apt_command(packages, as_root))
        if unknown:
            lines.append("Paquet non répertorié pour : " + ", ".join(unknown)
                         + " (la commande « apt-file search NOM » le trouve).")
        if bundled:
            lines.append("Les bibliothèques de Qt fournies avec PySide6 sont incomplètes : "
                         "supprimez le dossier .venv puis relancez bash scripts/lancer.sh "
                         "(une connexion est nécessaire).")
        elif system:
            lines.append("puis relancez : bash scripts/lancer.sh")
    if not display:
        if family(name) == "wayland":
            lines.append("Aucun écran Wayland : la variable WAYLAND_DISPLAY est vide.")
        else:
            lines.append("Aucun écran graphique : la variable DISPLAY est vide (lancez "
                         "l'application depuis la session de bureau, ou pour une capture "
                         "hors écran : bash scripts/lancer.sh --screenshot IMAGE.png).")
    return "\n".join(lines)


def fallback_note(preferred: str, missing: list[str], used: str, as_root: bool) -> str:
    """Qt falls back to the next plugin when the preferred one cannot load, and says so in
    English: say it in French, with what the preferred one needs."""
    packages, _ = debian_packages(missing)
    note = (f"Remarque : faute de {', '.join(missing)}, Qt utilisera l'affichage "
            f"« {PLATFORM_LABELS.get(family(used), used)} » au lieu de "
            f"« {PLATFORM_LABELS.get(family(preferred), preferred)} » (il le signale en "
            "anglais).")
    if packages:
        note += " Pour l'affichage " + PLATFORM_LABELS.get(family(preferred), preferred) \
            + " : " + apt_command(packages, as_root)
    return note


# --- what runs on the machine ---------------------------------------------------------

@dataclass
class Verdict:
    name: str
    plugin: Path | None
    missing: list[str] = field(default_factory=list)
    display: bool = True

    @property
    def usable(self) -> bool:
        return self.plugin is not None and not self.missing and self.display


def pyside_dir() -> Path | None:
    """The installed PySide6 package, found without importing it."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def plugin_dirs(pyside: Path, env: Mapping[str, str]) -> list[Path]:
    """Where Qt looks for platform plugins, in its order: a plugin of PySide6 wins over one
    of the same name in QT_QPA_PLATFORM_PLUGIN_PATH (seen with QT_DEBUG_PLUGINS=1)."""
    extra = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    return [pyside / "Qt" / "plugins" / "platforms", *extra]


def find_plugin(name: str, dirs: list[Path]) -> Path | None:
    files = [f"libq{name}.so"]
    if family(name) == "wayland":
        files.append("libqwayland.so")  # one plugin for all wayland keys since Qt 6.10
    for directory in dirs:
        for file in files:
            if (directory / file).is_file():
                return directory / file
    return None


def run_ldd(files: list[Path]) -> dict[str, str | None]:
    ldd = shutil.which("ldd")
    if ldd is None or not files:
        return {}
    result = subprocess.run([ldd, *map(str, files)], capture_output=True, text=True,
                            check=False)
    return parse_ldd(result.stdout)


def system_library_cache(env: Mapping[str, str]) -> dict[str, str]:
    """soname -> path as the dynamic loader finds it: LD_LIBRARY_PATH, then its cache."""
    found: dict[str, str] = {}
    for directory in env.get("LD_LIBRARY_PATH", "").split(":"):
        if directory and Path(directory).is_dir():
            for entry in Path(directory).iterdir():
                found.setdefault(entry.name, str(entry))
    search = os.pathsep.join([env.get("PATH", ""), "/sbin", "/usr/sbin"])
    ldconfig = shutil.which("ldconfig", path=search)
    if ldconfig is not None:
        result = subprocess.run([ldconfig, "-p"], capture_output=True, text=True,
                                check=False)
        arch = LDCONFIG_ARCH.get(platform.machine())
        for name, path in parse_ldconfig(result.stdout, arch).items():
            found.setdefault(name, path)
    return found


def inspected_files(name: str, plugin: Path, pyside: Path,
                    env: Mapping[str, str]) -> tuple[list[Path], list[str]]:
    """(Files to give ldd for this platform plugin, run-time sonames not found at all)."""
    files = [plugin]
    plugins_root = pyside / "Qt" / "plugins"
    files += [plugins_root / extra for extra in RUNTIME_PLUGINS.get(family(name), ())
              if (plugins_root / extra).is_file()]
    files += [module for module in (next(iter(pyside.glob(f"{m}.*.so")), None)
                                    for m in APP_MODULES) if module is not None]
    absent: list[str] = []
    runtime = RUNTIME_SONAMES.get(family(name), ())
    if runtime:
        cache = system_library_cache(env)
        for soname in runtime:
            if soname in cache:
                files.append(Path(cache[soname]))
            else:
                absent.append(soname)
    return files, absent


def check_platform(name: str, pyside: Path, env: Mapping[str, str]) -> Verdict:
    plugin = find_plugin(name, plugin_dirs(pyside, env))
    verdict = Verdict(name, plugin, display=has_display(name, env))
    if plugin is None:
        return verdict
    files, absent = inspected_files(name, plugin, pyside, env)
    libraries = run_ldd(files)
    verdict.missing = [*missing_sonames(libraries),
                       *(soname for soname in absent if soname not in libraries)]
    return verdict


def verdicts(argv: list[str], env: Mapping[str, str], pyside: Path) -> list[Verdict]:
    """Verdicts of the candidate plugins, stopping at the first one Qt can use."""
    found: list[Verdict] = []
    for name in platform_candidates(env, argv):
        verdict = check_platform(name, pyside, env)
        found.append(verdict)
        if verdict.usable:
            break
    return found


def main(argv: list[str]) -> int:
    env = os.environ
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    list_packages = argv[:1] == ["--paquets"]
    if list_packages:
        argv = argv[1:]
    elif not gui_requested(argv):
        return 0
    pyside = pyside_dir()
    if pyside is None:
        print("PySide6 n'est pas installé dans cet environnement Python : lancez "
              "bash scripts/installer.sh (une connexion est nécessaire).", file=sys.stderr)
        return 1
    if shutil.which("ldd") is None:
        return 0  # nothing to check with: Qt will say what it lacks
    found = verdicts(argv, env, pyside)
    if list_packages:
        missing = [soname for verdict in found for soname in verdict.missing]
        packages, unknown = debian_packages(missing)
        if packages:
            print(" ".join(packages))
        if unknown:
            print("Paquet non répertorié pour : " + ", ".join(unknown), file=sys.stderr)
        return 1 if unknown else 0
    if found and found[-1].usable:
        skipped = [verdict for verdict in found[:-1] if verdict.missing and verdict.display]
        if skipped:
            print(fallback_note(skipped[0].name, skipped[0].missing, found[-1].name, as_root),
                  file=sys.stderr)
        return 0
    located = [verdict for verdict in found if verdict.plugin is not None]
    if not located:
        names = ", ".join(verdict.name for verdict in found)
        present = sorted({path.name[len("libq"):-len(".so")]
                          for directory in plugin_dirs(pyside, env)
                          for path in directory.glob("libq*.so")})
        print(f"Module d'affichage de Qt introuvable : « {names} » (variable QT_QPA_PLATFORM). "
              f"Modules présents : {', '.join(present)}.", file=sys.stderr)
        return 1
    # Installing the libraries of the preferred plugin is what the user should do; the
    # display line only matters when no candidate has one.
    lacking = next((verdict for verdict in located if verdict.missing), located[0])
    display = any(verdict.display for verdict in located)
    print(report(lacking.name, lacking.missing, display, as_root), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

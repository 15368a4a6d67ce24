"""Refresh vendor/solara-cdn/: the front-end files that Solara's page would load from a CDN.
The wheel installs them into the environment's share/solara/cdn/, the folder from which
Solara's server serves them, so the app works offline.

Run it with npm on the PATH after upgrading solara, with the versions below set to those that
``test_every_front_end_file_solara_asks_for_is_installed`` (tests/test_app.py) names:

    uv run python vendor/update_solara_cdn.py
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

CDN = Path(__file__).resolve().parent / "solara-cdn"

SOLARA_APP = "@widgetti/solara-vuetify3-app@5.2.0"
PACKAGES = {
    SOLARA_APP: (
        "package.json",
        "dist/main8.css",
        "dist/fonts.css",
        "dist/*.woff2",
        "dist/*solara-vuetify-app8.min.js",
        "dist/solara-vuetify-app8.min.js.LICENSE.txt",
        ("dist/solara-vuetify-app8.min.js", "dist/solara-vuetify-app8.js"),
    ),
    "requirejs@2.3.6": ("package.json", "require.js"),
    "font-awesome@4.5.0": ("README.md", "css/font-awesome.min.css", "fonts/*.woff2"),
    "echarts@5.4.0": ("LICENSE", "NOTICE", ("dist/echarts.min.js", "dist/echarts.js")),
}
"""npm package -> the files the page uses: a glob, or (file, name to serve it under). Browsers
that read woff2 never ask for older font formats. Solara's development mode asks for the
unminified app bundle and its echarts component for echarts.js: the minified build of the same
code is served under those names (5 MB instead of 17 MB)."""


def fetch(package: str, into: Path) -> None:
    """The files of ``package`` listed in PACKAGES, from the npm registry into ``into``."""
    with tempfile.TemporaryDirectory() as tmp:
        npm = ["npm", "pack", package, "--pack-destination", tmp, "--silent"]
        subprocess.run(npm, check=True, stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp, filter="data")
        unpacked = Path(tmp, "package")
        for wanted in PACKAGES[package]:
            pattern, served_as = wanted if isinstance(wanted, tuple) else (wanted, None)
            sources = sorted(unpacked.glob(pattern))
            if not sources:
                raise SystemExit(f"{package} has no {pattern}")
            for source in sources:
                target = into / package / (served_as or source.relative_to(unpacked))
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


def main() -> None:
    staging = CDN.with_name(f"{CDN.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    for package in PACKAGES:
        fetch(package, staging)
    shutil.rmtree(CDN, ignore_errors=True)
    staging.rename(CDN)
    size = sum(path.stat().st_size for path in CDN.rglob("*") if path.is_file())
    print(f"{CDN}: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

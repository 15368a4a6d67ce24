"""The teaching notebooks are committed clean: no outputs, no execution counts, a python3 kernel.

nbmake executes them as part of the suite (pyproject: ``--nbmake``, testpaths include
``notebooks``); this file only checks what is stored in git. To clear a notebook after working
in it: ``uv run --with nbconvert jupyter nbconvert --clear-output --inplace notebooks/NAME.ipynb``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = (
    "01_quickstart.ipynb",
    "02_structures.ipynb",
    "03_sanshe.ipynb",
    "04_decentralisation.ipynb",
    "05_shocks.ipynb",
    "06_validation.ipynb",
)


def stored_notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_the_six_lesson_notebooks_exist():
    names = {p.name for p in stored_notebooks()}
    missing = [name for name in EXPECTED if name not in names]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    kernelspec = notebook.get("metadata", {}).get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec must be python3"
    assert kernelspec.get("language", "python") == "python"
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name}, cell {number}: clear its outputs"
        assert cell.get("execution_count") is None, (
            f"{path.name}, cell {number}: clear its execution count"
        )

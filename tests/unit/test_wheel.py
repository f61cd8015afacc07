"""The installable tool: a wheel built from the checkout, installed into a fresh venv elsewhere, judges from there."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_the_wheel_installed_outside_the_checkout_runs_a_quick_judgement(tmp_path: Path) -> None:
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("accounting_conformance-*.whl"))
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python, tool = tmp_path / "venv" / "bin" / "python", tmp_path / "venv" / "bin" / "conformance"
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]
    where = _run(
        [
            str(python),
            "-c",
            "import accounting_conformance.conformance as c, accounting_conformance.suite as s;"
            "print(c.__file__); print(s.__file__)",
        ],
        cwd=tmp_path,
    )
    assert where.returncode == 0 and all(line.startswith(str(tmp_path / "venv")) for line in where.stdout.split()), (
        where
    )
    assert _run([str(tool), "--version"], cwd=tmp_path).stdout.startswith("conformance ")
    judged = _run(
        [str(tool), "--profile", "quick", "--seed", "1", "--report-dir", str(tmp_path / "reports")], cwd=tmp_path
    )
    assert judged.returncode == 0, judged.stdout[-3000:] + judged.stderr[-2000:]
    assert "conformance: exit 0 (conformant: 21/21 operations, " in judged.stderr + judged.stdout
    assert (tmp_path / "reports" / "summary.json").is_file()

"""`conformance matrix` and `conformance merge`: the matrix file is checked whole before anything runs, each target
runs as its own process with its token in its environment, the matrix has a row per target and a column per rule,
a merge of the runs' directories gives the same matrix, and --compare fails on any cell that got worse."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from accounting_conformance.conformance import matrix, matrix_merge, matrix_render, selftest_runs
from accounting_conformance.conformance.matrix_merge import CANNOT, MatrixError, build, compare, row
from accounting_conformance.conformance.rules import RULES
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, REPO, SETTINGS

TOKEN = "tok-MATRIX-RECOGNISABLE-5c2e"
HOSTILE = "<script>alert(1)</script>|*x*"
SEED = 7


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[matrix.Entry]:
    return matrix.load_matrix(_file(tmp_path, text), environ or {}, SEED)


def _refused(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(MatrixError) as caught:
        _load(tmp_path, text, environ)
    return str(caught.value)


def _summary(cells: dict[str, str], code: int = 1, line: str = "") -> dict[str, Any]:
    """A summary.json as a finished run writes it, with a status per rule (rules left out: not exercised)."""
    verdict = {0: "conformant", 1: "violations", 2: "suite error"}[code]
    rules = [
        {"id": r.id, "family": r.family, "statement": r.statement, "status": cells.get(r.id, "not exercised")}
        for r in RULES
    ]
    judged = [r for r in rules if r["status"] in ("passed", "failed", "accepted")]
    passed = sum(r["status"] == "passed" for r in judged)
    percent = round(100 * passed / len(judged), 1) if judged else None
    overall = {"passed": passed, "judged": len(judged), "percent": percent}
    settings = {"platform": None, "profile": "quick", "seed": SEED, "access_token": "***"}
    return {"verdict": verdict, "exit_code": code, "verdict_line": line or verdict, "score": {"overall": overall}} | {
        "rules": rules,
        "settings": settings,
    }


CANNOT_SUMMARY = {
    "verdict": "could not judge",
    "exit_code": 2,
    "verdict_line": "could not judge: target unreachable",
    "reason": "target unreachable",
    "settings": None,
}


def _dir(parent: Path, name: str, data: dict[str, Any]) -> Path:
    directory = parent / name
    directory.mkdir(parents=True)
    (directory / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    return directory


def _three(parent: Path) -> list[Path]:
    return [
        _dir(parent, "clean", _summary({"AUTH-001": "passed", "APPLY-001": "passed"}, code=0)),
        _dir(parent, "faulty", _summary({"AUTH-001": "passed", "APPLY-001": "failed", "WRITE-001": "accepted"})),
        _dir(parent, "down", CANNOT_SUMMARY),
    ]


def _without_timings(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in data.items() if k not in ("seconds", "runs_seconds")}
    data["targets"] = [{k: v for k, v in t.items() if k != "seconds"} for t in data["targets"]]
    return data


# ------------------------------------------------------------------------------------------- the matrix file


def test_each_target_gets_the_top_level_defaults_its_own_keys_and_inputs_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "fx.json").write_text("{}")
    entries = _load(
        tmp_path,
        'profile = "quick"\nseed = 3\n'
        '[[target]]\nname = "qbo"\ntarget = "https://sandbox.example.com/qbo"\ntoken_env = "QBO_TOKEN"\n'
        'fixtures = "fx.json"\nplatform = "quickbooks"\nfeatures = { async_jobs = false, deletes = true }\n'
        '[[target]]\nname = "ref"\nprofile = "default"\nfault = "remaining-not-lowered"\n'
        'pytest_args = ["-k", "test_writes"]\nunclaimed = ["async_jobs"]\ntimeout = 60\n',
        {"QBO_TOKEN": TOKEN},
    )
    qbo, ref = entries
    assert qbo.settings["FIXTURES"] == str(tmp_path / "fx.json") and qbo.settings["UNCLAIMED"] == "async_jobs"
    assert (qbo.profile, qbo.seed, qbo.token_env, qbo.settings["PLATFORM"]) == ("quick", 3, "QBO_TOKEN", "quickbooks")
    assert (ref.profile, ref.seed, ref.faults, ref.pytest_args) == (
        "default",
        3,
        ("remaining-not-lowered",),
        ("-k", "test_writes"),
    )
    assert ref.timeout == 60 and "TARGET" not in ref.settings


def test_without_a_seed_every_target_runs_with_the_one_drawn_for_the_matrix(tmp_path: Path) -> None:
    entries = _load(tmp_path, '[[target]]\nname = "a"\n[[target]]\nname = "b"\n')
    assert [e.seed for e in entries] == [SEED, SEED] and [e.profile for e in entries] == ["default", "default"]


def test_a_target_reads_the_profile_and_seed_of_its_config_file_unless_the_matrix_gives_them(tmp_path: Path) -> None:
    (tmp_path / "ref.toml").write_text('profile = "quick"\nseed = 11\n')
    (only,) = _load(tmp_path, '[[target]]\nname = "a"\nconfig = "ref.toml"\n')
    assert (only.profile, only.seed, only.settings["CONFIG"]) == ("quick", 11, str(tmp_path / "ref.toml"))
    (given,) = _load(tmp_path, '[[target]]\nname = "a"\nconfig = "ref.toml"\nseed = 2\n')
    assert given.seed == 2


@pytest.mark.parametrize("key", ["access_token", "token", "basic_auth"])
def test_a_secret_written_in_the_matrix_file_is_refused_and_never_repeated(tmp_path: Path, key: str) -> None:
    said = _refused(tmp_path, f'[[target]]\nname = "a"\n{key} = "{TOKEN}"\n')
    assert f"{key} may not be written in the matrix file" in said and "token_env" in said and TOKEN not in said


def test_token_env_holding_a_token_instead_of_a_variable_name_is_refused_and_never_repeated(tmp_path: Path) -> None:
    said = _refused(tmp_path, f'[[target]]\nname = "a"\ntoken_env = "{TOKEN}"\n')
    assert "token_env must name an environment variable" in said and TOKEN not in said


def test_a_missing_token_variable_or_a_target_without_one_is_refused(tmp_path: Path) -> None:
    fixtures = f'fixtures = "{DEFAULT_FIXTURES}"\n'
    said = _refused(
        tmp_path, f'[[target]]\nname = "a"\ntarget = "https://x.example.com"\ntoken_env = "NOPE"\n{fixtures}'
    )
    assert "names the environment variable NOPE, which is not set" in said
    said = _refused(tmp_path, f'[[target]]\nname = "a"\ntarget = "https://x.example.com"\n{fixtures}')
    assert "a target needs its token: give token_env" in said


def test_every_problem_of_every_target_is_listed_at_once(tmp_path: Path) -> None:
    said = _refused(
        tmp_path,
        '[[target]]\nname = "a"\ncolour = "red"\n'
        '[[target]]\nname = "A"\n'
        '[[target]]\nname = "../up"\n'
        '[[target]]\nname = "b"\ntarget = "https://x.example.com"\ntoken_env = "T"\nfault = "remaining-not-lowered"\n'
        f'fixtures = "{DEFAULT_FIXTURES}"\n'
        '[[target]]\nname = "c"\nfault = "no-such-fault"\n'
        '[[target]]\nname = "d"\nprofile = "slow"\n'
        '[[target]]\nname = "e"\nfeatures = { teleport = false }\n',
        {"T": TOKEN},
    )
    lines = said.splitlines()
    assert len(lines) == 7, said
    assert "unknown key 'colour'" in lines[0] and "already used by [[target]] 'a'" in lines[1]
    assert "name must be a directory name" in lines[2] and "fault only applies to the embedded" in lines[3]
    assert "unknown fault 'no-such-fault'" in lines[4] and "PROFILE must be one of" in lines[5]
    assert "unknown feature(s) teleport" in lines[6]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "no targets"),
        ("[[target]\n", "not a readable TOML file"),
        ('name = "x"\n[[target]]\nname = "a"\n', "name belongs in each [[target]]"),
        ('[[target]]\nname = "a"\nreport_dir = "x"\n', "report_dir is the matrix's"),
        ('[[target]]\nname = "a"\nseed = "x"\n', "SEED must be a non-negative whole number"),
        ('[[target]]\nname = "a"\npytest_args = "-k x"\n', "pytest_args must be a list of text"),
        ('[[target]]\nname = "a"\npytest_args = [1]\n', "pytest_args must be a list of text"),
        ('[[target]]\nname = "a"\ntimeout = -1\n', "timeout must be a number of seconds above 0"),
        ('[[target]]\nname = "a"\nfeatures = { deletes = false }\nunclaimed = "deletes"\n', "features or unclaimed"),
        ('[[target]]\nname = "matrix.json"\n', "name must be a directory name"),
        ('[[target]]\nname = "a"\nplatform = { x = 1 }\n', "must be text, a number, a boolean"),
    ],
)
def test_a_bad_matrix_file_says_what_to_fix(tmp_path: Path, text: str, said: str) -> None:
    assert said in _refused(tmp_path, text)


def test_a_bad_matrix_file_exits_2_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*args: object) -> tuple[int, float]:
        raise AssertionError("nothing may run")

    monkeypatch.setattr(selftest_runs, "run_process", never)
    path = _file(tmp_path, '[[target]]\nname = "a"\nfault = "nope"\n')
    assert matrix.main([str(path), "--report-dir", str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert "conformance matrix: " in err and "unknown fault 'nope'" in err
    assert out.splitlines()[-1] == "conformance matrix: exit 2 (could not judge)" and not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------- running


def test_a_run_gets_its_settings_and_token_in_its_environment_and_none_of_this_processs(tmp_path: Path) -> None:
    (entry,) = _load(
        tmp_path,
        f'[[target]]\nname = "a"\ntarget = "https://x.example.com"\ntoken_env = "T"\nfixtures = "{DEFAULT_FIXTURES}"\n'
        'seed = 4\npytest_args = ["-k", "test_writes"]\n',
        {"T": TOKEN},
    )
    environ = {
        "T": TOKEN,
        "TARGET": "https://elsewhere",
        "PROFILE": "thorough",
        "GITHUB_STEP_SUMMARY": "/x",
        "HOME": "/h",
    }
    env = matrix.child_env(entry, environ)
    assert env["ACCESS_TOKEN"] == TOKEN and env["TARGET"] == "https://x.example.com" and env["HOME"] == "/h"
    assert "PROFILE" not in env and "GITHUB_STEP_SUMMARY" not in env
    command = matrix.command(entry, tmp_path / "out" / "a")
    assert TOKEN not in " ".join(command) and "--access-token" not in command
    assert command[-3:] == ["--", "-k", "test_writes"] and command[command.index("--seed") + 1] == "4"


def _fake_runs(monkeypatch: pytest.MonkeyPatch, seen: list[dict[str, Any]], hold: float = 0.2) -> None:
    """run_process stand-in: writes the summary a run against each fault would, and counts runs at once."""
    lock, live = threading.Lock(), [0]

    def fake(command: list[str], cwd: Path, log: Path, timeout: float, env: dict[str, str]) -> tuple[int | None, float]:
        with lock:
            live[0] += 1
            seen.append({"command": command, "env": env, "live": live[0]})
        time.sleep(hold)
        faults = [command[i + 1] for i, arg in enumerate(command) if arg == "--fault"]
        log.write_text("conformance: could not judge: the run crashed\n")
        with lock:
            live[0] -= 1
        if "crash" in command:
            return 2, hold
        code = 1 if faults else 0
        data = _summary({"APPLY-001": "failed" if faults else "passed"}, code=code)
        (cwd / "summary.json").write_text(json.dumps(data))
        return code, hold

    monkeypatch.setattr(selftest_runs, "run_process", fake)


def test_the_matrix_runs_each_target_at_most_jobs_at_once_and_exits_with_the_worst(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[dict[str, Any]] = []
    _fake_runs(monkeypatch, seen)
    monkeypatch.setenv("T", TOKEN)
    path = _file(
        tmp_path,
        'profile = "quick"\n[[target]]\nname = "clean"\ntoken_env = "T"\n'
        '[[target]]\nname = "faulty"\nfault = "remaining-not-lowered"\n[[target]]\nname = "third"\n',
    )
    out = tmp_path / "out"
    assert matrix.main([str(path), "--jobs", "2", "--report-dir", str(out)]) == 1
    assert len(seen) == 3 and max(s["live"] for s in seen) == 2
    assert [s["env"].get("ACCESS_TOKEN") for s in seen].count(TOKEN) == 1
    data = json.loads((out / "matrix.json").read_text())
    assert [t["name"] for t in data["targets"]] == ["clean", "faulty", "third"]
    assert [t["cells"]["APPLY-001"] for t in data["targets"]] == ["passed", "failed", "passed"]
    assert data["exit_code"] == 1 and data["seconds"] > 0 and data["runs_seconds"] == pytest.approx(0.6)
    printed = capsys.readouterr().out
    assert "faulty: exit 1 (violations); failed: APPLY-001" in printed and TOKEN not in printed
    assert printed.splitlines()[-1] == "conformance matrix: exit 1 (violations found)"


def test_a_run_that_left_no_summary_is_a_row_that_could_not_judge_in_the_matrix_and_its_merge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[dict[str, Any]] = []
    _fake_runs(monkeypatch, seen, hold=0)
    path = _file(tmp_path, '[[target]]\nname = "ok"\n[[target]]\nname = "broken"\npytest_args = ["crash"]\n')
    out = tmp_path / "out"
    assert matrix.main([str(path), "--report-dir", str(out)]) == 2
    broken = json.loads((out / "matrix.json").read_text())["targets"][0]
    assert broken["name"] == "broken" and set(broken["cells"].values()) == {CANNOT}
    assert "exit 2, the run crashed" in broken["verdict_line"]
    assert matrix_merge.main([str(out / "ok"), str(out / "broken"), "--out", str(tmp_path / "merged")]) == 2
    merged = json.loads((tmp_path / "merged" / "matrix.json").read_text())
    assert _without_timings(merged) == _without_timings(json.loads((out / "matrix.json").read_text()))


# ------------------------------------------------------------------------------------------- merging


def test_merge_makes_a_row_per_directory_named_after_it_and_a_column_per_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = _three(tmp_path / "runs")
    assert matrix_merge.main([*map(str, dirs), "--out", str(tmp_path / "m")]) == 2  # the worst: could not judge
    data = json.loads((tmp_path / "m" / "matrix.json").read_text())
    assert [r["id"] for r in data["rules"]] == [r.id for r in RULES]
    clean, down, faulty = data["targets"]  # sorted by name
    assert (clean["name"], clean["exit_code"], clean["cells"]["APPLY-001"], clean["score"]["percent"]) == (
        "clean",
        0,
        "passed",
        100.0,
    )
    assert faulty["cells"]["APPLY-001"] == "failed" and faulty["cells"]["WRITE-001"] == "accepted"
    assert faulty["cells"]["MONEY-001"] == "not exercised" and faulty["failed"] == ["APPLY-001"]
    assert set(down["cells"].values()) == {CANNOT} and down["score"] is None and down["reason"] == "target unreachable"
    assert capsys.readouterr().out.splitlines()[-1] == "conformance merge: exit 2 (could not judge)"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "no summary.json here"),
        ("{not json", "not a readable summary"),
        ('["a list"]', "not a conformance summary"),
    ],
)
def test_merge_refuses_a_directory_without_a_readable_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, said: str
) -> None:
    (tmp_path / "odd").mkdir()
    if content is not None:
        (tmp_path / "odd" / "summary.json").write_text(content)
    assert matrix_merge.main([str(tmp_path / "odd"), "--out", str(tmp_path / "m")]) == 2
    assert said in capsys.readouterr().err and not (tmp_path / "m").exists()


def test_merge_refuses_two_directories_of_one_name_and_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _dir(tmp_path / "one", "same", CANNOT_SUMMARY)
    b = _dir(tmp_path / "two", "same", CANNOT_SUMMARY)
    assert matrix_merge.main([str(a), str(b)]) == 2
    assert "are both named 'same'" in capsys.readouterr().err
    assert matrix_merge.main([str(a / "summary.json")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_odd_summaries_make_rows_without_crashing() -> None:
    odd = {"verdict": "violations", "rules": [{"id": "X-1", "status": 3}, "junk", {"no": "id"}], "score": "high"}
    matrix_data = build([row("odd", odd, None), row("old", {"verdict": "conformant", "rules": "x"}, 1.0)], None)
    odd_row, old_row = matrix_data["targets"]
    assert odd_row["exit_code"] == 1 and odd_row["cells"]["X-1"] == "not exercised"
    assert old_row["exit_code"] == 0 and matrix_data["rules"][-1]["id"] == "X-1"
    assert matrix_render.terminal(matrix_data) and matrix_render.markdown(matrix_data)


# ------------------------------------------------------------------------------------------- compare


def _matrix(**cells: str) -> dict[str, Any]:
    return build([row("t", _summary(cells, code=1 if "failed" in cells.values() else 0), 1.0)], None)


@pytest.mark.parametrize(
    ("before", "now", "worse"),
    [
        ("passed", "failed", True),
        ("not exercised", "accepted", True),
        ("accepted", "failed", True),
        ("failed", CANNOT, True),
        ("failed", "passed", False),
        ("not claimed", "passed", False),
        ("passed", "not exercised", False),
        ("accepted", "accepted", False),
    ],
)
def test_compare_marks_a_cell_worse_only_when_it_fell_in_the_order(before: str, now: str, worse: bool) -> None:
    old = _matrix(**{"APPLY-001": before}) if before != CANNOT else build([row("t", CANNOT_SUMMARY, None)], None)
    new = _matrix(**{"APPLY-001": now}) if now != CANNOT else build([row("t", CANNOT_SUMMARY, None)], None)
    compare(new, old, "old.json")
    marked = [w for w in new["compare"]["worse"] if w["rule"] == "APPLY-001"]
    assert bool(marked) is worse
    if worse:
        assert marked == [{"target": "t", "rule": "APPLY-001", "before": before, "now": now}]
        assert new["targets"][0]["worse"]["APPLY-001"] == before and new["exit_code"] >= 1


def test_compare_fails_a_conformant_matrix_on_a_worse_cell_and_keeps_a_worse_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = build([row("clean", _summary({"AUTH-001": "passed"}, code=0), None)], None)
    (tmp_path / "old.json").write_text(json.dumps(old))
    now = _dir(tmp_path / "runs", "clean", _summary({"AUTH-001": "accepted"}, code=0))
    new = _dir(tmp_path / "runs", "newcomer", _summary({"AUTH-001": "failed"}))
    assert matrix_merge.main([str(now), "--compare", str(tmp_path / "old.json"), "--out", str(tmp_path / "a")]) == 1
    printed = capsys.readouterr().out
    assert "WORSE clean AUTH-001: passed -> accepted" in printed
    assert printed.splitlines()[-1].startswith("conformance merge: exit 1 (conformant; 1 cell worse than ")
    assert matrix_merge.main([str(new), "--compare", str(tmp_path / "old.json"), "--out", str(tmp_path / "b")]) == 1
    data = json.loads((tmp_path / "b" / "matrix.json").read_text())
    assert data["compare"]["worse"] == [] and data["compare"]["new_targets"] == ["newcomer"]
    assert data["compare"]["gone_targets"] == ["clean"]
    down = _dir(tmp_path / "runs2", "clean", CANNOT_SUMMARY)
    assert matrix_merge.main([str(down), "--compare", str(tmp_path / "old.json"), "--out", str(tmp_path / "c")]) == 2


@pytest.mark.parametrize("content", ["{", '{"targets": [{"name": 1}]}', "[]"])
def test_compare_refuses_an_old_file_that_is_no_matrix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    (tmp_path / "old.json").write_text(content)
    (clean,) = _three(tmp_path / "runs")[:1]
    assert matrix_merge.main([str(clean), "--compare", str(tmp_path / "old.json")]) == 2
    assert "--compare" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- rendering


def test_the_markdown_has_a_row_per_target_a_column_per_rule_and_escapes_what_runs_said() -> None:
    data = build(
        [row(HOSTILE, _summary({"APPLY-001": "failed"}, line=HOSTILE), 2.0), row("b", CANNOT_SUMMARY, None)], 3.0
    )
    text = matrix_render.markdown(data)
    table = [line for line in text.splitlines() if line.startswith("| target | SCHEMA-001")]
    assert len(table) == 1 and table[0].count(" | ") == len(RULES)
    rows = [line for line in text.splitlines() if line.startswith("| &lt;script&gt;")]
    assert len(rows) == 2 and all(r.count(" | ") in (len(RULES), 4) for r in rows)
    assert "<script>" not in text and "\\|\\*x\\*" in text and "3.0 s for the matrix" in text


def test_the_html_escapes_names_and_verdict_lines_and_links_each_targets_report() -> None:
    data = build([row(HOSTILE, _summary({"APPLY-001": "failed"}, line=HOSTILE), 2.0)], None)
    old = build([row(HOSTILE, _summary({"APPLY-001": "passed"}, code=0), 2.0)], None)
    compare(data, old, "<old>.json")
    page = matrix_render.render_html(data, {HOSTILE: "x/report.html"})
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="x/report.html"' in page and "cell failed worse" in page and "&lt;old&gt;.json" in page


def test_the_terminal_shows_a_character_per_rule_and_strips_control_characters() -> None:
    data = build([row("t\x1b[31m", _summary({"AUTH-001": "failed", "APPLY-001": "accepted"}), 1.5)], 2.0)
    lines = matrix_render.terminal(data)
    (line,) = [line for line in lines if line.startswith("  t?[31m ")]
    grid = line.split("1.5 s  ", 1)[1]
    assert grid.replace(" ", "") == "".join(
        {"AUTH-001": "F", "APPLY-001": "A"}.get(r.id, ".") for r in RULES
    ) and "\x1b" not in "".join(lines)


# ------------------------------------------------------------------------------------------- the workflow example

WORKFLOW = REPO / ".github" / "workflows" / "conformance-matrix-example.yml"


def test_the_workflow_judges_each_platform_in_its_job_and_merges_their_artifacts_in_a_last_job() -> None:
    document = yaml.safe_load(WORKFLOW.read_text())
    judge, merge = document["jobs"]["judge"], document["jobs"]["matrix"]
    assert judge["strategy"]["matrix"]["include"] and judge["strategy"]["fail-fast"] is False
    (step,) = [s for s in judge["steps"] if str(s.get("run", "")).strip() == "conformance"]
    assert re.fullmatch(r"\$\{\{ secrets\[matrix\.\w+\] \}\}", step["env"]["ACCESS_TOKEN"])
    assert set(step["env"]) <= {spec.env for spec in SETTINGS} and "CONFIG" in step["env"]
    (upload,) = [s for s in judge["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert upload["with"]["name"] == "${{ matrix.platform }}" and upload["with"]["path"] == step["env"]["REPORT_DIR"]
    assert merge["needs"] == "judge" and merge["if"] == "always()"
    assert any(str(s.get("uses", "")).startswith("actions/download-artifact") for s in merge["steps"])
    assert any(
        "conformance merge runs/*/" in str(s.get("run", "")) and "--compare" in str(s.get("run", ""))
        for s in merge["steps"]
    )
    for job in document["jobs"].values():
        for s in job["steps"]:
            run = str(s.get("run", ""))
            assert "${{" not in run, f"an expression in a run: line is pasted into the script: {run!r}"
            assert "make " not in run and "ACCESS_TOKEN" not in run and "secrets" not in run


# ------------------------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_a_matrix_of_the_reference_server_and_two_faults_finds_each_fault_and_merges_to_the_same_matrix(
    tmp_path: Path,
) -> None:
    path = _file(
        tmp_path,
        'profile = "quick"\nseed = 1\npytest_args = ["-k", "test_writes or test_applications"]\n'
        '[[target]]\nname = "clean"\ntoken_env = "MATRIX_TEST_TOKEN"\n'
        '[[target]]\nname = "remaining-not-lowered"\nfault = "remaining-not-lowered"\n'
        '[[target]]\nname = "over-application-accepted"\nfault = "over-application-accepted"\n',
    )
    names = {spec.env for spec in SETTINGS} | {"GITHUB_STEP_SUMMARY"}
    env = {k: v for k, v in os.environ.items() if k not in names} | {"MATRIX_TEST_TOKEN": TOKEN}
    out = tmp_path / "reports"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    done = run("accounting_conformance.conformance.matrix", str(path), "--report-dir", str(out))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "conformance matrix: exit 1 (violations found)"
    data = json.loads((out / "matrix.json").read_text())
    failed = {t["name"]: set(t["failed"]) for t in data["targets"]}
    assert failed["clean"] == set() and failed["over-application-accepted"] == {"APPLY-002"}
    assert {"APPLY-001", "WRITE-003"} <= failed["remaining-not-lowered"]
    assert [t["exit_code"] for t in data["targets"]] == [0, 1, 1]  # by name: clean, over-..., remaining-...
    assert data["seconds"] > 0 and data["runs_seconds"] > 0
    for file in [*out.rglob("*.json"), *out.rglob("*.log"), *out.rglob("*.md"), *out.rglob("*.html")]:
        assert TOKEN not in file.read_text(errors="replace"), file
    assert TOKEN not in done.stdout + done.stderr
    merged = run(
        "accounting_conformance.conformance.matrix_merge",
        *(str(out / t["name"]) for t in reversed(data["targets"])),
        "--out",
        str(tmp_path / "merged"),
    )
    assert merged.returncode == 1, merged.stderr[-2000:]
    again = json.loads((tmp_path / "merged" / "matrix.json").read_text())
    assert _without_timings(again) == _without_timings(data)

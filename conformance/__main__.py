"""`conformance` (or `python -m accounting_conformance.conformance`): judge a target against the contract.
Exit 0 conformant, 1 violations, 2 could not judge."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from importlib.metadata import version

import pytest

from accounting_conformance.conformance import interruption, kinds, report
from accounting_conformance.conformance.baseline import BaselineError
from accounting_conformance.conformance.client import ApiClient, TargetUnreachable
from accounting_conformance.conformance.embedded import EmbeddedServer
from accounting_conformance.conformance.plugin import ConformancePlugin
from accounting_conformance.conformance.progress import ProgressLine, wanted
from accounting_conformance.conformance.resources import suite_path
from accounting_conformance.conformance.settings import SETTINGS, Settings, SettingsError, resolve

CONFORMANT, VIOLATIONS, CANNOT_JUDGE = 0, 1, 2
VERDICTS = {CONFORMANT: "conformant", VIOLATIONS: "violations found", CANNOT_JUDGE: "could not judge"}
SUITE_ERROR = "suite error"  # exit 2 too: the run is incomplete, through a bug of ours
EPILOG = (
    "Every option may instead come from the environment variable in its brackets (command line > environment > "
    "--config file > default); keep secrets there. The last line says the exit code and the verdict. "
    "`conformance replay FILE --target URL` re-sends a recording of a failing test (reports/recordings/*.har) and "
    "judges it again (conformance replay --help); `conformance matrix FILE` judges many targets at once and "
    "`conformance merge DIR ...` merges report directories into one matrix (--help of each)."
)


def parser() -> argparse.ArgumentParser:
    """The command line: one option per declared setting, each also read from the environment name in its help."""
    p = argparse.ArgumentParser(prog="conformance", description=__doc__, epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"%(prog)s {version('accounting-conformance')}")
    for spec in SETTINGS:
        p.add_argument(spec.option, dest=spec.name, metavar=spec.metavar, help=spec.help_line().replace("%", "%%"))
    # Hidden: start the embedded reference server with a deliberate bug (reference_server/faults.py),
    # for `python -m conformance.selftest`. Ignored with --target.
    p.add_argument("--fault", action="append", default=[], help=argparse.SUPPRESS)
    p.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    return p


def preflight(settings: Settings) -> str | None:
    """One request to see that the target answers and takes the token; the reason if it does not."""
    client = ApiClient(settings)
    try:
        exchange = client.request("GET", kinds.get("invoice_credit_memo").path, params={"limit": 1})
    except TargetUnreachable as exc:
        return f"target unreachable: {exc}"
    except SettingsError as exc:  # ACCESS_TOKEN_COMMAND, run again after a 401, failed
        return str(exc)
    finally:
        client.close()
    if exchange.error and not exchange.status:  # an answer that is merely bad is for the tests to judge
        return f"target did not answer: {exchange.error}"
    if exchange.status == 401:
        what = "the token ACCESS_TOKEN_COMMAND printed" if settings.access_token_command else "ACCESS_TOKEN"
        where = " in an Authorization: Bearer header (TOKEN_IN=bearer)" if settings.token_in == "bearer" else ""
        return f"the target rejected {what}{where} (401): pass the token of a connection on that target"
    return None


def run(settings: Settings, pytest_args: Sequence[str] = ()) -> tuple[int, str]:
    """Run the conformance tests against settings.target; our exit code for pytest's outcome, and its verdict."""
    try:
        plugin = ConformancePlugin(settings)
    except BaselineError as exc:
        return _cannot_judge(exc)
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    args = [
        str(suite_path()),
        # the same configuration installed or in a checkout: none read from files, the strict settings given here
        "-c",
        os.devnull,
        "--rootdir",
        str(suite_path()),
        "-p",
        "no:cacheprovider",
        "--strict-markers",
        "--strict-config",
        "-o",
        "xfail_strict=true",
        "-W",
        "error",
        # the run imports schemathesis before pytest starts, so assertion rewriting cannot reach it
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        f"--junitxml={settings.report_dir / 'junit.xml'}",
        f"--hypothesis-seed={settings.seed}",
        "-q",
        "--tb=short",
        "-rN",
        *pytest_args,
    ]
    progress = ProgressLine(sys.stdout, enabled=wanted(sys.stdout, os.environ))  # takes the terminal now
    code = pytest.main(args, plugins=[plugin, progress])
    if plugin.suite_errors:
        print(
            f"conformance: {SUITE_ERROR}: {len(plugin.suite_errors)} test(s) hit {report.SUITE_ERROR_NOTE}",
            file=sys.stderr,
        )
        for text in plugin.suite_errors:
            print(f"conformance: {SUITE_ERROR} in {text}", file=sys.stderr)
        return CANNOT_JUDGE, SUITE_ERROR
    if plugin.broken:
        for line in plugin.broken:
            print(f"conformance: could not judge: {plugin.redactor(line)}", file=sys.stderr)
        return CANNOT_JUDGE, VERDICTS[CANNOT_JUDGE]
    conclusion = plugin.run.conclusion
    if conclusion is None or code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return CANNOT_JUDGE, VERDICTS[CANNOT_JUDGE]
    return conclusion.code, conclusion.line


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the command and the console script; the last line it prints is the exit code and the verdict.
    `conformance replay FILE --target URL` re-sends a recording instead (conformance/replay.py); `conformance matrix`
    and `conformance merge` judge and merge many targets (conformance/matrix.py, matrix_merge.py)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["replay"]:
        from accounting_conformance.conformance import replay

        return replay.main(arguments[1:])
    if arguments[:1] == ["matrix"]:
        from accounting_conformance.conformance import matrix

        return matrix.main(arguments[1:])
    if arguments[:1] == ["merge"]:
        from accounting_conformance.conformance import matrix_merge

        return matrix_merge.main(arguments[1:])
    options = parser().parse_args(arguments)
    if threading.current_thread() is not threading.main_thread():
        return _finish(*_judge(options))
    verdict: tuple[int, str] | None = None
    noted = interruption.Noted()
    try:  # SIGTERM ends a run as Ctrl-C does; the embedded reference server is stopped on the way out (ExitStack)
        with interruption.handled(noted):
            verdict = _judge(options)
    except BaseException:
        if not noted.signalled:
            raise
    if verdict is None or noted.signalled:  # whatever pytest made of the KeyboardInterrupt (interruption.py)
        verdict = _cannot_judge("interrupted")
    return _finish(*verdict)


def _finish(code: int, said: str) -> int:
    print(f"conformance: exit {code} ({said})", flush=True)
    return code


def _cannot_judge(reason: object) -> tuple[int, str]:
    print(f"conformance: could not judge: {reason}", file=sys.stderr, flush=True)
    return CANNOT_JUDGE, VERDICTS[CANNOT_JUDGE]


def _judge(options: argparse.Namespace) -> tuple[int, str]:
    try:
        settings = resolve({k: v for k, v in vars(options).items() if k not in ("pytest_args", "fault")})
    except SettingsError as exc:
        return _cannot_judge(exc)
    if options.fault and settings.target is not None:
        print(
            "conformance: --fault only applies to the embedded reference server; ignored with a target", file=sys.stderr
        )
    with ExitStack() as stack:
        if settings.target is None:
            if settings.token_in == "bearer":
                return _cannot_judge(
                    "TOKEN_IN=bearer needs a TARGET: the embedded reference server takes the token in the "
                    "access_token parameter only"
                )
            server = EmbeddedServer(settings.access_token, fault=",".join(options.fault) or None)
            try:
                settings = settings.with_target(server.start())
            except RuntimeError as exc:
                return _cannot_judge(exc)
            stack.callback(server.stop)
            print(f"conformance: started the reference server at {settings.target}")
        reason = preflight(settings)
        if reason:
            report.write_could_not_judge(settings.report_dir, reason, settings.redacted())
            return _cannot_judge(reason)
        print(
            f"conformance: target {settings.target}, profile {settings.profile.name}, seed {settings.seed}, tag {settings.run_tag}"
        )
        return run(settings, options.pytest_args)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m conformance.specdiff --base REF [spec]` or `--old FILE [spec]`: the API changes and the gate's verdict.

Exit 0 when nothing fails the gate (`--fail-on breaking` by default; `warning` fails on warnings too;
`never` only reports), 1 when something does and it was not accepted (see gate.py), 2 when the input
cannot be judged (unknown ref, unreadable or unparsable spec).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from accounting_conformance.conformance.specdiff import CHECKS, diff
from accounting_conformance.conformance.specdiff.gate import FAIL_ON, Verdict
from accounting_conformance.conformance.specdiff.model import SpecError, mapping
from accounting_conformance.conformance.specdiff.render import FORMATS, as_json, github, markdown, text
from accounting_conformance.conformance.specdiff.source import as_spec, line_finder, read_at, read_file


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(prog="python -m conformance.specdiff", description=(__doc__ or "").splitlines()[0])
    base = cli.add_mutually_exclusive_group()
    base.add_argument("--base", help="compare against the spec at this git ref, e.g. origin/main")
    base.add_argument("--old", type=Path, help="compare against this spec file")
    cli.add_argument("spec", nargs="?", type=Path, default=Path("openapi/openapi.yaml"), help="the new spec")
    cli.add_argument("--format", choices=FORMATS, default="text", help="text (default), json, markdown or github")
    cli.add_argument("--fail-on", choices=FAIL_ON, default="breaking", help="what fails the gate (default breaking)")
    cli.add_argument(
        "--changelog",
        type=Path,
        help="the changelog that must name a bumped version (default: CHANGELOG.md beside the spec)",
    )
    cli.add_argument("--output", type=Path, help="write the report here instead of stdout")
    cli.add_argument("--checks", action="store_true", help="list every check (ID, severity, area, statement) and exit")
    return cli


def checks_table() -> str:
    """Every check, one line each: ID, severity, area, statement."""
    width = max(len(check_id) for check_id in CHECKS)
    return "".join(f"{c.id:{width}}  {c.severity:8}  {c.area:11}  {c.statement}\n" for c in CHECKS.values())


def main(argv: list[str] | None = None) -> int:
    """Run the comparison, print the report in the chosen format, return the exit code."""
    cli = parser()
    args = cli.parse_args(argv)
    if args.checks:
        sys.stdout.write(checks_table())
        return 0
    if args.base is None and args.old is None:
        cli.print_usage(sys.stderr)
        print("spec-diff: say what to compare against: --base REF (a git ref) or --old FILE", file=sys.stderr)
        return 2
    try:
        new_text = read_file(args.spec)
        if args.base is not None:
            old_text, origin = read_at(args.base, args.spec), f"{args.spec.name} at {args.base}"
        else:
            old_text, origin = read_file(args.old), str(args.old)
        old, new = as_spec(old_text, origin), as_spec(new_text, str(args.spec))
        line = line_finder(new_text)
        findings = [replace(f, line=line(f.location)) for f in diff(old, new)]
    except SpecError as exc:
        print(f"spec-diff: {exc}", file=sys.stderr)
        return 2
    versions = [str(mapping(s.get("info")).get("version")) for s in (old, new)]
    changelog = args.changelog or args.spec.parent / "CHANGELOG.md"
    verdict = Verdict(findings, versions[0], versions[1], changelog, args.fail_on)
    title = f"{args.spec} since {args.base or args.old}"
    rendered = {
        "text": lambda: text(verdict, title),
        "json": lambda: as_json(verdict, title),
        "markdown": lambda: markdown(verdict, title),
        "github": lambda: github(verdict, str(args.spec)),
    }
    report = rendered[args.format]()
    if args.output is not None:
        try:
            args.output.write_text(report, encoding="utf-8")
        except OSError as exc:
            print(f"spec-diff: cannot write {args.output}: {exc}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(report)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())

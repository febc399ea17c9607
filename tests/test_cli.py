"""The `terroir` command line as a newcomer meets it: version, help in workflow order, errors that name the wrong flag,
quiet workers, and the next step printed after a run."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from pipelines.cli import WORKFLOW, main, next_steps
from schemas import SCHEMA_VERSION


def _cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        rc = main(list(argv))
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_version_names_the_pipeline_and_schema(capsys):
    rc, out, _ = _cli(capsys, "--version")
    assert rc == 0 and re.fullmatch(rf"terroir \d+\.\d+\.\d+ \(corpus schema {re.escape(SCHEMA_VERSION)}\)\n", out)


def test_help_lists_the_subcommands_in_workflow_order(capsys):
    rc, out, _ = _cli(capsys, "--help")
    assert rc == 0
    listed = re.findall(r"^    ([\w-]+)\s", out, re.MULTILINE)
    assert listed == list(WORKFLOW)
    assert listed[:5] == ["demo", "run", "verify", "explain", "approve"]


def test_run_help_describes_the_command_and_gives_an_example(capsys):
    rc, out, _ = _cli(capsys, "run", "--help")
    assert rc == 0
    assert "write release.json last" in out and "DIR/report/index.html" in out
    example = re.search(r"^  terroir run --policy (\S+) --input", out, re.MULTILINE)
    assert example, out
    from pathlib import Path

    assert (Path(__file__).resolve().parents[1] / example.group(1)).is_file()  # the example's policy exists
    assert "terroir verify" in out


@pytest.mark.parametrize(("flag", "bad", "choices"), [("--backend", "cuda", "'cpu', 'gpu', 'auto'"),
                                                      ("--mode", "chars", "'char', 'word'"),
                                                      ("--verify", "yes", "'none', 'estimated', 'true'"),
                                                      ("--bits", "16", "32, 64")])  # fmt: skip
def test_dedup_settings_offer_their_choices(capsys, tmp_path, flag, bad, choices):
    rc, _, err = _cli(capsys, "dedup", "--input", str(tmp_path), "--output", str(tmp_path / "o"), flag, bad)
    assert rc == 2
    assert re.search(rf"argument {flag}: invalid choice: '?{bad}'?", err) and f"(choose from {choices})" in err


@pytest.mark.parametrize(("argv", "named", "meant"), [
    (["demo", "--worker", "2"], "--worker", "--workers"),
    (["run", "--polic", "p.yaml", "--input", "x", "--output", "y"], "--polic", "--policy"),
    (["dedup", "--input", "x", "--output", "y", "--thresh", "0.8"], "--thresh", "--threshold"),
    (["verify", "dir", "--allow-unapp"], "--allow-unapp", "--allow-unapproved"),
])  # fmt: skip
def test_a_prefix_is_never_taken_for_a_flag_and_the_error_names_it(capsys, argv, named, meant):
    rc, _, err = _cli(capsys, *argv)
    assert rc == 2
    assert f"terroir {argv[0]}: error: unrecognized argument: {named} (did you mean {meant}?)" in err
    assert f"usage: terroir {argv[0]}" in err  # the subcommand's own usage, not the top level's


def _printed_commands(text: str) -> list[list[str]]:
    """The terroir commands of `next_steps`' text, as argv lists (a line's own comment after three spaces dropped)."""
    lines = [ln.strip() for ln in text.splitlines()[1:]]
    return [shlex.split(ln.split("   ")[0])[1:] for ln in lines]


def test_next_steps_name_the_officers_commands_in_order(tmp_path):
    release = tmp_path / "out dir" / "release"
    text = next_steps(release)
    assert (release / "report" / "index.html").resolve().as_uri() in text
    commands = _printed_commands(text)
    assert [c[0] for c in commands] == ["explain", "keys", "approve", "verify"]
    assert all(c[1] == str(release) for c in commands if c[0] != "keys")


@pytest.mark.slow
def test_demo_output_is_quiet_and_ends_with_the_next_step(tmp_path):
    """Two worker processes, default level: no worker INFO lines (Presidio logged 556 "Loaded recognizer" lines)."""
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "demo", "--workers", "2", "--output", str(out)],
                          check=False, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Loaded recognizer" not in proc.stderr
    assert "presidio" not in proc.stderr.lower()
    # nothing on stderr at the default level: no worker start-up lines, no Beam warning about GCP clients
    assert proc.stderr == "", proc.stderr  # was some 600 lines
    lines = proc.stdout.strip().splitlines()
    release = out / "release"
    assert lines[0] == f"release:  {release / 'release.json'}"
    assert lines[-5:] == next_steps(release).splitlines()
    # a newcomer follows the printed steps as printed (placeholders filled in) and ends with a verified release
    env = dict(os.environ, TERROIR_KEY_DIR=str(tmp_path / "keys"))
    fill = {"TEXT": "too little text", "NAME": "A. Officer"}
    for argv in _printed_commands(next_steps(release)):
        argv = [fill.get(a, a) for a in argv]
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", *argv], cwd=tmp_path, env=env, check=False,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    assert json.loads((release / "approval.json").read_text())["approved_by"] == "A. Officer"


def test_a_mistyped_flag_of_a_nested_command_names_the_nested_flag(capsys):
    rc, _, err = _cli(capsys, "keys", "revoke", "KEYID", "--reasn", "lost laptop")
    assert rc == 2 and "--reasn (did you mean --reason?)" in err

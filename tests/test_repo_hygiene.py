# Copyright (c) mmreid_text contributors. All rights reserved.
"""Formatting, lint and the README <-> CI contract."""
import os.path as osp
import re
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CODE = [
    'mmreid_text', 'tools', 'tests', 'configs', 'benchmarks', 'projects',
    'setup.py'
]


def _run(args):
    proc = subprocess.run([sys.executable, '-m', *args],
                          cwd=REPO,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          text=True)
    return proc.returncode, proc.stdout


@pytest.mark.parametrize(
    'tool', [
        ['flake8', *CODE],
        ['isort', '--check-only', '--diff', *CODE],
        ['yapf', '--diff', '--recursive', '--parallel', *CODE],
    ],
    ids=['flake8', 'isort', 'yapf'])
def test_code_style(tool):
    code, out = _run(tool)
    assert code == 0, (f'{tool[0]} reports problems (fix them, e.g. '
                       f'`yapf -i` / `isort`):\n{out[-5000:]}')


def _readme_commands():
    text = open(osp.join(REPO, 'README.md')).read()
    blocks = re.findall(r'```bash\n(.*?)```', text, flags=re.S)
    return [b.strip() for b in blocks]


def test_readme_gives_three_commands_and_ci_runs_setup_and_tests():
    commands = _readme_commands()
    assert len(commands) == 3, commands
    setup, demo, tests = commands
    ci = open(osp.join(REPO, '.ci', 'run')).read()
    assert setup in ci.splitlines(), 'CI must run the README set-up verbatim'
    assert tests in ci.splitlines(), 'CI must run the README tests verbatim'
    assert 'pytest' in tests and 'tools/train.py' in demo
    demo_cfg = demo.split('tools/train.py')[1].split()[0]
    assert osp.isfile(osp.join(REPO, demo_cfg)), demo_cfg


def test_every_python_file_has_the_header():
    out = subprocess.run(['git', 'ls-files', '*.py'],
                         cwd=REPO,
                         stdout=subprocess.PIPE,
                         text=True).stdout.split()
    missing = [
        f for f in out if 'Copyright (c) mmreid_text contributors' not in open(
            osp.join(REPO, f)).readline()
    ]
    assert not missing, missing

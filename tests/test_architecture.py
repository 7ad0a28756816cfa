"""The two walls: the harness never imports notifycfg; the validate path never loads the SMTP stack."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import CONFIGS, ROOT


def test_harness_never_imports_notifycfg():
    for path in (ROOT / "smtp_harness").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] == "notifycfg" for n in names), path


def test_validate_path_never_loads_the_smtp_stack():
    code = (
        "import sys\n"
        "from notifycfg.cli.app import main\n"
        f"try:\n    main(['validate', {str(CONFIGS / 'prod')!r}], standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aiosmtpd', 'aiohttp', 'smtp_harness', 'smtplib', 'trustme',"
        " 'jsonschema') or m in ('notifycfg.notify.mailer', 'notifycfg.notify.flows'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr

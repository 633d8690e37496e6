"""Audit the installed dependencies for known vulnerabilities with pip-audit (`make audit`).

pip-audit asks PyPI's JSON API for each installed version (`/pypi/NAME/VERSION/json`, whose
`vulnerabilities` field is the PyPA advisory database) or OSV's API. A finding, or a dependency
that could not be audited, fails. Only when neither source answers at all (a build machine that
reaches nothing but a package mirror, which serves no advisory data) does the audit say so and
pass: it cannot be run there, and that is not a finding. SECURITY.md records the last result.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import urllib.error
import urllib.request

PROBE_TIMEOUT = 20


def _answers(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    pip = importlib.metadata.version("pip")
    sources = {
        "pypi": urllib.request.Request(f"https://pypi.org/pypi/pip/{pip}/json"),
        "osv": urllib.request.Request(
            "https://api.osv.dev/v1/query",
            data=b'{"package": {"name": "pip", "ecosystem": "PyPI"}, "version": "%s"}'
            % pip.encode(),
            headers={"Content-Type": "application/json"},
        ),
    }
    for service, probe in sources.items():
        if _answers(probe):
            command = [sys.executable, "-m", "pip_audit", "--strict", "--skip-editable",
                       "--progress-spinner", "off", "-s", service]  # fmt: skip
            print("audit:", " ".join(command[2:]), flush=True)
            return subprocess.call(command)
    print(
        "audit: no advisory source answers here (PyPI's per-version JSON API and OSV's API "
        "are both unreachable; a package mirror serves no advisory data), so pip-audit cannot "
        "run on this machine. Run `make audit` where either is reachable."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

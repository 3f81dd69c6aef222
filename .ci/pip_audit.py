"""CI gate: known vulnerabilities in the installed Python dependencies (pip-audit), failing on any.

pip-audit asks PyPI's per-release JSON (`/pypi/NAME/VERSION/json`) for each installed distribution. The
package index this project's machines and CI reach serves only the per-project JSON (`/pypi/NAME/json`),
so there pip-audit reports every dependency as "not found on PyPI" and, exit status 0, audits nothing.
This gate does not accept that: for each dependency pip-audit could not audit it reads the per-project
JSON, whose `vulnerabilities` are those of the newest release, and applies them when the installed
version is that newest release (it almost always is: the venv is installed from the same index). A
dependency that is neither audited by pip-audit nor the newest release is listed as unaudited.

Fails (exit 1) when: a vulnerability is found (not withdrawn, not in IGNORED below with its reason);
pip-audit cannot run; or fewer than half the dependencies could be audited (the index is out of reach).

    .venv/bin/python .ci/pip_audit.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

INDEX_JSON = "https://pypi.org/pypi/{name}/json"
# Vulnerability id → why it does not apply to us (keep this empty unless a fix is impossible).
IGNORED: dict[str, str] = {}


def _latest(name: str) -> dict | None:
    try:
        with urllib.request.urlopen(INDEX_JSON.format(name=name), timeout=30) as response:  # nosec B310 -- fixed https URL
            return json.load(response)
    except (OSError, ValueError):
        return None


def main() -> int:
    audit = Path(sys.executable).with_name("pip-audit")
    command = [str(audit), "--skip-editable", "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(command, capture_output=True, text=True)  # nosec B603 -- our own venv's pip-audit
    if done.returncode not in (0, 1) or not done.stdout.strip():
        print(done.stderr.strip() or "pip-audit printed nothing", file=sys.stderr)
        return 1
    dependencies = json.loads(done.stdout)["dependencies"]
    found: list[tuple[str, str, str, str]] = []  # name, version, id, fixed in
    audited, unaudited = 0, []
    for dep in dependencies:
        name = dep["name"]
        if "skip_reason" not in dep:
            audited += 1
            found += [(name, dep["version"], vuln["id"], ", ".join(vuln.get("fix_versions", [])))
                      for vuln in dep.get("vulns", [])]
            continue
        if "editable" in dep["skip_reason"]:
            continue
        version = dep["skip_reason"].rsplit("(", 1)[-1].rstrip(")")
        project = _latest(name)
        if project is None or project.get("info", {}).get("version") != version:
            newest = project.get("info", {}).get("version") if project else "?"
            unaudited.append(f"{name} {version} (newest {newest})")
            continue
        audited += 1
        found += [(name, version, vuln["id"], ", ".join(vuln.get("fixed_in") or []))
                  for vuln in project.get("vulnerabilities") or [] if not vuln.get("withdrawn")]
    kept = [row for row in found if row[2] not in IGNORED]
    for name, version, vuln_id, fixed in found:
        note = f" (ignored: {IGNORED[vuln_id]})" if vuln_id in IGNORED else ""
        print(f"VULNERABLE {name} {version}: {vuln_id}, fixed in {fixed or 'no release yet'}{note}")
    if unaudited:
        print(f"not audited (older than the newest release, which the index can tell about): {', '.join(unaudited)}")
    total = audited + len(unaudited)
    print(f"pip-audit gate: {audited} of {total} installed dependencies audited, "
          f"{len(kept)} known vulnerabilities")
    if kept:
        return 1
    if audited * 2 < total:
        print("Fewer than half the dependencies could be audited: is the package index reachable?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

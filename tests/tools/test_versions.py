"""One version everywhere: the VERSION file (what --version, the log, stats and the metrics say)
is also the REST API description's info.version and the Debian package's upstream version."""
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text(encoding="utf-8").strip()


def test_the_api_description_has_the_programs_version():
    spec = json.loads((REPO / "web" / "openapi.json").read_text(encoding="utf-8"))
    assert spec["info"]["version"] == VERSION, "bump info.version in docs/openapi.yaml (make openapi)"


def test_the_debian_package_has_the_programs_version():
    first = (REPO / "debian" / "changelog").read_text(encoding="utf-8").splitlines()[0]
    m = re.match(r"^golive \(([^)-]+)-[^)]+\) ", first)
    assert m and m.group(1) == VERSION, f"add a debian/changelog entry for {VERSION}: {first!r}"

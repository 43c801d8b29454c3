"""tools/openapi-json.py: web/openapi.json (what the browser reads) is docs/openapi.yaml
converted, so that the two cannot drift; the conversion is stable and refuses a YAML key that
JSON would turn into something else."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "openapi-json.py"


def tool():
    spec = importlib.util.spec_from_file_location("openapi_json", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_committed_json_is_the_yaml_converted():
    want = tool().convert((REPO / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
    have = (REPO / "web" / "openapi.json").read_text(encoding="utf-8")
    assert have == want, "web/openapi.json is stale: run make openapi"
    assert json.loads(have)["openapi"] == "3.1.0"


def test_the_output_is_pretty_sorted_and_stable(tmp_path):
    src = tmp_path / "in.yaml"
    src.write_text('b: 1\na:\n  "200": {z: [1, 2], y: "é"}\n', encoding="utf-8")
    for n in (1, 2):
        subprocess.run([sys.executable, str(TOOL), str(src), str(tmp_path / f"{n}.json")],
                       check=True)
    out = (tmp_path / "1.json").read_text(encoding="utf-8")
    assert out == (tmp_path / "2.json").read_text(encoding="utf-8")
    assert out.index('"a"') < out.index('"b"') and out.index('"y"') < out.index('"z"')
    assert '"é"' in out and out.endswith("}\n") and '\n  "a": {\n' in out


def test_a_key_json_would_change_is_refused():
    with pytest.raises(ValueError, match="not a string"):
        tool().convert("responses:\n  200: {description: ok}\n")


#!/usr/bin/python3
"""docs/openapi.yaml -> web/openapi.json: the same description as JSON, for the browser
(which has no YAML parser). Pretty-printed with sorted keys, so the output is stable and a
change to the YAML shows as a small diff. `make openapi` runs it; test_openapi.py checks that
the committed copy equals this conversion.

Usage: tools/openapi-json.py [IN.yaml [OUT.json]]"""

import json
import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_IN = os.path.join(REPO, "docs", "openapi.yaml")
DEFAULT_OUT = os.path.join(REPO, "web", "api", "openapi.json")


def _check_keys(node, where="$"):
    """JSON has string keys only: an unquoted YAML key such as 200 would become a number."""
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                raise ValueError(f"{where}: key {k!r} is not a string (quote it in the YAML)")
            _check_keys(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_keys(v, f"{where}[{i}]")


def convert(yaml_text):
    """The JSON text (ending in a newline) of the YAML document yaml_text."""
    doc = yaml.safe_load(yaml_text)
    _check_keys(doc)
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv):
    src = argv[1] if len(argv) > 1 else DEFAULT_IN
    dst = argv[2] if len(argv) > 2 else DEFAULT_OUT
    with open(src, encoding="utf-8") as f:
        text = convert(f.read())
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    with open(dst + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(dst + ".tmp", dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

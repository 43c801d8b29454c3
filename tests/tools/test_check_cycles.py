"""tools/check-cycles.py finds include and call cycles, and is not fooled by strings holding
"//" or a '"' character (the kit's scripts are: they lose the rest of such a file)."""
import subprocess
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check-cycles.py"


def run(d):
    p = subprocess.run([sys.executable, str(TOOL), str(d)], capture_output=True, text=True)
    return p.returncode, p.stdout


def write(d, files):
    for name, text in files.items():
        (d / name).write_text(text)


def test_one_way_folder_passes(tmp_path):
    write(tmp_path, {
        "a.h": "void a_run(void);\n", "a.c": '#include "a.h"\n#include "b.h"\n'
        "void\na_run(void)\n{\n    b_run();\n}\n",
        "b.h": "void b_run(void);\n", "b.c": '#include "b.h"\nvoid\nb_run(void)\n{\n}\n'})
    rc, out = run(tmp_path)
    assert rc == 0 and "one-way" in out, out


def test_call_cycle_behind_tricky_strings_is_found(tmp_path):
    write(tmp_path, {
        "a.c": 'static const char *u = "ipc:///tmp/x"; static char q = \'"\';\n'
        "void\na_run(void)\n{\n    b_run();\n}\n",
        "b.c": "void\nb_run(void)\n{\n    a_run();\n}\n"})
    rc, out = run(tmp_path)
    assert rc == 1 and "call cycle of 2 files: a.c b.c" in out, out


def test_include_cycle_is_found(tmp_path):
    write(tmp_path, {"a.h": '#include "b.h"\n', "a.c": "", "b.h": "", "b.c": '#include "a.h"\n'})
    rc, out = run(tmp_path)
    assert rc == 1 and "include cycle of 2 modules: a b" in out, out


def test_a_static_function_is_not_a_definition_others_use(tmp_path):
    write(tmp_path, {
        "a.c": "static void\nhelper(void)\n{\n}\nvoid\na_run(void)\n{\n    helper();\n}\n",
        "b.c": "static void\nhelper(void)\n{\n}\nvoid\nb_run(void)\n{\n    helper(); a_run();\n}\n"})
    rc, out = run(tmp_path)
    assert rc == 0, out

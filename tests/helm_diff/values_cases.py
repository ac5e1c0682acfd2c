"""Generates charts (with subcharts and `global`), values files and `--set` arguments, and
asks real Helm (helm-python-sdk) for the values a render would use.

Usage: values_cases.py OUT_DIR COUNT. Writes OUT_DIR/<n>/chart and OUT_DIR/<n>/user-<i>.yaml,
and prints one JSON line per case: {"dir", "files": [...], "sets": [...], "ok",
"value" | "error"}. tests/helm_differential.rs runs `stoke values` on each case.

Helm's CLI merges the -f files (maps deeply, anything else replaced) and then applies each
--set to that result in place (strvals.ParseInto): a path into an existing list changes one
element, a path through an existing scalar is an error. The SDK only parses into an empty
map, so Helm is asked to parse one --set-json line that first rebuilds the merged files key
by key (`key=<json>`) and then makes each --set assignment with the same path and the JSON
form of its value; key paths mean the same to both parsers. The result goes through Helm's
coalescing (Chart.merge_values).
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import helm_python as helm  # noqa: E402

from coalesce_cases import mapping, merge_maps, write_chart, KEYS  # noqa: E402

# (--set text, the same value as JSON)
SET_VALUES = [
    ("1", "1"), ("-2", "-2"), ("0", "0"), ("true", "true"), ("False", "false"),
    ("null", "null"), ("x", '"x"'), ("007", '"007"'), ("1.5", '"1.5"'), ("v1.2", '"v1.2"'),
    ("hello world", '"hello world"'), ("{a,b}", '["a","b"]'), ("{1,true,null}", "[1,true,null]"),
    ("{x}", '["x"]'),
]


def walk(rng, node, parts):
    """A path into `node` (a values tree): returns the parts and the node reached (None
    when the path leaves the tree)."""
    while True:
        if isinstance(node, dict) and node and rng.random() < 0.7:
            key = rng.choice(sorted(node))
            parts.append(key)
            node = node[key]
        elif isinstance(node, list) and parts and rng.random() < 0.7:
            i = rng.randint(0, len(node) + 1)
            parts[-1] += f"[{i}]"
            node = node[i] if i < len(node) else None
        else:
            return parts, node


def set_path(rng, defaults, user, subs):
    roll = rng.random()
    if roll < 0.3 and subs:
        name = rng.choice(subs)[0]
        parts, node = walk(rng, defaults.get(name, {}), [name])
    elif roll < 0.4:
        parts, node = ["global"], None
    else:
        parts, node = walk(rng, defaults if rng.random() < 0.5 else user, [])
    # Going on below a scalar is an error in Helm; keep a few of those.
    if not parts or isinstance(node, dict) or node is None or rng.random() < 0.08:
        if rng.random() < 0.5 or not parts or parts == ["global"]:
            parts.append(rng.choice(KEYS))
    return parts


def main():
    out_dir, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261124)
    for n in range(count):
        case_dir = os.path.join(out_dir, str(n))
        chart_dir = os.path.join(case_dir, "chart")
        subs = [(f"sub{i}", mapping(rng)) for i in range(rng.randint(0, 2))]
        parent = mapping(rng)
        if rng.random() < 0.5:
            parent["global"] = mapping(rng)
        write_chart(chart_dir, "parent", parent, subs)
        defaults = dict(parent)
        for name, values in subs:
            defaults.setdefault(name, values)
        files, merged = [], {}
        for i in range(rng.randint(0, 3)):
            user = mapping(rng)
            if subs and rng.random() < 0.6:
                user[rng.choice(subs)[0]] = mapping(rng)
            if rng.random() < 0.3:
                user["global"] = mapping(rng)
            name = os.path.join(case_dir, f"user-{i}.yaml")
            with open(name, "w") as f:
                json.dump(user, f)
            files.append(name)
            merged = merge_maps(merged, user)
        sets, json_line = [], [f"{k}={json.dumps(v)}" for k, v in merged.items()]
        for _ in range(rng.randint(1, 4)):
            assignments = []
            for _ in range(rng.randint(1, 2)):
                path = ".".join(set_path(rng, defaults, merged, subs))
                text, as_json = rng.choice(SET_VALUES)
                assignments.append(f"{path}={text}")
                json_line.append(f"{path}={as_json}")
            sets.append(",".join(assignments))
        case = {"dir": chart_dir, "files": files, "sets": sets}
        try:
            user_values = helm.parse_set_json(",".join(json_line))
            chart = helm.Chart.load(chart_dir)
            case.update(ok=True, value=chart.merge_values(user_values))
        except Exception as exc:  # noqa: BLE001 - a refusal is a result to compare
            case.update(ok=False, error=str(exc))
        print(json.dumps(case))


if __name__ == "__main__":
    main()

"""Generates charts (with subcharts) and values files, and asks real Helm
(helm-python-sdk's Chart.merge_values) for the values a render would use.

Usage: coalesce_cases.py OUT_DIR COUNT. Writes OUT_DIR/<n>/chart (a chart tree) and
OUT_DIR/<n>/user-<i>.yaml, and prints one JSON line per case:
{"dir", "files": [...], "ok", "value" | "error"}. Several -f files merge the way Helm's
mergeMaps does (maps deeply, anything else replaced) before Helm coalesces them.
"""

import json
import os
import random
import sys

import helm_python as helm

SCALARS = [1, 0, -2, 2.5, "x", "", "true", True, False, None, "null", "007"]
KEYS = ["a", "b", "c", "image", "tag", "port", "labels", "env", "global", "enabled"]


def value(rng, depth):
    roll = rng.random()
    if depth < 3 and roll < 0.35:
        return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if roll < 0.5:
        return [value(rng, depth + 2) for _ in range(rng.randint(0, 2))]
    return rng.choice(SCALARS)


def mapping(rng, depth=0):
    return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randint(1, 5))}


def merge_maps(a, b):
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_maps(out[k], v)
        else:
            out[k] = v
    return out


def write_chart(path, name, values, subcharts):
    os.makedirs(os.path.join(path, "templates"), exist_ok=True)
    with open(os.path.join(path, "Chart.yaml"), "w") as f:
        f.write(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")
    with open(os.path.join(path, "values.yaml"), "w") as f:
        json.dump(values, f)  # JSON is YAML
    for sub_name, sub_values in subcharts:
        write_chart(os.path.join(path, "charts", sub_name), sub_name, sub_values, [])


def main():
    out_dir, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(1123)
    for n in range(count):
        case_dir = os.path.join(out_dir, str(n))
        chart_dir = os.path.join(case_dir, "chart")
        subs = [(f"sub{i}", mapping(rng)) for i in range(rng.randint(0, 2))]
        parent = mapping(rng)
        if rng.random() < 0.5:
            parent["global"] = mapping(rng)
        write_chart(chart_dir, "parent", parent, subs)
        files = []
        merged = {}
        for i in range(rng.randint(1, 3)):
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
        case = {"dir": chart_dir, "files": files}
        try:
            chart = helm.Chart.load(chart_dir)
            case.update(ok=True, value=chart.merge_values(merged))
        except Exception as exc:  # noqa: BLE001 - a refusal is a result to compare
            case.update(ok=False, error=str(exc))
        print(json.dumps(case))


if __name__ == "__main__":
    main()

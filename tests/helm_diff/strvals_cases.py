"""Generates --set-family expressions and asks real Helm (helm-python-sdk) what each means.

Prints one JSON object per line: {"kind", "expr", "ok": bool, "value" | "error"}.
Deterministic: the same seed gives the same cases. Used by tests/helm_differential.rs.
"""

import json
import random
import sys

import helm_python as helm

PARSERS = {
    "set": helm.parse_set_string,
    "string": helm.parse_set_string_values,
    "json": helm.parse_set_json,
    "literal": helm.parse_set_literal,
}

KEYS = ["a", "b", "image", "tag", "x1", "k-8", "a_b", r"a\.b", r"k\,1", "é", "svc", "0", "null"]
SCALARS = [
    "1", "0", "007", "-3", "+4", "1.5", "1e3", "0x10", "true", "False", "NULL", "null", "",
    "x y", "a\\,b", "=eq", "v1.2.3", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", " 5", "é", "{a,b}", "{}", "{1,,2}", "{x}", "{a,{b}", "a}b",
    "\\\\", "tr\\ue", "1,2",
]
JSON_VALUES = [
    "1", "1.5", "-2", "1e3", "true", "null", '"s"', '"a,b"', "[1,2]", '{"k":"v"}',
    '{"a":{"b":[1,{"c":null}]}}', "[]", "{}", " 3", "tru", '{"a":', "[1,", '"unterminated',
]
NOISE = list("ab.=,[]{}\\0 9-")


def path(rng):
    parts = []
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(KEYS)
        parts.append(key)
        while rng.random() < 0.25:
            idx = rng.choice(["0", "1", "2", "3", "-1", "x", "", "70000"])
            parts[-1] += f"[{idx}]"
    return ".".join(parts)


def pair(rng, kind):
    values = JSON_VALUES if kind == "json" else SCALARS
    return f"{path(rng)}={rng.choice(values)}"


def expression(rng, kind):
    roll = rng.random()
    if roll < 0.08:
        return "".join(rng.choice(NOISE) for _ in range(rng.randint(1, 10)))
    if roll < 0.14:
        return path(rng)
    return ",".join(pair(rng, kind) for _ in range(rng.randint(1, 3)))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1200
    rng = random.Random(20261123)
    for kind, parse in PARSERS.items():
        for _ in range(count):
            expr = expression(rng, kind)
            try:
                case = {"kind": kind, "expr": expr, "ok": True, "value": parse(expr)}
            except Exception as exc:  # noqa: BLE001 - every Helm refusal is a result to compare
                case = {"kind": kind, "expr": expr, "ok": False, "error": str(exc)}
            print(json.dumps(case))


if __name__ == "__main__":
    main()

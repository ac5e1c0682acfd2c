"""Generates --set-family arguments and asks real Helm (helm-python-sdk) what each means.

Usage: strvals_cases.py FILES_DIR [COUNT_PER_KIND]

Prints one JSON object per line:
    {"kind", "args": [str, ...], "ok": bool, "value" | "error", "origin"}
`args` are applied one after another to the same values (Helm's ParseInto); Helm is asked
about them joined with commas, which means the same for the arguments generated that way
(each ends with a complete, non-empty assignment). `origin` says which generator made the
case. --set-file cases read files this script writes into FILES_DIR.

Deterministic: the same seed gives the same cases. Used by tests/helm_differential.rs.
"""

import json
import os
import random
import sys

import helm_python as helm

PARSERS = {
    "set": helm.parse_set_string,
    "string": helm.parse_set_string_values,
    "json": helm.parse_set_json,
    "literal": helm.parse_set_literal,
    "file": helm.parse_set_file,
}

KEYS = ["a", "b", "image", "tag", "x1", "k-8", "a_b", r"a\.b", r"k\,1", "é", "svc", "0", "null",
        r"k\=v", r"b\\s", r"i\[0\]", "ü ß"]
SCALARS = [
    "1", "0", "007", "-3", "+4", "1.5", "1e3", "0x10", "true", "False", "NULL", "null", "",
    "x y", "a\\,b", "=eq", "v1.2.3", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", " 5", "é", "{a,b}", "{}", "{1,,2}", "{x}", "{a,{b}", "a}b",
    "\\\\", "tr\\ue", "1,2", "-0", "+0", "00", "-01", "TrUe", "falſe", "nuLL", "~", "1_000",
    "{1,true,null,x}", "{1,2}", "{ a , b }", "\\{1\\}", "x{1}", "{\\,}", "1 ", "١٢",
]
JSON_VALUES = [
    "1", "1.5", "-2", "1e3", "true", "null", '"s"', '"a,b"', "[1,2]", '{"k":"v"}',
    '{"a":{"b":[1,{"c":null}]}}', "[]", "{}", " 3", "tru", '{"a":', "[1,", '"unterminated',
    "1.0", "-0", "01", "1.", "-", "1e", "1E+2", "0.5e-1", '"\\u00e9\\n"', '"é"', "false",
    "  [ 1 , 2 ]  ", '{"a":1,"a":2}', "12345678901234567890", "123456789012345678",
    "1e400", "truex", "nul", "[1]]", '"a"b', "[{}, [], {\"x\": [null]}]", '"\\""',
]
NOISE = list("ab.=,[]{}\\0 9-")
# Hand-picked corners of Helm's parser, for every kind.
FIXED = [
    "", ",", "a", "a=", "a=,", "=b", "[0]=1", ".a=1", "a.=1", "a..b=1", "a.", "a[", "a[0",
    "a[0]", "a[0].", "a[0].b=", "a[0].b=,", "a[0].b.c=", "a[0][1]", "a[0][1]=", "a[0][",
    "a.b[0]", "a=1,", "a=1,,b=2", "a=1,a=2", "a.b=1,a.c=2", "a.c=2,a..b=1", "a=x,a.b=1",
    "a=null,a.b=1", "a=x,a[0]=1", "a[0]=s,a[0].b=1", "a[0]=s,a[0].b=", "a[0].x=1,a[0].b=",
    "a[0][0]=x,a[0][0].b=", "a[0][0]=x,a[0][1]", "a[1]=x,a[0][0]=y", "a[0]=x,a[0][0]=y",
    "a[0]=1,a[1]", "a[+1]=1", "a[007]=1", "a[-1]=1", "a[x]=1", "a[]=1", "a[ 1]=1",
    "a[99999999999999999999]=1", "a[65537]=1", "a[70000].b=1", "a[70000]", "a[0]x=1",
    "a[0],b=1", "a\\", "\\", "a=x\\", "a\\.b=1", "a=b=c", "a={1,2", "a={1,2}b=3", "a={1}x",
    "a={}", "a={,}", "a= {1}", "a.b.c=1,a.b=2", "a.b=1,a.b.c=2", "a=1b=2", "a=1 b=2",
    'a="x"b=1', "a={}b=1", "a=[1]b=2", "a=1,b", "a=1\u00a0,b=2", "a=\u2003", "k=v,k.x=1",
    ".".join(f"k{i}" for i in range(31)) + "=1", ".".join(f"k{i}" for i in range(32)) + "=1",
    "a[0].b[1].c=x,a[0].b[0]=y", "a.b[0]=1,a.b[0].c=2", "a[1].b=1,a[0].c=2", "a[2]=1,a[0]=0",
]
FILES = {
    "plain.txt": "hello\n",
    "comma,name.txt": "with a comma in the name",
    "empty.txt": "",
    "unicode.txt": "é ✓\n",
    "values.yaml": "a: 1\nb: [x, y]\n",
    "brace{1}.txt": "braces",
}


def path(rng):
    parts = []
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(KEYS)
        parts.append(key)
        while rng.random() < 0.25:
            idx = rng.choice(["0", "1", "2", "3", "-1", "x", "", "70000", "+1", "01"])
            parts[-1] += f"[{idx}]"
    return ".".join(parts)


def clean_path(rng):
    parts = []
    for _ in range(rng.randint(1, 3)):
        parts.append(rng.choice(["a", "b", "c", r"d\.e", "list"]))
        while rng.random() < 0.35:
            parts[-1] += f"[{rng.choice('0123')}]"
    return ".".join(parts)


def escape(p):
    return p.replace("\\", "\\\\").replace(",", "\\,").replace("{", "\\{")


def file_value(rng, files_dir):
    names = list(FILES) + ["missing.txt", ""]
    def one():
        name = rng.choice(names)
        return escape(os.path.join(files_dir, name)) if name else files_dir
    if rng.random() < 0.2:
        return "{" + ",".join(one() for _ in range(rng.randint(1, 3))) + "}"
    if rng.random() < 0.05:
        return ""
    return one()


def value(rng, kind, files_dir):
    if kind == "json":
        return rng.choice(JSON_VALUES)
    if kind == "file":
        return file_value(rng, files_dir)
    return rng.choice(SCALARS)


def expression(rng, kind, files_dir):
    roll = rng.random()
    if roll < 0.08:
        expr = "".join(rng.choice(NOISE) for _ in range(rng.randint(1, 10)))
    elif roll < 0.14:
        expr = path(rng)
    else:
        expr = ",".join(f"{path(rng)}={value(rng, kind, files_dir)}"
                        for _ in range(rng.randint(1, 3)))
    if kind == "json" and expr.strip().startswith("{"):
        # Helm's CLI reads such an argument as one whole JSON object, which the SDK's
        # parser does not do; that form is covered by stoke's unit tests.
        expr = "k=" + expr
    return expr


def clean_value(rng, kind, files_dir):
    """A non-empty value that ends cleanly (no trailing lone backslash, no unclosed list)."""
    while True:
        if kind == "json":
            v = rng.choice(["1", "1.5", "true", "null", '"s,t"', "[1,2]", '{"k":{"x":1}}',
                            "[]", "{}", '"é"', "-0", "2e2"])
        elif kind == "file":
            v = escape(os.path.join(files_dir, rng.choice(list(FILES))))
        else:
            v = rng.choice(SCALARS)
        if v and not v.endswith("\\") and not (v.startswith("{") and not v.endswith("}")):
            if v.startswith("{") and v.endswith("\\}"):
                continue
            return v


def multi_args(rng, kind, files_dir):
    args = []
    for _ in range(rng.randint(2, 4)):
        args.append(",".join(f"{clean_path(rng)}={clean_value(rng, kind, files_dir)}"
                             for _ in range(rng.randint(1, 2))))
    return args


def ask_helm(kind, args):
    try:
        return {"ok": True, "value": PARSERS[kind](",".join(args))}
    except Exception as exc:  # noqa: BLE001 - every Helm refusal is a result to compare
        return {"ok": False, "error": str(exc)}


def emit(kind, args, origin):
    case = {"kind": kind, "args": args, "origin": origin}
    case.update(ask_helm(kind, args))
    print(json.dumps(case))


def main():
    files_dir = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1200
    os.makedirs(files_dir, exist_ok=True)
    for name, text in FILES.items():
        with open(os.path.join(files_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
    rng = random.Random(20261123)
    for kind in PARSERS:
        for expr in FIXED:
            if kind == "json" and expr.strip().startswith("{"):
                continue
            emit(kind, [expr], "fixed")
        n = count // 3 if kind == "file" else count
        for _ in range(n):
            emit(kind, [expression(rng, kind, files_dir)], "random")
        if kind != "literal":
            for _ in range(count // 6):
                emit(kind, multi_args(rng, kind, files_dir), "several arguments")


if __name__ == "__main__":
    main()

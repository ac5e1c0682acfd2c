#!/usr/bin/env python3
"""stoke against real Helm (PyPI helm-python-sdk, the Helm SDK in-process) on an Ignition fleet.

Prints medians and the ratios the fleet issue sets as goals:

  fleet   N sites (charts/ignition, values/edge.yaml plus a small per-site file):
          `stoke fleet template` (one process, all cores) against
          (a) Helm one process per release (benches/helm/render.c: load the chart, parse the
              values, render, print; as many processes at once as there are cores), and
          (b) Helm's SDK in one warm Python process with the chart loaded once (rendering
              on as many threads as there are cores; the SDK releases the GIL).
  cold    one whole-process `stoke template charts/ignition -f values/dev.yaml` against one
          whole-process Helm render of the official chart with the same values: CPU time
          (user + system, from wait4), peak memory (GNU time) and, with valgrind installed,
          instructions (callgrind). stoke is measured three ways: with its artifact cache
          off (STOKE_NO_CACHE=1), with an empty cache (each run in a fresh cache folder:
          a user's first run of a chart, compiling and saving), and with a warm one (a
          user's second and later runs; docs/cache.md).
  memory  peak memory of `stoke fleet template` for 200 and 1,000 releases.

Helm renders the official chart (github.com/inductiveautomation/ignition-helm-chart, folder
ignition/), which is not part of this repository: pass its folder with --official-chart or
STOKE_OFFICIAL_IGNITION_CHART.

Usage: python3 benches/fleet_vs_helm.py --official-chart DIR [--sites 200] [--runs 5]
       [--stoke target/release/stoke]
"""

import argparse
import concurrent.futures
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import helm_python as helm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def site_values(n):
    """A site's own values: its name, storage and resources differ from site to site."""
    return (
        f"gateway:\n"
        f"  dataVolumeStorageSize: {1 + n % 4}Gi\n"
        f"  env:\n"
        f"    GATEWAY_SYSTEM_NAME: site-{n:03}\n"
        f"  resources:\n"
        f"    requests:\n"
        f"      cpu: {200 + n % 5 * 50}m\n"
    )


def merge(a, b):
    """Helm's merge of two -f files: mappings merge deeply, anything else is replaced."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def write_fleet(dir_, count):
    """fleet.yaml for `count` sites, and one merged values file per site for Helm."""
    os.makedirs(os.path.join(dir_, "sites"), exist_ok=True)
    os.makedirs(os.path.join(dir_, "helm"), exist_ok=True)
    edge_text = open(os.path.join(ROOT, "values/edge.yaml")).read()
    edge = helm.values_from_yaml(edge_text)
    lines = ["name: bench", "releases:"]
    for n in range(count):
        name = f"site-{n:03}"
        text = site_values(n)
        with open(os.path.join(dir_, "sites", f"{name}.yaml"), "w") as f:
            f.write(text)
        with open(os.path.join(dir_, "helm", f"{name}.json"), "w") as f:
            json.dump(merge(edge, helm.values_from_yaml(text)), f)
        lines += [
            f"  - name: {name}",
            f"    namespace: plant-{n:03}",
            f"    chart: {os.path.join(ROOT, 'charts/ignition')}",
            f"    values: [{os.path.join(ROOT, 'values/edge.yaml')}, sites/{name}.yaml]",
            f"    labels: {{region: r{n % 3}}}",
        ]
    path = os.path.join(dir_, "fleet.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_cpu(cmd):
    """Runs cmd with output discarded; returns (wall s, CPU s of the child)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr.read().decode()}")
    return wall, ru.ru_utime + ru.ru_stime


def peak_kib(cmd):
    """Peak resident memory of cmd by GNU time (Debian package `time`)."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return int(out.stderr.decode().strip().splitlines()[-1])


def helm_processes(helm_render, chart, dir_, count, cores):
    """Every site rendered by its own Helm process, `cores` at a time; returns (wall, CPU)."""
    start = time.perf_counter()
    cpu = 0.0

    def one(n):
        name = f"site-{n:03}"
        values = os.path.join(dir_, "helm", f"{name}.json")
        return run_cpu([helm_render, chart, name, f"plant-{n:03}", values])[1]

    with concurrent.futures.ThreadPoolExecutor(cores) as pool:
        cpu = sum(pool.map(one, range(count)))
    return time.perf_counter() - start, cpu


def helm_sdk(chart_dir, dir_, count, cores):
    """Every site rendered by the SDK in this process, the chart loaded once; returns (wall,
    CPU) seconds. CPU is this process's own (user + system) over the run, which does nothing
    else meanwhile, so it can be compared with stoke's however loaded the machine is."""
    start = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    chart = helm.Chart.load(chart_dir)

    def one(n):
        name = f"site-{n:03}"
        with open(os.path.join(dir_, "sites", f"{name}.yaml")) as f:
            site = helm.values_from_yaml(f.read())
        values = merge(EDGE, site)
        return len(chart.render(values, name=name, namespace=f"plant-{n:03}"))

    with concurrent.futures.ThreadPoolExecutor(cores) as pool:
        rendered = sum(pool.map(one, range(count)))
    assert rendered > 0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return time.perf_counter() - start, cpu


def run_in_cache(cmd, cache_env):
    """run_cpu with the environment's cache settings replaced by cache_env."""
    env = {k: v for k, v in os.environ.items() if k not in ("STOKE_NO_CACHE", "STOKE_CACHE_DIR")}
    env.update(cache_env)
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd} failed: {p.stderr.read().decode()}")
    return wall, ru.ru_utime + ru.ru_stime


def instructions(cmd, cache_env=None):
    """Instructions one run of cmd executes (all threads), by callgrind; None without valgrind."""
    if not shutil.which("valgrind"):
        return None
    env = {k: v for k, v in os.environ.items() if k not in ("STOKE_NO_CACHE", "STOKE_CACHE_DIR")}
    env.update(cache_env or {})
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    for line in out.stderr.decode().splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    return None


def fmt(s):
    return f"{s * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--official-chart", default=os.environ.get("STOKE_OFFICIAL_IGNITION_CHART"))
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cold-runs", type=int, default=30)
    ap.add_argument("--stoke", default=os.path.join(ROOT, "target/release/stoke"))
    args = ap.parse_args()
    if not args.official_chart or not os.path.isfile(os.path.join(args.official_chart, "Chart.yaml")):
        sys.exit("pass the official Ignition chart's folder with --official-chart DIR "
                 "(or STOKE_OFFICIAL_IGNITION_CHART)")
    if not os.access(args.stoke, os.X_OK):
        sys.exit(f"{args.stoke} is missing: cargo build --release")
    cores = os.cpu_count() or 1
    tmp = tempfile.mkdtemp(prefix="stoke-fleet-bench-")
    try:
        lib = os.path.join(os.path.dirname(helm.__file__), "lib")
        helm_render = os.path.join(tmp, "helm-render")
        subprocess.run(
            ["cc", "-O2", "-o", helm_render, os.path.join(ROOT, "benches/helm/render.c"),
             f"-L{lib}", "-l:libhelm_c.so.0", f"-Wl,-rpath,{lib}"],
            check=True,
        )
        global EDGE
        EDGE = helm.values_from_yaml(open(os.path.join(ROOT, "values/edge.yaml")).read())
        fleet = write_fleet(os.path.join(tmp, "fleet"), args.sites)
        fleet_cmd = [args.stoke, "fleet", "template", "-f", fleet]
        fleet_cache = {"STOKE_CACHE_DIR": os.path.join(tmp, "cache-fleet")}
        run_in_cache(fleet_cmd, fleet_cache)  # warm the page cache and the artifact cache
        stoke_wall, stoke_cpu, proc_wall, proc_cpu, sdk_wall, sdk_cpu = [], [], [], [], [], []
        off_wall, off_cpu = [], []
        for _ in range(args.runs):
            w, c = run_in_cache(fleet_cmd, fleet_cache)
            stoke_wall.append(w)
            stoke_cpu.append(c)
            w, c = run_in_cache(fleet_cmd, {"STOKE_NO_CACHE": "1"})
            off_wall.append(w)
            off_cpu.append(c)
            w, c = helm_processes(helm_render, args.official_chart, os.path.join(tmp, "fleet"),
                                  args.sites, cores)
            proc_wall.append(w)
            proc_cpu.append(c)
            w, c = helm_sdk(args.official_chart, os.path.join(tmp, "fleet"), args.sites, cores)
            sdk_wall.append(w)
            sdk_cpu.append(c)
        med = statistics.median
        print(f"fleet: {args.sites} Ignition sites, {cores} cores, median of {args.runs} runs")
        print(f"  stoke fleet template (one process)   wall {fmt(med(stoke_wall))}  CPU {fmt(med(stoke_cpu))}  (warm cache)")
        print(f"  stoke fleet template, cache off      wall {fmt(med(off_wall))}  CPU {fmt(med(off_cpu))}")
        print(f"  helm, one process per release        wall {fmt(med(proc_wall))}  CPU {fmt(med(proc_cpu))}")
        print(f"  helm SDK, one warm process           wall {fmt(med(sdk_wall))}  CPU {fmt(med(sdk_cpu))}")
        print(f"  ratio helm processes / stoke         {med(proc_wall) / med(stoke_wall):.1f}x wall"
              f" ({med(proc_cpu) / med(stoke_cpu):.1f}x CPU)   goal >= 50x")
        print(f"  ratio helm SDK warm / stoke          {med(sdk_wall) / med(stoke_wall):.1f}x wall"
              f" ({med(sdk_cpu) / med(stoke_cpu):.1f}x CPU)   goal >= 10x")
        print(f"  same ratios, stoke with cache off    {med(proc_wall) / med(off_wall):.1f}x"
              f" ({med(proc_cpu) / med(off_cpu):.1f}x CPU) and {med(sdk_wall) / med(off_wall):.1f}x"
              f" ({med(sdk_cpu) / med(off_cpu):.1f}x CPU)")

        dev = os.path.join(ROOT, "values/dev.yaml")
        stoke_one = [args.stoke, "template", "gw", os.path.join(ROOT, "charts/ignition"), "-f", dev]
        helm_one = [helm_render, args.official_chart, "gw", "default", dev]
        warm_dir = os.path.join(tmp, "cache-warm")
        warm = {"STOKE_CACHE_DIR": warm_dir}
        run_in_cache(stoke_one, warm)  # fills the warm cache
        off = {"STOKE_NO_CACHE": "1"}

        def empty():
            return {"STOKE_CACHE_DIR": tempfile.mkdtemp(prefix="cache-empty-", dir=tmp)}

        modes = [("cache off", lambda: off), ("empty cache", empty), ("warm cache", lambda: warm)]
        s_cpu = {name: [] for name, _ in modes}
        h_cpu = []
        for _ in range(args.cold_runs):
            for name, env in modes:
                s_cpu[name].append(run_in_cache(stoke_one, env())[1])
            h_cpu.append(run_cpu(helm_one)[1])
        h_mem = med([peak_kib(helm_one) for _ in range(5)])
        h_ins = instructions(helm_one)
        print(f"cold start: one whole-process render, values/dev.yaml, median of {args.cold_runs}"
              " (peak memory: median of 5)")
        print(f"  helm (SDK C)              CPU {fmt(med(h_cpu))}  peak {h_mem / 1024:.1f} MiB"
              + (f"  {h_ins / 1e6:.1f}M instructions" if h_ins else ""))
        for name, env in modes:
            prev = {k: os.environ.get(k) for k in ("STOKE_NO_CACHE", "STOKE_CACHE_DIR")}
            for k in prev:
                os.environ.pop(k, None)
            os.environ.update(env())
            try:
                s_mem = med([peak_kib(stoke_one) for _ in range(5)])
            finally:
                for k, v in prev.items():
                    os.environ.pop(k, None)
                    if v is not None:
                        os.environ[k] = v
            s_ins = instructions(stoke_one, env())
            cpu = med(s_cpu[name])
            print(f"  stoke template, {name:<11} CPU {fmt(cpu)}  peak {s_mem / 1024:.1f} MiB"
                  + (f"  {s_ins / 1e6:.1f}M instructions" if s_ins else ""))
            print(f"    CPU stoke/helm 1/{med(h_cpu) / cpu:.1f} (goal <= 1/10)"
                  f"   memory 1/{h_mem / s_mem:.1f} (goal <= 1/3)"
                  + (f"   instructions 1/{h_ins / s_ins:.1f}" if h_ins and s_ins else ""))

        print("memory: peak of `stoke fleet template` (output streamed to /dev/null)")
        for count in (200, 1000):
            f = write_fleet(os.path.join(tmp, f"mem{count}"), count)
            os.environ["STOKE_CACHE_DIR"] = fleet_cache["STOKE_CACHE_DIR"]
            print(f"  {count:>5} releases  {peak_kib([args.stoke, 'fleet', 'template', '-f', f]) / 1024:.1f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

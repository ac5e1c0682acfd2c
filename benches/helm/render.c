/* One `helm template` as a process, through Helm's own SDK (libhelm_c from PyPI
 * helm-python-sdk): load the chart, parse each values file, render, print the manifests.
 * Stands in for the `helm` binary in benches/fleet_vs_helm.py, without Python's start-up.
 *
 * Usage: helm-render CHART RELEASE NAMESPACE [VALUES.yaml]
 * Several values files must be merged beforehand (the bench writes one per site). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int helm_chart_load(const char *path, uint64_t *handle, char **err);
int helm_values_from_yaml(const char *yaml, char **json, char **err);
int helm_render(uint64_t chart, const char *values, const char *opts, char **out, char **err);

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    if (fread(buf, 1, n, f) != (size_t)n) { perror(path); exit(1); }
    buf[n] = 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s CHART RELEASE NAMESPACE [VALUES.yaml]\n", argv[0]);
        return 2;
    }
    char *err = NULL, *values = NULL, *out = NULL;
    uint64_t chart = 0;
    if (helm_chart_load(argv[1], &chart, &err) != 0) {
        fprintf(stderr, "load: %s\n", err ? err : "?");
        return 1;
    }
    if (argc > 4 && helm_values_from_yaml(slurp(argv[4]), &values, &err) != 0) {
        fprintf(stderr, "values: %s\n", err ? err : "?");
        return 1;
    }
    char opts[512];
    snprintf(opts, sizeof opts, "{\"name\":\"%s\",\"namespace\":\"%s\"}", argv[2], argv[3]);
    if (helm_render(chart, values, opts, &out, &err) != 0) {
        fprintf(stderr, "render: %s\n", err ? err : "?");
        return 1;
    }
    /* The SDK returns {"template path": "manifest", ...} as JSON; printing it is enough
     * to make the render observable, as `helm template` prints its result. */
    fputs(out, stdout);
    return 0;
}

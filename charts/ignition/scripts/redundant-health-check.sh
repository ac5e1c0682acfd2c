#!/usr/bin/env bash
# Readiness of a redundant gateway. Ready when the gateway is RUNNING (or still waiting for
# commissioning) and either its redundancy state is healthy or it is the active node. A healthy
# cold backup is therefore ready too, so both pods stay behind their Services.
#
#   redundant-health-check.sh [-r state]... [-s context-state] [-t seconds] [-v] [url]
#
# url defaults to http://localhost:${GATEWAY_HTTP_PORT:-8088}/system/gwinfo.
set -euo pipefail

if (( BASH_VERSINFO[0] < 4 )); then
  echo "ERROR: bash 4 or newer is required" >&2
  exit 1
fi

url="http://localhost:${GATEWAY_HTTP_PORT:-8088}/system/gwinfo"
timeout=3
want_context="RUNNING"
healthy_states=(Good OutOfDate Incompatible)
custom_states=()
verbose=false

usage() {
  echo "usage: redundant-health-check.sh [-r state]... [-s context-state] [-t seconds] [-v] [url]" >&2
  echo "  -r  a redundancy state that counts as healthy (repeatable; default: ${healthy_states[*]})" >&2
  echo "  -s  the context state to expect (default: ${want_context})" >&2
  echo "  -t  request timeout in seconds (default: ${timeout})" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hvr:s:t:" flag; do
  case "${flag}" in
    r) custom_states+=("${OPTARG}") ;;
    s) want_context="${OPTARG}" ;;
    t) timeout="${OPTARG}"
       [[ "${timeout}" =~ ^[0-9]+$ ]] || { echo "ERROR: -t needs a whole number of seconds" >&2; exit 2; } ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "redundant-health-check.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "redundant-health-check.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -gt 0 && -n "$1" ]] && url="$1"
(( ${#custom_states[@]} > 0 )) && healthy_states=("${custom_states[@]}")

command -v curl > /dev/null || { echo "ERROR: curl is required" >&2; exit 1; }

body="$(curl --silent --fail --location --insecure --max-time "${timeout}" "${url}" 2>&1)" || {
  echo "FAILED: no answer from ${url}" >&2
  exit 1
}
[[ "${verbose}" == true ]] && echo "gwinfo: ${body}"

# gwinfo is `Key=Value;Key=Value;...`.
declare -A info=()
IFS=';' read -r -a fields <<< "${body}"
for field in "${fields[@]}"; do
  [[ "${field}" == *=* ]] || continue
  info["${field%%=*}"]="${field#*=}"
done

context="${info[ContextStatus]:-}"
if [[ "${context}" == "NEEDS_COMMISSIONING" ]]; then
  exit 0
fi
if [[ "${context}" != "${want_context}" ]]; then
  echo "FAILED: ContextStatus is '${context}', expected ${want_context}" >&2
  exit 1
fi

state="${info[RedundantState]:-}"
for healthy in "${healthy_states[@]}"; do
  if [[ "${state,,}" == "${healthy,,}" ]]; then
    exit 0
  fi
done
if [[ "${info[RedundantNodeActiveStatus]:-}" == "Active" ]]; then
  exit 0
fi
echo "FAILED: RedundantState is '${state}' and the node is not active (healthy states: ${healthy_states[*]})" >&2
exit 1

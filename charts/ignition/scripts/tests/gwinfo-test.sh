#!/usr/bin/env bash
# The chart's test hook (`stoke test`, `helm test`): asks each gateway Service for
# /system/gwinfo until the gateway reports ContextStatus=RUNNING and the expected redundancy
# status (Independent, or Master / Backup for the two nodes of a redundant pair).
#
#   gwinfo-test.sh [-a attempts] [-w seconds] url=RedundancyStatus...
#
# Each target is retried up to `attempts` times, `seconds` apart (default 24 x 5s, with 5s per
# request: at most four minutes, inside the five minutes `stoke test` and `helm test` wait by
# default), since a gateway can take minutes to start. TLS certificates are not verified: the gateways use a
# private CA, and the test asks whether they run, not who signed them.
set -euo pipefail

attempts=24
pause=5

usage() {
  echo "usage: gwinfo-test.sh [-a attempts] [-w seconds] url=RedundancyStatus..." >&2
}

while getopts ":ha:w:" flag; do
  case "${flag}" in
    a) attempts="${OPTARG}" ;;
    w) pause="${OPTARG}" ;;
    h) usage; exit 0 ;;
    :) usage; echo "gwinfo-test.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "gwinfo-test.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(( $# > 0 )) || { usage; echo "ERROR: name at least one url=RedundancyStatus" >&2; exit 2; }

failed=0
for target in "$@"; do
  url="${target%=*}"
  want="${target##*=}"
  last="no answer"
  ok=false
  for (( try = 1; try <= attempts; try++ )); do
    if body="$(curl --fail --silent --show-error --insecure --max-time 5 "${url}" 2>&1)"; then
      last="${body}"
      if [[ ";${body};" == *";ContextStatus=RUNNING;"* && ";${body};" == *";RedundancyStatus=${want};"* ]]; then
        ok=true
        break
      fi
    else
      last="${body}"
    fi
    (( try < attempts )) && sleep "${pause}"
  done
  if [[ "${ok}" == true ]]; then
    echo "OK      ${url}: RUNNING, RedundancyStatus=${want}"
  else
    echo "FAILED  ${url}: expected ContextStatus=RUNNING and RedundancyStatus=${want} after ${attempts} attempt(s); last answer: ${last}"
    failed=$((failed + 1))
  fi
done
(( failed == 0 ))

#!/usr/bin/env bash
# Rolls the gateways when cert-manager has renewed a certificate they use. The gateways build
# their keystores from the certificate Secrets only at start, so a renewal reaches them only by a
# restart. Run by the chart's cert-restart CronJob with the certificate Secrets mounted:
#   - the fingerprint is the SHA-256 of every tls.crt under the given folders;
#   - the first run records it on the StatefulSet (annotation stoke.dev/certificates-seen);
#   - a later run that finds another fingerprint records the new one and sets the pod template
#     annotation stoke.dev/certificates to it, which restarts the pods one at a time, as
#     `kubectl rollout restart` does.
#
#   restart-on-renewal.sh -s statefulset [-n namespace] [-v] cert-dir...
#
# Talks to the API server with the pod's service account (KUBERNETES_API and
# SERVICE_ACCOUNT_DIR override where they are).
set -euo pipefail

statefulset=""
namespace="${NAMESPACE:-}"
api="${KUBERNETES_API:-https://kubernetes.default.svc}"
account="${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
verbose=false

usage() {
  echo "usage: restart-on-renewal.sh -s statefulset [-n namespace] [-v] cert-dir..." >&2
  echo "  -s  the StatefulSet whose pods use the certificates (required)" >&2
  echo "  -n  its namespace (default: NAMESPACE, else the service account's namespace)" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hvs:n:" flag; do
  case "${flag}" in
    s) statefulset="${OPTARG}" ;;
    n) namespace="${OPTARG}" ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "restart-on-renewal.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "restart-on-renewal.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ -n "${statefulset}" ]] || { usage; echo "ERROR: -s (the StatefulSet) is required" >&2; exit 2; }
(( $# > 0 )) || { usage; echo "ERROR: name at least one mounted certificate folder" >&2; exit 2; }
if [[ -z "${namespace}" ]]; then
  namespace="$(cat "${account}/namespace")"
fi

certs=()
for dir in "$@"; do
  [[ -f "${dir}/tls.crt" ]] || { echo "ERROR: no tls.crt in ${dir}; is the certificate Secret mounted?" >&2; exit 1; }
  certs+=("${dir}/tls.crt")
done
fingerprint="$(cat "${certs[@]}" | sha256sum | cut -d' ' -f1)"

url="${api}/apis/apps/v1/namespaces/${namespace}/statefulsets/${statefulset}"
call() {
  curl --fail --silent --show-error --cacert "${account}/ca.crt" \
    -H "Authorization: Bearer $(cat "${account}/token")" "$@"
}

current="$(call "${url}")" || { echo "ERROR: cannot read StatefulSet ${namespace}/${statefulset}" >&2; exit 1; }
seen="$(grep -o '"stoke.dev/certificates-seen": *"[0-9a-f]*"' <<< "${current}" | head -n 1 | grep -o '[0-9a-f]\{64\}' || true)"
[[ "${verbose}" == true ]] && echo "  fingerprint ${fingerprint}, recorded ${seen:-none}" >&2

if [[ "${seen}" == "${fingerprint}" ]]; then
  echo "Certificates unchanged"
  exit 0
fi

if [[ -z "${seen}" ]]; then
  patch="{\"metadata\":{\"annotations\":{\"stoke.dev/certificates-seen\":\"${fingerprint}\"}}}"
  message="Recorded the certificates the gateways started with"
else
  patch="{\"metadata\":{\"annotations\":{\"stoke.dev/certificates-seen\":\"${fingerprint}\"}},\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"stoke.dev/certificates\":\"${fingerprint}\"}}}}}"
  message="Certificates renewed: restarting the pods of ${statefulset} one at a time"
fi
call -X PATCH -H "Content-Type: application/merge-patch+json" --data "${patch}" "${url}" > /dev/null \
  || { echo "ERROR: cannot patch StatefulSet ${namespace}/${statefulset}" >&2; exit 1; }
echo "${message}"

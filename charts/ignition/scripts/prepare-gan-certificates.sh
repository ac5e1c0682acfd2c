#!/usr/bin/env bash
# Puts the Gateway Network PKI in place on the data volume:
#   - the CA certificate, trusted by both the GAN server and client, so gateways holding
#     certificates from the same CA connect without manual approval;
#   - the gateway's own PKCS12 keystore (from cert-manager), with its key entry renamed to the
#     alias the gateway expects.
# Optionally also adds the CA to a gateway backup (.gwbk) that will be restored, so the restored
# configuration trusts it too. A -g backup that is not there (already restored, or never staged on
# this pod) is skipped.
#
#   prepare-gan-certificates.sh [-a alias] [-c ca-dir] [-s keystore-dir] [-d data-dir] [-g gwbk] [-v]
set -euo pipefail

alias_name="metro-key"
ca_dir="/run/secrets/gan-issuer-tls"
keystore_dir="/run/secrets/gan-tls"
data_dir="/data"
gwbk=""
verbose=false
# The passphrase cert-manager uses for the keystore (the chart's metro keystore Secret).
passphrase="${GAN_KEYSTORE_PASSPHRASE:-metro}"

usage() {
  echo "usage: prepare-gan-certificates.sh [-a alias] [-c ca-dir] [-s keystore-dir] [-d data-dir] [-g gwbk] [-v]" >&2
  echo "  -a  key alias inside the keystore (default: ${alias_name})" >&2
  echo "  -c  mounted CA secret holding tls.crt (default: ${ca_dir})" >&2
  echo "  -s  mounted certificate secret holding keystore.p12 (default: ${keystore_dir})" >&2
  echo "  -d  the mounted data volume (default: ${data_dir})" >&2
  echo "  -g  a gateway backup to add the CA certificate to" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hva:c:s:d:g:" flag; do
  case "${flag}" in
    a) alias_name="${OPTARG}" ;;
    c) ca_dir="${OPTARG}" ;;
    s) keystore_dir="${OPTARG}" ;;
    d) data_dir="${OPTARG}" ;;
    g) gwbk="${OPTARG}" ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "prepare-gan-certificates.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "prepare-gan-certificates.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done

say() { echo "$*"; }
detail() {
  if [[ "${verbose}" == true ]]; then echo "  $*" >&2; fi
}
need_file() { [[ -f "$1" ]] || { echo "ERROR: $2 not found at $1" >&2; usage; exit 1; }; }

need_file "${ca_dir}/tls.crt" "the Gateway Network CA certificate"
need_file "${keystore_dir}/keystore.p12" "the Gateway Network keystore"
[[ -d "${data_dir}" ]] || { echo "ERROR: data volume ${data_dir} is not mounted" >&2; exit 1; }
if [[ -n "${gwbk}" && ! -f "${gwbk}" ]]; then
  detail "no staged backup at ${gwbk}; nothing to add the CA to"
  gwbk=""
fi
if [[ -n "${gwbk}" ]] && ! command -v zip > /dev/null; then
  echo "WARNING: the image has no 'zip' command, so the backup ${gwbk} keeps its own Gateway Network trust; restart the pod once it is restored to put the CA back" >&2
  gwbk=""
fi

gan_root="${data_dir}/config/local/ignition/gateway-network"
trusted_paths=(
  "server/security/pki/trusted/certs/ignition-gan-ca.crt"
  "client/security/pki/trusted/certs/ignition-gan-ca.crt"
)

say "Preparing Gateway Network certificates"
for path in "${trusted_paths[@]}"; do
  mkdir -p "$(dirname "${gan_root}/${path}")"
  cp -f "${ca_dir}/tls.crt" "${gan_root}/${path}"
  detail "trusted CA -> ${gan_root}/${path}"
done

keystore="${gan_root}/keystore/metro-keystore.pfx"
mkdir -p "$(dirname "${keystore}")"
cp -f "${keystore_dir}/keystore.p12" "${keystore}"
current_alias="$(keytool -list -keystore "${keystore}" -storetype PKCS12 -storepass "${passphrase}" \
  | awk -F, '/PrivateKeyEntry/ { print $1; exit }')"
if [[ -n "${current_alias}" && "${current_alias}" != "${alias_name}" ]]; then
  keytool -changealias -alias "${current_alias}" -destalias "${alias_name}" \
    -keystore "${keystore}" -storetype PKCS12 -storepass "${passphrase}"
  detail "renamed key entry '${current_alias}' to '${alias_name}'"
fi
say "Gateway Network keystore -> ${keystore}"

if [[ -n "${gwbk}" ]]; then
  # Stage the CA under the paths the backup uses and add them, replacing older copies.
  staging="$(mktemp -d)"
  trap 'rm -rf "${staging}"' EXIT
  for path in "${trusted_paths[@]}"; do
    mkdir -p "${staging}/config/local/ignition/gateway-network/$(dirname "${path}")"
    cp "${ca_dir}/tls.crt" "${staging}/config/local/ignition/gateway-network/${path}"
  done
  (cd "${staging}" && zip -q -r "$(realpath "${gwbk}")" config)
  say "Added the Gateway Network CA to ${gwbk}"
fi

#!/usr/bin/env bash
# Puts the web server keystore (a PKCS12 keystore from cert-manager or your own Secret) where the
# gateway serves HTTPS from, with its key entry renamed to the alias the gateway expects.
#
#   prepare-tls-certificates.sh [-a alias] [-s keystore-dir] [-d data-dir] [-v]
set -euo pipefail

alias_name="ignition"
keystore_dir="/run/secrets/web-tls"
data_dir="/data"
verbose=false
# The passphrase of the keystore (the chart's TLS keystore Secret).
passphrase="${WEB_KEYSTORE_PASSPHRASE:-ignition}"

usage() {
  echo "usage: prepare-tls-certificates.sh [-a alias] [-s keystore-dir] [-d data-dir] [-v]" >&2
  echo "  -a  key alias inside the keystore (default: ${alias_name})" >&2
  echo "  -s  mounted secret holding keystore.p12 (default: ${keystore_dir})" >&2
  echo "  -d  the mounted data volume (default: ${data_dir})" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hva:s:d:" flag; do
  case "${flag}" in
    a) alias_name="${OPTARG}" ;;
    s) keystore_dir="${OPTARG}" ;;
    d) data_dir="${OPTARG}" ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "prepare-tls-certificates.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "prepare-tls-certificates.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done

[[ -f "${keystore_dir}/keystore.p12" ]] || { echo "ERROR: web keystore not found at ${keystore_dir}/keystore.p12" >&2; usage; exit 1; }
[[ -d "${data_dir}" ]] || { echo "ERROR: data volume ${data_dir} is not mounted" >&2; exit 1; }

echo "Preparing web server TLS"
keystore="${data_dir}/config/local/ignition/webserver/keystore/ssl.pfx"
mkdir -p "$(dirname "${keystore}")"
cp -f "${keystore_dir}/keystore.p12" "${keystore}"
current_alias="$(keytool -list -keystore "${keystore}" -storetype PKCS12 -storepass "${passphrase}" \
  | awk -F, '/PrivateKeyEntry/ { print $1; exit }')"
if [[ -n "${current_alias}" && "${current_alias}" != "${alias_name}" ]]; then
  keytool -changealias -alias "${current_alias}" -destalias "${alias_name}" \
    -keystore "${keystore}" -storetype PKCS12 -storepass "${passphrase}"
  [[ "${verbose}" == true ]] && echo "  renamed key entry '${current_alias}' to '${alias_name}'" >&2
fi
echo "Web server keystore -> ${keystore}"

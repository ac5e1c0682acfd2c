#!/usr/bin/env bash
# Prepares one node of a redundant pair. The role comes from the pod name: ordinal 0 is the
# primary (Ignition calls it Master), ordinal 1 the backup.
#   - redundancy.xml: seeded once from the base file, then the role and the primary's Gateway
#     Network address (host, port, TLS) are set on every start;
#   - public address: GATEWAY_PUBLIC_ADDRESS[_<ROLE>], GATEWAY_PUBLIC_HTTP_PORT[_<ROLE>] and
#     GATEWAY_PUBLIC_HTTPS_PORT[_<ROLE>] are written to gateway.xml when set;
#   - with -l, the role's own leased licence is linked where the gateway reads its licence;
#   - each -s key=value (tuning such as redundancy.standbyactivitylevel) is written into
#     redundancy.xml on every start, so changing the chart's values changes the pair.
#
#   prepare-redundancy.sh -g primary-host [-p port] [-k] [-c base-file] [-l] [-s key=value]... [-d data-dir] [-v]
set -euo pipefail

data_dir="/data"
base_file="/config/files/redundancy-base.xml"
primary_host=""
primary_port=""
use_tls=true
role_licences=false
verbose=false
settings=()

usage() {
  echo "usage: prepare-redundancy.sh -g primary-host [-p port] [-k] [-c base-file] [-l] [-s key=value]... [-d data-dir] [-v]" >&2
  echo "  -g  stable host name of the primary gateway (required)" >&2
  echo "  -p  its Gateway Network port (default: 8060, or 8088 with -k)" >&2
  echo "  -k  connect without TLS" >&2
  echo "  -c  redundancy.xml to seed from (default: ${base_file})" >&2
  echo "  -l  link the role's leased licence (primary-/backup-ignition-license-key)" >&2
  echo "  -s  a redundancy.xml entry to set, e.g. redundancy.standbyactivitylevel=Warm (repeatable)" >&2
  echo "  -d  the mounted data volume (default: ${data_dir})" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hlkvc:d:g:p:s:" flag; do
  case "${flag}" in
    g) primary_host="${OPTARG}" ;;
    p) primary_port="${OPTARG}" ;;
    k) use_tls=false ;;
    c) base_file="${OPTARG}" ;;
    l) role_licences=true ;;
    s) [[ "${OPTARG}" == redundancy.*=* ]] || { usage; echo "ERROR: -s needs redundancy.<key>=<value>, got '${OPTARG}'" >&2; exit 2; }
       settings+=("${OPTARG}") ;;
    d) data_dir="${OPTARG}" ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "prepare-redundancy.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "prepare-redundancy.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done

[[ -n "${primary_host}" ]] || { usage; echo "ERROR: -g (the primary's host name) is required" >&2; exit 2; }
[[ -d "${data_dir}" ]] || { echo "ERROR: data volume ${data_dir} is not mounted" >&2; exit 1; }
[[ -f "${base_file}" ]] || { echo "ERROR: redundancy base file ${base_file} not found" >&2; exit 1; }
if [[ -z "${primary_port}" ]]; then
  primary_port=$([[ "${use_tls}" == true ]] && echo 8060 || echo 8088)
fi

detail() {
  if [[ "${verbose}" == true ]]; then echo "  $*" >&2; fi
}

# Sets <entry key="KEY">VALUE</entry> in a Java properties XML file, adding it when missing.
set_entry() {
  local file="$1" key="$2" value="$3"
  if xmlstarlet sel -t -c "/properties/entry[@key='${key}']" "${file}" > /dev/null 2>&1; then
    xmlstarlet ed --inplace -u "/properties/entry[@key='${key}']" -v "${value}" "${file}"
  else
    xmlstarlet ed --inplace -s /properties -t elem -n entry-new -v "${value}" \
      -i /properties/entry-new -t attr -n key -v "${key}" \
      -r /properties/entry-new -v entry "${file}"
  fi
  detail "${file##*/}: ${key}=${value}"
}

host="${HOSTNAME:-$(hostname)}"
case "${host##*-}" in
  0) role="primary"; node_role="Master" ;;
  1) role="backup"; node_role="Backup" ;;
  *) echo "ERROR: cannot tell the redundancy role of pod ${host}: expected a name ending in -0 or -1" >&2; exit 1 ;;
esac
role_upper="${role^^}"
echo "Preparing redundancy as ${role} (${node_role})"

# Public address, shared settings first, then the role's own.
gateway_xml=""
for candidate in "${data_dir}/gateway.xml" "${data_dir}/gateway.xml_clean"; do
  if [[ -f "${candidate}" ]]; then gateway_xml="${candidate}"; break; fi
done
changed=0
for setting in address:ADDRESS httpPort:HTTP_PORT httpsPort:HTTPS_PORT; do
  key="gateway.publicAddress.${setting%%:*}"
  for var in "GATEWAY_PUBLIC_${setting#*:}" "GATEWAY_PUBLIC_${setting#*:}_${role_upper}"; do
    value="${!var:-}"
    [[ -n "${value}" ]] || continue
    if [[ -z "${gateway_xml}" ]]; then
      echo "WARNING: ${var} is set but no gateway.xml exists under ${data_dir}; public address left as is" >&2
      continue
    fi
    set_entry "${gateway_xml}" "${key}" "${value}"
    changed=$((changed + 1))
  done
done
if (( changed > 0 )); then
  set_entry "${gateway_xml}" gateway.publicAddress.autoDetect false
fi

if [[ "${role_licences}" == true ]]; then
  licence_dir="${data_dir}/config/local/ignition"
  mkdir -p "${licence_dir}"
  ln -sfn "/run/secrets/ignition/${role}-ignition-license-key" "${licence_dir}/.ignition-license-key"
  ln -sfn "/run/secrets/ignition/${role}-ignition-activation-token" "${licence_dir}/.ignition-activation-token"
  echo "Linked the ${role} leased licence"
fi

redundancy_xml="${data_dir}/redundancy.xml"
if [[ ! -f "${redundancy_xml}" ]]; then
  cp "${base_file}" "${redundancy_xml}"
  echo "Seeded ${redundancy_xml}"
fi
set_entry "${redundancy_xml}" redundancy.noderole "${node_role}"
set_entry "${redundancy_xml}" redundancy.gan.host "${primary_host}"
set_entry "${redundancy_xml}" redundancy.gan.port "${primary_port}"
set_entry "${redundancy_xml}" redundancy.gan.enableSsl "${use_tls}"
for setting in "${settings[@]}"; do
  set_entry "${redundancy_xml}" "${setting%%=*}" "${setting#*=}"
done
echo "Redundancy: ${node_role}, primary at ${primary_host}:${primary_port} (TLS ${use_tls})"

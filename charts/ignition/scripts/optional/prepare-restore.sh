#!/usr/bin/env bash
# Stages a gateway backup (.gwbk) for the gateway to restore on its first start. Runs in the
# restore-backup init container, before the data volume is seeded:
#   - a new (empty) data volume gets the backup copied from a mounted claim (-f) or downloaded
#     (-u) into .stoke-restore/gateway.gwbk, plus a `pending` marker; the entrypoint shim then
#     starts the gateway with the image's restore option and removes the marker;
#   - a volume the gateway has used is never restored again; a staged backup left from an
#     earlier restore is removed;
#   - with -p only the pod with ordinal 0 (the redundancy primary) restores; the backup node
#     takes its configuration from the primary.
#
#   prepare-restore.sh [-d data-dir] (-f backup-file | -u url) [-p] [-v]
#
# For -u, RESTORE_USERNAME and RESTORE_PASSWORD (when set) are sent as basic authentication.
set -euo pipefail

data_dir="/data"
backup_file=""
url=""
primary_only=false
verbose=false

usage() {
  echo "usage: prepare-restore.sh [-d data-dir] (-f backup-file | -u url) [-p] [-v]" >&2
  echo "  -d  the mounted data volume (default: ${data_dir})" >&2
  echo "  -f  the backup, on a mounted volume" >&2
  echo "  -u  an http(s) URL to download the backup from" >&2
  echo "  -p  restore only on the redundancy primary (pod ordinal 0)" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hvpd:f:u:" flag; do
  case "${flag}" in
    d) data_dir="${OPTARG}" ;;
    f) backup_file="${OPTARG}" ;;
    u) url="${OPTARG}" ;;
    p) primary_only=true ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "prepare-restore.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "prepare-restore.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done

if [[ -n "${backup_file}" && -n "${url}" ]] || [[ -z "${backup_file}" && -z "${url}" ]]; then
  usage; echo "ERROR: give exactly one of -f (a backup file) and -u (a URL)" >&2; exit 2
fi
[[ -d "${data_dir}" ]] || { echo "ERROR: data volume ${data_dir} is not mounted" >&2; exit 1; }

detail() {
  if [[ "${verbose}" == true ]]; then echo "  $*" >&2; fi
}

staging="${data_dir}/.stoke-restore"

if [[ "${primary_only}" == true ]]; then
  host="${HOSTNAME:-$(hostname)}"
  if [[ "${host##*-}" != "0" ]]; then
    echo "Not restoring on ${host}: only the redundancy primary restores; this node syncs from it"
    exit 0
  fi
fi

if [[ -f "${staging}/pending" ]]; then
  echo "A staged backup is still waiting for the gateway to restore it; keeping it"
  exit 0
fi

# The volume is new when it holds nothing but what the file system or this script put there.
shopt -s nullglob dotglob
used=()
for entry in "${data_dir}"/*; do
  case "${entry##*/}" in
    lost+found | .stoke-restore) ;;
    *) used+=("${entry##*/}") ;;
  esac
done
shopt -u nullglob dotglob
if (( ${#used[@]} > 0 )); then
  if [[ -d "${staging}" ]]; then
    rm -rf "${staging}"
    echo "Removed the backup staged for an earlier restore"
  fi
  echo "The data volume is in use (${used[*]:0:3}...), so the backup is not restored"
  exit 0
fi

mkdir -p "${staging}"
partial="${staging}/gateway.gwbk.part"
if [[ -n "${backup_file}" ]]; then
  [[ -f "${backup_file}" ]] || { echo "ERROR: backup ${backup_file} not found; check gateway.restore.persistentVolumeClaim and gateway.restore.file" >&2; exit 1; }
  cp "${backup_file}" "${partial}"
  echo "Copied the backup ${backup_file}"
else
  command -v curl > /dev/null || { echo "ERROR: downloading a backup needs curl" >&2; exit 1; }
  # Credentials go through a config on stdin, never the command line other processes can read.
  config=""
  if [[ -n "${RESTORE_USERNAME:-}" || -n "${RESTORE_PASSWORD:-}" ]]; then
    quote() { local v="${1//\\/\\\\}"; printf '"%s"' "${v//\"/\\\"}"; }
    config="user = $(quote "${RESTORE_USERNAME:-}:${RESTORE_PASSWORD:-}")"
  fi
  if ! printf '%s\n' "${config}" | curl --fail --silent --show-error --location --retry 3 \
      --config - --output "${partial}" "${url}"; then
    rm -f "${partial}"
    echo "ERROR: could not download the backup from ${url}" >&2
    exit 1
  fi
  echo "Downloaded the backup from ${url}"
fi
# A gateway backup is a zip archive; anything else (an HTML error page, say) is refused here
# rather than by the gateway.
if [[ "$(head -c 2 "${partial}")" != "PK" ]]; then
  rm -f "${partial}"
  echo "ERROR: the backup is not a gateway backup (.gwbk is a zip archive)" >&2
  exit 1
fi
mv "${partial}" "${staging}/gateway.gwbk"
touch "${staging}/pending"
detail "staged ${staging}/gateway.gwbk ($(wc -c < "${staging}/gateway.gwbk") bytes)"
echo "Staged the backup; the gateway restores it as it starts"

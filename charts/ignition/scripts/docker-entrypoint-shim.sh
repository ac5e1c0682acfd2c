#!/usr/bin/env bash
# Entrypoint of the gateway container. Optionally copies third-party modules from the external
# modules volume into the installation, then hands over to the image's own entrypoint with the
# arguments it was given. When the restore init container has staged a gateway backup
# (prepare-restore.sh), the entrypoint is asked to restore it (`-r`), once: the marker is removed
# first, so a gateway that restarts later never restores over its own data.
#
# Environment (set by the chart's config-base ConfigMap):
#   IGNITION_HELM_LOAD_EXTERNAL_MODULES          "true" to load modules
#   IGNITION_HELM_LOAD_EXTERNAL_MODULES_REPLACE  "true" to overwrite modules the image ships
#   EXTERNAL_MODULES_LOCATION                    where the volume is mounted
#   IGNITION_DOCKER_ENTRYPOINT                   entrypoint to hand over to
#   IGNITION_RESTORE_STAGING                     where a staged backup waits (default: the
#                                                data volume's .stoke-restore folder)
set -euo pipefail

install_dir="${IGNITION_INSTALL_LOCATION:?IGNITION_INSTALL_LOCATION is not set; is this an Ignition image?}"
modules_dir="${IGNITION_MODULES_LOCATION:-${install_dir}/user-lib/modules}"
external_dir="${EXTERNAL_MODULES_LOCATION:-/media/shared-files/modules}"
load_external="${IGNITION_HELM_LOAD_EXTERNAL_MODULES:-false}"
replace_existing="${IGNITION_HELM_LOAD_EXTERNAL_MODULES_REPLACE:-false}"
entrypoint="${IGNITION_DOCKER_ENTRYPOINT:-/usr/local/bin/docker-entrypoint.sh}"
restore_staging="${IGNITION_RESTORE_STAGING:-${install_dir}/data/.stoke-restore}"

log() { printf 'shim     | %(%Y/%m/%d %H:%M:%S)T | %s\n' -1 "$*"; }
debug() {
  if [[ "${ENTRYPOINT_DEBUG_ENABLED:-}" == "true" ]]; then printf '  DEBUG: %s\n' "$*" >&2; fi
}

load_external_modules() {
  if [[ ! -d "${modules_dir}" ]]; then
    echo "ERROR: the gateway modules folder ${modules_dir} does not exist" >&2
    exit 1
  fi
  mkdir -p "${external_dir}"
  shopt -s nullglob
  local modules=( "${external_dir}"/*.modl )
  shopt -u nullglob
  if (( ${#modules[@]} == 0 )); then
    log "No modules found in ${external_dir}"
    return
  fi
  log "Loading ${#modules[@]} external module(s) from ${external_dir}"
  local module target
  for module in "${modules[@]}"; do
    target="${modules_dir}/$(basename "${module}")"
    if [[ -e "${target}" && "${replace_existing}" != "true" ]]; then
      debug "keeping the module already installed at ${target}"
      continue
    fi
    cp -f "${module}" "${target}"
    log "Installed $(basename "${module}")"
  done
}

if [[ "${load_external}" == "true" ]]; then
  load_external_modules
fi

if [[ -f "${restore_staging}/pending" && -f "${restore_staging}/gateway.gwbk" ]]; then
  rm -f "${restore_staging}/pending"
  log "Restoring the staged gateway backup ${restore_staging}/gateway.gwbk"
  exec "${entrypoint}" -r "${restore_staging}/gateway.gwbk" "$@"
fi
exec "${entrypoint}" "$@"

#!/usr/bin/env bash
# Seeds an empty data volume with the data folder that ships in the image, once. A marker file
# records that the volume was seeded, so later starts leave the gateway's data alone.
#
#   seed-data-volume.sh [-d data-dir] [-v]
set -euo pipefail

data_dir="/data"
verbose=false

usage() {
  echo "usage: seed-data-volume.sh [-d data-dir] [-v]" >&2
  echo "  -d  the mounted data volume (default: /data)" >&2
  echo "  -v  verbose" >&2
}

while getopts ":hvd:" flag; do
  case "${flag}" in
    d) data_dir="${OPTARG}" ;;
    v) verbose=true ;;
    h) usage; exit 0 ;;
    :) usage; echo "seed-data-volume.sh: -${OPTARG} needs a value" >&2; exit 2 ;;
    *) usage; echo "seed-data-volume.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done

if [[ ! -d "${data_dir}" ]]; then
  echo "ERROR: data volume ${data_dir} is not mounted" >&2
  exit 1
fi

marker="${data_dir}/.ignition-seed-complete"
if [[ -f "${marker}" ]]; then
  [[ "${verbose}" == true ]] && echo "Data volume already seeded (${marker} exists)"
  exit 0
fi

source_dir="${IGNITION_INSTALL_LOCATION:?IGNITION_INSTALL_LOCATION is not set; is this an Ignition image?}/data"
# Images keep a pristine copy next to the live folder; prefer it when present.
if [[ -d "${source_dir}_clean" ]]; then
  source_dir="${source_dir}_clean"
fi

echo "Seeding the data volume from ${source_dir}"
cp -dpR "${source_dir}"/. "${data_dir}"/
touch "${marker}"

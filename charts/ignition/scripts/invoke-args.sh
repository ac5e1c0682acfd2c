#!/usr/bin/env bash
# Runs each argument as a shell command, in order, stopping at the first failure.
#
#   invoke-args.sh [-e] "command one" "command two" ...
#
# With -e the last command replaces this shell (exec) instead of running as a child, so it
# receives signals directly; use it when the last command is the long-running process.
#
# No `set -u`: the commands come from the chart's values (preconfigure.additionalCmds), and an
# unset variable in one of them expands to nothing, as with the official chart's script, instead
# of stopping the init container.
set -eo pipefail

exec_last=false
while getopts ":e" flag; do
  case "${flag}" in
    e) exec_last=true ;;
    *) echo "invoke-args.sh: unknown option -${OPTARG}" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

(( $# > 0 )) || exit 0

while (( $# > 1 )); do
  eval "$1"
  shift
done

if [[ "${exec_last}" == true ]]; then
  # Split on whitespace only: the command is exec'd, not interpreted by a shell.
  read -r -a words <<< "$1"
  exec "${words[@]}"
fi
eval "$1"

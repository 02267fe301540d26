#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bash completion of pwresetctl offers its commands, subcommands and options, user names
# where a user is expected, and nothing where nothing is.
set -u
# shellcheck source=/dev/null
source "$1"
failed=0
expect() { # expect "WANTED WORDS" WORD...: the completion of the last WORD
	local want=$1
	shift
	COMP_WORDS=(pwresetctl "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_pwresetctl
	if [[ "${COMPREPLY[*]}" != "$want" ]]; then
		echo "not ok - pwresetctl $*: got '${COMPREPLY[*]}', want '$want'"
		failed=1
	else
		echo "ok - pwresetctl $* -> $want"
	fi
}
expect "reset email check tokens revoke queue status overview policy" ""
expect "email" em
expect "set language unset show import export" email ""
expect "root" email language roo
expect "ja de default" email language root ""
expect "--language" email set --la
expect "root" email set roo
expect "" email set root ""
expect "root" revoke roo
expect "" revoke root ""
expect "flush" queue ""
expect "set" policy ""
expect "self_reset" policy set self_r
expect "yes no" policy set self_reset ""
expect "" policy set self_reset no ""
expect "root" queue flush roo
expect "--dry-run" email import --d
expect "--print" reset --pr
expect "--language" reset --lan
expect "--no-lock" --json reset --no
expect "--json-seq" check --json-s
expect "30m 1h 24h 3d 7d" reset --ttl ""
expect "" status ""
exit $failed

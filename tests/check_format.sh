#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The C code as .clang-format says (Debian 12's clang-format 14): every .c and .h file of the
# product and of its tests. Prints each file that differs with what clang-format would change,
# and exits 1; exits 77 (skipped) when clang-format is not installed.
# Usage: check_format.sh SOURCE_ROOT
set -uo pipefail
root=${1:?usage: check_format.sh SOURCE_ROOT}
if ! command -v clang-format >/dev/null; then
	echo "check_format: clang-format is not installed (apt-get install clang-format); skipped"
	exit 77
fi
cd "$root" || exit 2
mapfile -t files < <(find helper pam_module tests -name '*.[ch]' -not -path '*/corpus/*' | sort)
bad=0
if clang-format --dry-run --Werror "${files[@]}" >/dev/null 2>&1; then
	files_checked=${#files[@]}
	echo "check_format: $files_checked files, 0 not formatted ($(clang-format --version))"
	exit 0
fi
for f in "${files[@]}"; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "$f: not formatted as .clang-format says; clang-format -i $f changes:"
		clang-format "$f" | diff -u "$f" - | sed -n '3,40p'
		bad=$((bad + 1))
	fi
done
echo "check_format: ${#files[@]} files, $bad not formatted ($(clang-format --version))"
[ "$bad" = 0 ]

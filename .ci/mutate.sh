#!/usr/bin/env bash
# mutate.sh - a tiny, generic hand-mutation harness for Go packages.
#
# Usage:
#   mutate.sh [-C dir] [-t seconds] [-l logdir] MUTANTS_FILE PKG [PKG...]
#
#   -C dir      module directory to work in (default: current directory);
#               file paths in MUTANTS_FILE are relative to it
#   -t seconds  wall-clock limit per `go test` run (default 300)
#   -l logdir   keep each mutant's `go test` output as logdir/<id>.log
#
# MUTANTS_FILE: one mutant per line, blank lines and lines starting with #
# ignored:
#   id|file|exact original text|replacement text|description
# Inside a field, write a literal | as \| (so Go's || is \|\|), a literal
# backslash as \\, a newline as \n and a tab as \t. The original text must
# occur exactly once in the file, or the mutant is reported INVALID.
#
# For each mutant the file is copied aside, the replacement is applied as an
# exact literal replace (python3, no regexes), the file's package is built,
# then `go test -count=1 PKG...` runs, and the file is restored (also on
# exit or interrupt). Statuses:
#   KILLED    tests failed (the failing packages are listed)
#   SURVIVED  tests passed
#   TIMEOUT   go test exceeded the limit (counted as detected, not survived)
#   NOBUILD   the mutated package does not compile (not counted as either)
#   INVALID   bad line, missing file, or original not found exactly once
# The last line is `survived k of n` where n counts KILLED+SURVIVED+TIMEOUT.
# Exit status: 0 if all mutants were detected, 1 if any survived, 2 on usage
# error or a failing baseline.
set -u

dir=. limit=300 logdir=
while getopts "C:t:l:h" opt; do
	case $opt in
	C) dir=$OPTARG ;;
	t) limit=$OPTARG ;;
	l) logdir=$OPTARG ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
	echo "usage: $0 [-C dir] [-t seconds] [-l logdir] MUTANTS_FILE PKG [PKG...]" >&2
	exit 2
fi
mutants=$(realpath "$1"); shift
pkgs=("$@")
[ -n "$logdir" ] && mkdir -p "$logdir" && logdir=$(realpath "$logdir")
cd "$dir" || exit 2

tmp=$(mktemp -d)
current=""   # file currently mutated, relative to $dir
restore() {
	if [ -n "$current" ]; then
		cp -p "$tmp/orig" "$current" && current=""
	fi
}
trap 'restore; rm -rf "$tmp"' EXIT
trap 'echo "interrupted, restoring" >&2; restore; exit 130' INT TERM HUP

# apply.py LINE -> prints "file" on success; or "INVALID reason"; with
# second arg "write" it writes the mutated file.
cat >"$tmp/apply.py" <<'EOF'
import sys
def unescape_split(line):
    fields, cur, i = [], [], 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            n = line[i + 1]
            cur.append({'|': '|', '\\': '\\', 'n': '\n', 't': '\t'}.get(n, '\\' + n))
            i += 2
            continue
        if c == '|':
            fields.append(''.join(cur)); cur = []
        else:
            cur.append(c)
        i += 1
    fields.append(''.join(cur))
    return fields
line, mode = sys.argv[1], sys.argv[2]
f = unescape_split(line)
if len(f) != 5:
    print("INVALID %d fields, want 5 (escape | as \\|)" % len(f)); sys.exit(0)
mid, path, orig, repl, desc = f
if mode == "id":
    print(mid); sys.exit(0)
if mode == "file":
    print(path); sys.exit(0)
if mode == "desc":
    print(desc); sys.exit(0)
try:
    src = open(path, encoding="utf-8").read()
except OSError as e:
    print("INVALID cannot read %s: %s" % (path, e)); sys.exit(0)
n = src.count(orig) if orig else 0
if n != 1:
    print("INVALID original text occurs %d times in %s" % (n, path)); sys.exit(0)
if orig == repl:
    print("INVALID replacement equals original"); sys.exit(0)
if mode == "write":
    with open(path, "w", encoding="utf-8") as out:
        out.write(src.replace(orig, repl, 1))
print("OK")
EOF

echo "baseline: go test -count=1 ${pkgs[*]}"
if ! timeout -k 10 "$limit" go test -count=1 "${pkgs[@]}" >"$tmp/base.log" 2>&1; then
	cat "$tmp/base.log" >&2
	echo "baseline tests fail; fix them first" >&2
	exit 2
fi

n=0 survived=0 killed=0 timedout=0 nobuild=0 invalid=0
while IFS= read -r line || [ -n "$line" ]; do
	case $line in "" | "#"*) continue ;; esac
	id=$(python3 "$tmp/apply.py" "$line" id)
	case $id in INVALID*) printf '%-8s %-9s %s\n' "?" INVALID "${id#INVALID } :: $line"; invalid=$((invalid + 1)); continue ;; esac
	file=$(python3 "$tmp/apply.py" "$line" file)
	desc=$(python3 "$tmp/apply.py" "$line" desc)
	check=$(python3 "$tmp/apply.py" "$line" check)
	if [ "$check" != OK ]; then
		printf '%-8s %-9s %s\n' "$id" INVALID "${check#INVALID } ($desc)"; invalid=$((invalid + 1)); continue
	fi
	cp -p "$file" "$tmp/orig"
	current=$file
	python3 "$tmp/apply.py" "$line" write >/dev/null
	log=$tmp/run.log
	[ -n "$logdir" ] && log=$logdir/$id.log
	if ! go build -o /dev/null "./$(dirname "$file")" >"$log" 2>&1; then
		status=NOBUILD; nobuild=$((nobuild + 1)); by=""
	else
		timeout -k 10 "$limit" go test -count=1 -timeout "${limit}s" "${pkgs[@]}" >"$log" 2>&1
		rc=$?
		by=$(awk '$1=="FAIL" && NF>=2 {print $2}' "$log" | sed 's#.*/##' | sort -u | paste -sd, -)
		if [ $rc -eq 0 ]; then
			status=SURVIVED; survived=$((survived + 1)); by=""
		elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			status=TIMEOUT; timedout=$((timedout + 1))
		else
			status=KILLED; killed=$((killed + 1))
		fi
		n=$((n + 1))
	fi
	restore
	if ! cmp -s "$tmp/orig" "$file"; then
		echo "FATAL: $file not restored" >&2; exit 3
	fi
	printf '%-8s %-9s %-22s %s\n' "$id" "$status" "${by:+by $by}" "$desc"
done <"$mutants"

echo "killed $killed, timeout $timedout, nobuild $nobuild, invalid $invalid"
echo "survived $survived of $n"
[ "$survived" -eq 0 ]

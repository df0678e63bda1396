#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# plot.sh - latency against thread count, from one benchmark run.
#
#   build/tests/bench/allthreads-bench --json > bench.json
#   tests/bench/plot.sh bench.json bench.svg        # or bench.png
#
# INPUT is the --json output, or the file written by --data FILE.  The plot
# has the single broadcast (idle: solid, busy: dashed) for allthreads, glibc
# and libpsx, log-log, median with p10..p90 bars; with RECIPE=1 in the
# environment it shows the recipe section instead.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 RESULTS.json|DATA [OUT.svg|OUT.png]" >&2
	exit 64
fi
in=$1
out=${2:-bench.svg}
command -v gnuplot >/dev/null || { echo "$0: gnuplot not found" >&2; exit 1; }
[ -r "$in" ] || { echo "$0: cannot read $in" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
data=$tmp/data

if [ "$(head -c 1 "$in")" = "{" ]; then
	# One result object per line (the benchmark writes it so): jq if it
	# is there, else the same with awk.
	if command -v jq >/dev/null; then
		jq -r '.results
			| map(select(.median != null and (.section == "idle"
				or .section == "busy" or .section == "recipe")))
			| group_by(.section + " " + .mechanism)[]
			| "# \(.[0].section) \(.[0].mechanism)",
			  (sort_by(.threads)[]
			   | "\(.threads) \(.median) \(.p10) \(.p90)"),
			  "", ""' "$in" > "$data"
	else
		awk '
		function val(k,   r) {
			if (match($0, "\"" k "\": *\"[^\"]*\"")) {
				r = substr($0, RSTART, RLENGTH)
				sub(/^"[^"]*": *"/, "", r); sub(/"$/, "", r)
				return r
			}
			if (match($0, "\"" k "\": *[-0-9.]+")) {
				r = substr($0, RSTART, RLENGTH)
				sub(/^"[^"]*": */, "", r)
				return r
			}
			return ""
		}
		/"section":/ {
			s = val("section")
			if (s != "idle" && s != "busy" && s != "recipe") next
			if (val("median") == "") next
			key = s " " val("mechanism")
			if (!(key in rows)) order[n++] = key
			rows[key] = rows[key] val("threads") " " val("median") \
				" " val("p10") " " val("p90") "\n"
		}
		END {
			for (i = 0; i < n; i++)
				printf "# %s\n%s\n\n", order[i], rows[order[i]]
		}' "$in" > "$data"
	fi
else
	cp "$in" "$data"
fi

want=${RECIPE:+recipe}
want=${want:-idle busy}
plot=""
i=0
# the block titles, in file order; gnuplot's index counts the same blocks
for title in $(grep '^# ' "$data" | sed 's/^# //; s/ /_/g'); do
	section=${title%%_*}
	mech=$(echo "${title#*_}" | tr '_' ' ')
	case " $want " in *" $section "*) ;; *) i=$((i + 1)); continue ;; esac
	case $mech in
	allthreads*nohold*) lc=4 ;;
	allthreads*) lc=1 ;;
	glibc|39*) lc=2 ;;
	libpsx|41*) lc=3 ;;
	*) lc=5 ;;
	esac
	dt=1
	[ "$section" = busy ] && dt=2
	[ -n "$plot" ] && plot="$plot, "
	plot="$plot'$data' index $i using 1:2:3:4 with yerrorlines lc $lc dt $dt pt 7 ps 0.6 title '$mech ($section)'"
	i=$((i + 1))
done
[ -n "$plot" ] || { echo "$0: no results to plot in $in" >&2; exit 1; }

case $out in
*.png) term="pngcairo size 900,600 font ',10'" ;;
*) term="svg size 900,600 dynamic font 'sans,11'" ;;
esac
if [ -n "${RECIPE:-}" ]; then
	what="hardening recipe (41 steps): one step program vs 41 broadcasts"
else
	what="one broadcast of setresuid to every thread (idle: solid, busy: dashed)"
fi

gnuplot <<EOF
set terminal $term
set output '$out'
set title "$what\nmedian, bars p10..p90, $(uname -sr), $(nproc) CPUs"
set logscale xy
set xlabel 'threads in the process'
set ylabel 'latency (microseconds)'
set grid
set key top left
plot $plot
EOF
echo "$0: wrote $out"

# tests/public.sh - copies of the programs under test that another user
# can run (sourced by the shell tests).  The build tree may sit where only
# its owner can enter (a clone under /root is the usual case), so a test
# that runs something as nobody or as uid 1000 runs these copies.
#
#   public_init DIR   the copies go to DIR/pub; DIR becomes searchable
#                     (0711) and is the caller's to remove
#   public FILE       prints the path of a copy of FILE that anyone may
#                     run, with the shared libraries it finds outside the
#                     system directories (liballthreads.so.0) beside it
#
# The copies find those libraries through LD_LIBRARY_PATH, which
# public_init puts first: a copy's RUNPATH still names the build tree,
# which another user cannot enter.

public_init() {
	PUB=$1/pub
	chmod 0711 "$1" && mkdir -p "$PUB" && chmod 0755 "$PUB" || return 1
	export LD_LIBRARY_PATH="$PUB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

public() {
	local src=$1 dst lib
	dst=$PUB/${src##*/}
	if [ ! -e "$dst" ]; then
		cp "$src" "$dst" && chmod a+rx "$dst" || return 1
		for lib in $(ldd "$src" 2>/dev/null |
			awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
			case $lib in
			/lib/* | /lib64/* | /usr/*) continue ;;
			esac
			[ -e "$PUB/${lib##*/}" ] && continue
			cp -L "$lib" "$PUB/" && chmod a+r "$PUB/${lib##*/}"
		done
	fi
	printf '%s\n' "$dst"
}

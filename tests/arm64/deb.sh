# tests/arm64/deb.sh - the Debian packages on arm64, sourced by
# tests/arm64/vm.sh: a dpkg database for the unpacked root, the .debs
# cross-built with `dpkg-buildpackage -a arm64` against that root, their
# install and tests staged into the emulated machine, and what the host
# checks (the build, lintian) added to the results.
#
# The host's dpkg is never touched: no foreign architecture is added and
# nothing arm64 is installed on it.  dpkg-shlibdeps (dh_shlibdeps) needs
# to know which package holds each arm64 library the .debs link; it gets
# a private copy of the root's database whose paths are the root's paths
# on the host (deb_hostdb), through a dpkg-shlibdeps first on PATH that
# adds --admindir and the root's library directory.
#
# Functions (vm.sh's variables: top, build, root, img, log):
#   deb_rootdb ROOT ARCHIVES DEB...   /var/lib/dpkg in ROOT: each DEB (in
#                                     ARCHIVES) installed, its triggers
#                                     registered, as dpkg would leave it
#   deb_build                         the .debs in $build.deb/out
#   deb_stage POSTLINES               the .debs and the package test into
#                                     the image ($img/at/tests.sh)
#   deb_results TESTLOG               the host's results, as "aarch64:..."
#
# Environment: AT_ARM64_DEB=0 builds and tests no package.

deb_on=${AT_ARM64_DEB:-1}
# The package suite's tests that run in the machine, after the install
# (lintian runs on the host).
DEB_TESTS="installed systemd-installed"
[ "$deb_on" = 1 ] || DEB_TESTS=
deb_dir=$build.deb
# The host's results: "NAME RESULT" lines, and what they printed.
deb_res=()

# deb_field NAME DIR: the field NAME of the control file in DIR.
deb_field() {
	sed -n "s/^$1: *//p" "$2/control"
}

deb_rootdb() {
	local dst=$1 archives=$2 d ctl name pkg arch ma t w f
	local db=$dst/var/lib/dpkg
	shift 2
	ctl=$(mktemp -d) || return 1
	mkdir -p "$db/info" "$db/updates" "$db/triggers" || return 1
	# info/format 1: a Multi-Arch: same package's files are NAME:ARCH.*.
	# An empty triggers/Unincorp: without one, dpkg takes the database
	# for one older than triggers and activates every interest.
	: >"$db/status" && : >"$db/available" && echo arm64 >"$db/arch" &&
		echo 1 >"$db/info/format" && : >"$db/triggers/Unincorp" ||
		return 1
	for d in "$@"; do
		d=$archives/$d
		rm -rf "${ctl:?}"/*
		dpkg-deb -e "$d" "$ctl" || return 1
		pkg=$(deb_field Package "$ctl") arch=$(deb_field Architecture "$ctl")
		ma=$(deb_field Multi-Arch "$ctl")
		name=$pkg
		[ "$ma" = same ] && name=$pkg:$arch
		# The control stanza, installed.
		{ sed '1a Status: install ok installed' "$ctl/control" &&
			echo; } >>"$db/status" || return 1
		# Its files, as dpkg lists them: "/." then each path.
		dpkg-deb --fsys-tarfile "$d" | tar -t |
			sed -e 's|^\./$|/.|' -e 's|^\./|/|' -e 's|/$||' \
				>"$db/info/$name.list" || return 1
		for f in "$ctl"/*; do
			[ "${f##*/}" = control ] || cp "$f" "$db/info/$name.${f##*/}" ||
				return 1
		done
		# Trigger interests: a path's in triggers/File, a name's in
		# triggers/NAME.
		[ -e "$ctl/triggers" ] || continue
		while read -r t w; do
			case $t in
			interest | interest-await) f=$name ;;
			interest-noawait) f=$name/noawait ;;
			*) continue ;;
			esac
			case $w in
			/*) echo "$w $f" >>"$db/triggers/File" ;;
			*) echo "$f" >>"$db/triggers/$w" ;;
			esac
		done <"$ctl/triggers"
	done
	rm -rf "$ctl"
}

# deb_hostdb ROOT ADMIN: ROOT's database with ROOT's paths as the host
# sees them; a path under /bin, /sbin or /lib (merged into /usr in the
# root) is listed under both names, as dpkg-shlibdeps may find it by
# either.
deb_hostdb() {
	local r=$1 admin=$2 f
	rm -rf "$admin" && cp -a "$r/var/lib/dpkg" "$admin" || return 1
	printf '%s\n' "$(dpkg --print-architecture)" arm64 >"$admin/arch"
	for f in "$admin"/info/*.list; do
		awk -v r="$r" '{ print r $0 }
			/^\/(bin|sbin|lib)(\/|$)/ { print r "/usr" $0 }' \
			"$r/var/lib/dpkg/info/${f##*/}" >"$f" || return 1
	done
}

# deb_flags NAME...: dpkg-buildflags' NAMEs for arm64 as debian/rules
# sets them (its exports, hardening=+all), as a meson array's items.
deb_flags() {
	local n w
	for n in "$@"; do
		(cd "$deb_dir/src/allthreads" && DEB_HOST_ARCH=arm64 make -s \
			-f debian/rules --eval='at-flags: ; @dpkg-buildflags --get $(AT_FLAG)' \
			at-flags AT_FLAG="$n") || return 1
	done | tr ' ' '\n' | while read -r w; do
		[ -n "$w" ] && printf "'%s', " "$w"
	done
}

deb_fail() {
	deb_res+=("$1 FAIL")
	log "$1 failed: $2"
}

deb_build() {
	[ "$deb_on" = 1 ] || return 0
	local s e src=$deb_dir/src/allthreads
	s=$(date +%s)
	command -v dpkg-buildpackage >/dev/null ||
		{ deb_fail package-build "no dpkg-buildpackage"; return 1; }
	rm -rf "$deb_dir" && mkdir -p "$src" "$deb_dir/bin" "$deb_dir/out" ||
		{ deb_fail package-build "cannot create $deb_dir"; return 1; }
	# A copy of the tree, as .ci/run builds the amd64 packages.
	{ git -C "$top" ls-files -co --exclude-standard 2>/dev/null ||
		(cd "$top" && find . -path './build*' -prune -o -type f -print); } |
		grep -Ev '^(\./)?build[^/]*/' | tar -C "$top" -cf - -T - |
		tar -C "$src" -xf - ||
		{ deb_fail package-build "cannot copy the tree"; return 1; }
	# One cross file (debhelper passes one): the root and the flags, then
	# aarch64.ini.
	{ printf "[constants]\nsysroot = '%s'\n" "$root" &&
		printf 'c_flags = [%s]\n' "$(deb_flags CPPFLAGS CFLAGS)" &&
		printf 'link_flags = [%s]\n' "$(deb_flags LDFLAGS)" &&
		cat "$top/tests/arm64/aarch64.ini"; } >"$deb_dir/cross.ini" &&
		deb_hostdb "$root" "$deb_dir/admin" ||
		{ deb_fail package-build "cannot make the cross file or the database"; return 1; }
	cat >"$deb_dir/bin/dpkg-shlibdeps" <<EOF
#!/bin/sh
# The arm64 libraries are the root's, known to its own database.
exec /usr/bin/dpkg-shlibdeps --admindir='$deb_dir/admin' \\
	-l'$root/usr/lib/aarch64-linux-gnu' "\$@"
EOF
	chmod 755 "$deb_dir/bin/dpkg-shlibdeps"
	# -d: the build dependencies are the root's, which the host's dpkg
	# does not know (the build itself shows they are there).
	if ! (cd "$src" && PATH=$deb_dir/bin:$PATH \
		DH_MESON_CROSS_FILE=$deb_dir/cross.ini \
		DEB_BUILD_OPTIONS="nocheck parallel=2" \
		timeout 1200 dpkg-buildpackage -a arm64 -d -us -uc -b \
		>"$deb_dir/build.log" 2>&1); then
		tail -40 "$deb_dir/build.log"
		deb_fail package-build "dpkg-buildpackage -a arm64 (log: $deb_dir/build.log)"
		return 1
	fi
	mv "$deb_dir"/src/*.deb "$deb_dir"/src/*.changes \
		"$deb_dir"/src/*.buildinfo "$deb_dir/out/" ||
		{ deb_fail package-build "no .debs"; return 1; }
	deb_res+=("package-build OK")
	e=$(date +%s)
	log "arm64 .debs: $(cd "$deb_dir/out" && echo *.deb) ($((e - s)) s)"
	# lintian, the package suite's test, on the host (it reads the .debs,
	# whatever their architecture), while the machine runs: some 10 s of
	# CPU.  Not niced: at a load of 50 a niced lintian passed its 240 s.
	AT_DEB_CHANGES=$(ls "$deb_dir"/out/*.changes) \
		bash "$top/tests/package/test-lintian.sh" \
		>"$deb_dir/lintian.tap" 2>&1 &
	deb_lintian=$!
}

# deb_stage LINES: the .debs (not their -dbgsym) into the image, and one
# test, "package", at the end of $img/at/tests.sh: tests/arm64/package.sh
# with LINES, the package suite's at_run lines.
deb_stage() {
	local lines=$1 tmo=120 t
	[ "$deb_on" = 1 ] && [ -n "${deb_lintian:-}" ] || return 0
	mkdir -p "$img/at/debs" && cp "$lines" "$img/at/package-tests.sh" &&
		find "$deb_dir/out" -name '*.deb' ! -name '*-dbgsym_*' \
			-exec cp {} "$img/at/debs/" \; || return 1
	# Its bound: the tests' own, and two minutes for dpkg.
	for t in $(awk '{ print $3 }' "$lines"); do
		tmo=$((tmo + t))
	done
	echo "at_run package $tmo $top '' bash $top/tests/arm64/package.sh" \
		"/at/debs /at/package-tests.sh" >>"$img/at/tests.sh"
}

# deb_results TESTLOG: the host's results added to TESTLOG and printed;
# fails if one failed.
deb_results() {
	local out=$1 r name res rc=0 body
	[ "$deb_on" = 1 ] || return 0
	if [ -n "${deb_lintian:-}" ]; then
		wait "$deb_lintian"
		r=FAIL
		grep -q '^ok ' "$deb_dir/lintian.tap" &&
			! grep -q '^not ok' "$deb_dir/lintian.tap" && r=OK
		deb_res+=("lintian $r")
	fi
	for r in "${deb_res[@]}"; do
		name=${r% *} res=${r##* }
		body=
		case $name in
		lintian) body=$(cat "$deb_dir/lintian.tap") ;;
		package-build) [ "$res" = OK ] ||
			body=$(tail -40 "$deb_dir/build.log" 2>/dev/null) ;;
		esac
		python3 -c 'import json, sys
print(json.dumps({"name": "aarch64:" + sys.argv[1], "result": sys.argv[2],
                  "stdout": sys.argv[3]}))' "$name" "$res" "$body" >>"$out"
		printf 'aarch64: %-28s %s (on the host)\n' "$name" "$res"
		[ "$res" = OK ] || { rc=1; printf '%s\n' "$body" | tail -20; }
	done
	return $rc
}

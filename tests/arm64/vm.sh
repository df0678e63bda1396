#!/usr/bin/env bash
# tests/arm64/vm.sh - runs the suite on an emulated arm64 Debian: builds,
# from Debian packages only, an arm64 root (unpacked .debs, busybox as
# init), cross-builds the tree against it, boots Debian's arm64 kernel
# with that root and the build as its initramfs under qemu-system-aarch64
# (TCG, no disk, no network), runs the chosen TAP test programs there with
# the command lines and environments `meson introspect --tests` gives, and
# writes their results as BUILDDIR/meson-logs/testlog.json, named
# "aarch64:NAME", for .ci/run's closing line.
#
#   tests/arm64/vm.sh [BUILDDIR]        default BUILDDIR: build-arm64
#
# Environment:
#   AT_ARM64_CACHE    downloads and the base image (default
#                     /var/cache/allthreads-arm64, or ~/.cache/allthreads-arm64
#                     when /var/cache is not writable), keyed by package
#                     versions
#   AT_ARM64_TESTS    a space-separated list of test names instead of the
#                     default selection (the suites below, minus EXCLUDE)
#   AT_ARM64_FACTOR   multiplies each test's meson timeout (default 6:
#                     emulation is slow); the tests also get it as
#                     AT_TIMEOUT_FACTOR, to multiply their own deadlines
#   AT_ARM64_TIMEOUT  bound on the whole emulated run, seconds (default 2100:
#                     a hang guard; about 10 min on a quiet host, 27 on one
#                     at load average 30-130)
#   AT_ARM64_JOBS     how many tests run at once there (default 2, as
#                     .ci/run's meson test --num-processes 2 and the
#                     machine's 2 CPUs); a test meson runs alone
#                     (is_parallel: false) runs alone there too
#   AT_ARM64_NOAPT    1: use only what the cache holds (no apt-get update)
#   AT_ARM64_BENCH    0: no benchmark run after the tests (default 1: one
#                     small run of tests/bench/allthreads-bench, its table
#                     in BUILDDIR/meson-logs/arm64-bench.txt and printed,
#                     counted as "aarch64:bench"; emulated figures, which
#                     show only that it works)
#   AT_ARM64_DEB      0: no Debian package (default 1: tests/arm64/deb.sh
#                     cross-builds the .debs with `dpkg-buildpackage -a
#                     arm64` into BUILDDIR.deb, lintian checks them on the
#                     host, and the machine installs them with dpkg and
#                     runs the package suite: "aarch64:package-build",
#                     "aarch64:lintian", "aarch64:package")
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${1:-build-arm64}
case $build in /*) ;; *) build=$top/$build ;; esac
cache=${AT_ARM64_CACHE:-/var/cache/allthreads-arm64}
# Not root: the user's own cache.
[ -n "${AT_ARM64_CACHE:-}" ] || [ -w /var/cache ] ||
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/allthreads-arm64
factor=${AT_ARM64_FACTOR:-6}
jobs=${AT_ARM64_JOBS:-2}
whole=${AT_ARM64_TIMEOUT:-2100}
bench=${AT_ARM64_BENCH:-1}
# The benchmark's sizes there: idle broadcasts at 1 and 10 threads, the
# recipe at 10, the helper's idle cost; not busy (it measures the
# scheduler), e2e (it needs gdb) or ptrace (its reference injector is
# x86_64 only).  About 100 s with busy and three recipe repetitions.
BENCH_ARGS="--threads 1,10 --recipe-threads 10 --reps 5 --recipe-reps 2
	--budget 1 --gdb-max 0 --only idle,recipe,helper --watchdog 300"

# The suites that run there.  soak, fuzz, bench, faults and lint stay on
# x86_64 (.ci/run); the benchmark program itself runs once after the tests
# (AT_ARM64_BENCH), the package suite after the .debs are installed
# (tests/arm64/deb.sh).
SUITES="unit api priv helper ptrace cli"
# Tests left out of the arm64 run, each with its reason (times measured
# under TCG on a loaded 2-CPU x86_64 host).
#   Fail there, not yet diagnosed, most likely the emulation's speed
#   against time bounds sized for native runs:
#   - threads: at 1000 threads, 0 of 999 pool workers answer the test's
#     10 s request; the smaller counts pass.
#   - churn, newborn: broadcasts end -ETIMEDOUT (5 s) while thousands of
#     threads come and go.
#   - cli-storm, sec: the fixture's alarm(120) and the clients'
#     alarm(30) expire mid-test.
#   ptrace-cli failed here (7 of 7 runs on 2026-12-07) on its runs'
#   deadlines, not on aarch64's injection: the blocked thread's ptrace run
#   took 1.8 s against --timeout=500, the hardening recipe on 10 threads
#   11 s against the default 5 s (each call injected alone, two stops);
#   the thread whose call the deadline cut ended "failed: an injected call
#   did not return" (the CLI dropped that why).  Its deadlines now take
#   AT_TIMEOUT_FACTOR: 3 of 3 runs pass.
#   helper runs there: its storm (20 clients, 5 requests each) failed in
#   1 of 2 runs, each client's request refused by the helper, with
#   nothing changed, because it reached the front of the queue after the
#   client's fixed 4 s start-by window (a run on 8 threads takes some
#   200 ms there; not the 3 s idle bound, AT_CTL_IDLE_MS).  Its clients
#   now send such a request again when AT_TIMEOUT_FACTOR is above 1:
#   3 of 3 runs pass (116 s and 111 s with qemu held to 35% of a CPU, where
#   the old test failed, 3 of 20 clients ok; 37 s unheld at load 2).
#   ptrace-eintr and ptrace-sigmask run there (the aarch64 EINTR resume
#   and temporary-mask rearm): ptrace-sigmask found that a signal sent
#   during the stop no longer ended ppoll, pselect6 and rt_sigsuspend
#   with EINTR, fixed in lib/target/inject.c.
#   Need what the image does not hold:
#   - cli-json: python3.  cli-go, cli-redis: Go, redis-server.
#     cli-completion: bash-completion.  cli-systemd: systemd.
#   x86_64 only, as soak, fuzz and bench are:
#   - faults (suite priv too): the fault injection, 600 s natively.
#   ptrace-rseq and ptrace-matrix-states and -seccomp run there (their
#   fixtures hold aarch64 code since 2026-12-07: an rseq critical section,
#   a raw svc #0 thread, the seccomp filter's arch): states (raw clone
#   threads, restartable sleep, sigwait, epoll, zombie leader, churn,
#   SIGSTOP) 15-21 s, seccomp 7 s, rseq 104 s at 40 runs of the route a
#   target and 113 s at 20 (host load 20), 189 s at 20 in a CI run at
#   host load 30-120; 12 runs there since (it reads AT_TIMEOUT_FACTOR),
#   to keep the CI run near 30 minutes.  With the aarch64 rseq
#   abort turned off (pt_rseq_abort() returning at once) rseq fails
#   there: 1522892 commits lost at 20 runs; 9000 lost, and the busy
#   target past its alarm, at 40.  The other ptrace-matrix-* tests stay
#   x86_64 only:
#   - zmm: skips there (no AVX-512; the vector state is ptrace-sve's).
#   - kill: 309 s there.  It found a gap, since fixed: 1 of its 14 runs
#     ended with the target gone, tool exit 2; in a loop of that run (3
#     of 20, two emulated machines at once) the target died of SIGSEGV
#     after "the tracer process did not answer in time and was killed
#     after it began to change threads".  The tracer of the 400-thread run outran
#     its deadline plus let-go and grace (5 + 1 + 5 s) under emulation;
#     the caller killed it (lib/target/ptrace-worker.c), and the
#     kernel's detach resumed a thread that held injected registers.
#     aarch64 has no stub to bring such a thread back (x86_64's does,
#     stub.h); its injected calls now return into rt_sigreturn from a
#     frame of the thread's own state (arch-aarch64.h), and
#     ptrace-matrix-stall, which runs here, kills a stalled tracer in
#     the middle of a call on purpose: 302 and 346 s here with 12
#     tracers, each killed 6 s past a 12 s deadline, and 31 of its 60
#     checks failed before the way back (the target died at 10 of the 11
#     stalls its tracer reached); since then 4 tracers here (calls 2 and
#     9 of the matrix target, 2 and 8 of sve-target, each of which killed
#     the target before: call 2, the region's mprotect, until it got a
#     way back of the target's own code); all eight a fixture outside
#     emulation.
#   - abandon: the stub's own way back; aarch64 has no stub
#     (AT_ARCH_HAS_STUB 0: one injected call a step).
#   - big (2000 threads), killany, lost, churn, load, seccomp-late: slow
#     natively already (120-900 s timeouts), not aarch64-specific.
#   - go, redis: Go, redis-server.  nobody: not measured.
#   Added later and run there once (closerange 8 s and pidns 42 s pass
#   and run; ptrace-sve, aarch64 only, 53 s):
#   - fork-eintr: "0 runs in 3000 ms": its 3 s window holds no broadcast
#     under emulation (5 forks did happen, none failed).
#   - exec: every test skips there (needs python3).
#   Added later, not yet run there: cli-group (a master forking 300
#   workers under ptrace: emulated, likely slow).
#   Time: pass or not measured, left out to keep .ci/run short:
#   - sigfork-child (passes there in 41 s and 34 s since init makes
#     /dev/fd, which its process substitutions open; before, one run went
#     past 6 minutes and was stopped),
#   - cli-uring (242 s there at load 20, passes: its deadlines and
#     fixture take AT_TIMEOUT_FACTOR, the image has /etc/shadow, and it
#     expects what a kernel that lists a ring's personalities says, as
#     6.1 does),
#   - cli-prom (44 s on x86_64 at load 23: some 40 runs, a dozen of them
#     host-wide),
#   - cli-usage (78 s), cli-show (114 s), cli-check (60 s), cli-list
#     (45 s), cli-exec (37 s); not measured: cli-churn, cli-predict,
#     cli-output, cli-edges, cli-audit, cli-tables, auth, matrix, plant.
EXCLUDE="threads churn newborn cli-storm sec
	cli-json
	cli-go cli-redis cli-completion cli-systemd cli-usage cli-show
	cli-check cli-list cli-exec
	cli-churn cli-predict cli-output cli-edges cli-audit cli-tables
	auth matrix plant faults
	exec fork-eintr cli-uring sigfork-child cli-group cli-prom
	ptrace-matrix-zmm ptrace-matrix-kill ptrace-matrix-abandon
	ptrace-matrix-big ptrace-matrix-killany ptrace-matrix-lost
	ptrace-matrix-churn ptrace-matrix-load ptrace-matrix-seccomp-late
	ptrace-matrix-go ptrace-matrix-redis ptrace-matrix-nobody"

# The slowest tests there (emulated seconds at host load ~1, 2026-12-07,
# one at a time), started first among those that run two at a time.
SLOW="cli-landlock ptrace-matrix-stall ptrace-api ptrace-rseq ptrace-cli
	ptrace-eintr ptrace-matrix-states fork cli-remote cli-prctl cli-priv
	cli-creds cli-set ptrace-sigmask ptrace-landlock"

# The arm64 packages: the runtime of the tests and what the cross build
# links against.  apt resolves their dependencies.
PKGS="busybox-static bash dash coreutils util-linux libcap2-bin jq gawk sed grep
	libc-bin procps findutils diffutils libc6 libcap2 libseccomp2
	libsmartcols1 libcap-ng0 libc6-dev libcap-dev libseccomp-dev
	libsmartcols-dev libcap-ng-dev libnettle8 nettle-dev man-db"
KERNEL=linux-image-cloud-arm64
# The way the base root is made: change it when that changes.
ROOTV=3

# No results from an earlier run count for this one.
rm -f "$build/meson-logs/testlog.json"

log() { printf 'arm64: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
now() { date +%s; }
# The Debian packages' part.
. "$top/tests/arm64/deb.sh"

for p in qemu-system-aarch64 aarch64-linux-gnu-gcc apt-get dpkg-deb cpio \
	gzip python3 meson; do
	command -v "$p" >/dev/null || die "$p not found"
done

mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" \
	"$cache/debs" || die "cannot create $cache"
[ -e "$cache/apt/status" ] || : >"$cache/apt/status"
# A private apt for arm64: the host's sources and keys, its own lists and
# an empty status, so the host's dpkg is left alone (no foreign
# architecture added, nothing installed).
APT=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64
	-o Dir::State="$cache/apt" -o Dir::State::Lists="$cache/apt/lists"
	-o Dir::State::status="$cache/apt/status"
	-o Dir::Cache="$cache/apt/cache" -o Debug::NoLocking=1
	-o APT::Install-Recommends=0 -o Acquire::Retries=3
	-o APT::Sandbox::User=root)

t0=$(now)
if [ "${AT_ARM64_NOAPT:-}" != 1 ]; then
	timeout 600 apt-get "${APT[@]}" -qq update ||
		die "apt-get update (arm64) failed"
fi
# The versioned kernel package the meta package names.
kpkg=$(apt-cache "${APT[@]}" depends "$KERNEL" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || die "no $KERNEL in the arm64 lists"
# shellcheck disable=SC2086
timeout 900 apt-get "${APT[@]}" -y -qq install --download-only $PKGS \
	>"$cache/download.log" 2>&1 || { cat "$cache/download.log"; die "download failed"; }
# The exact set of .debs that closure holds, as apt would install it.
# shellcheck disable=SC2086
debs=$(apt-get "${APT[@]}" -s install $PKGS 2>/dev/null |
	awk '$1 == "Inst" {
		v = substr($3, 2); gsub(/:/, "%3a", v)
		for (i = 4; i <= NF; i++)
			if ($i ~ /^\[[a-z0-9]+\]\)$/) a = $i
		gsub(/[][)]/, "", a)
		print $2 "_" v "_" a ".deb" }' | sort)
[ -n "$debs" ] || die "apt resolved no packages"
kver=$(apt-cache "${APT[@]}" policy "$kpkg" | awk '/Candidate:/ { print $2 }')
kdeb=$cache/debs/${kpkg}_${kver//:/%3a}_arm64.deb
if [ ! -s "$kdeb" ]; then
	(cd "$cache/debs" && timeout 600 apt-get "${APT[@]}" -qq download \
		"$kpkg") && [ -s "$kdeb" ] || die "cannot download $kpkg"
fi
t1=$(now)
log "packages: $(echo "$debs" | wc -l) .debs and $kpkg ($((t1 - t0)) s)"

# The base root: every .deb unpacked (no maintainer scripts run), keyed by
# the set of .debs and ROOTV.
key=$( { echo "$debs"; basename "$kdeb"; echo "$ROOTV"; } | sha256sum | cut -c1-16)
root=$cache/root-$key
if [ ! -e "$root/.done" ]; then
	rm -rf "$root" "$root.tmp"
	mkdir -p "$root.tmp" || die "cannot create $root.tmp"
	for d in $debs; do
		dpkg-deb -x "$cache/apt/cache/archives/$d" "$root.tmp" ||
			die "cannot unpack $d"
	done
	# Merged /usr, as on an installed Debian 12 (its packages still ship
	# /bin, /sbin and /lib): the test command lines name the host's
	# paths, and Landlock rules on /usr must cover every program.
	for d in bin sbin lib; do
		[ -d "$root.tmp/$d" ] && [ ! -L "$root.tmp/$d" ] || continue
		mkdir -p "$root.tmp/usr/$d" &&
			cp -a "$root.tmp/$d/." "$root.tmp/usr/$d/" &&
			rm -rf "$root.tmp/$d" && ln -s "usr/$d" "$root.tmp/$d" ||
			die "cannot merge /$d into /usr/$d"
	done
	# Absolute symlinks point into the root, for the cross linker on
	# the host as for the machine.
	find "$root.tmp" -type l -lname '/*' -print0 |
		while IFS= read -r -d '' l; do
			tgt=$(readlink "$l")
			ln -sfn "$(realpath -m -s --relative-to="$(dirname "$l")" \
				"$root.tmp$tgt")" "$l"
		done
	# /bin/sh (popen, system) is dash, as dash's maintainer script
	# would have made it.
	[ -e "$root.tmp/usr/bin/sh" ] || ln -s dash "$root.tmp/usr/bin/sh"
	# Its dpkg database, so that dpkg -i finds its Depends there.
	# shellcheck disable=SC2086
	deb_rootdb "$root.tmp" "$cache/apt/cache/archives" $debs ||
		die "cannot make the root's dpkg database"
	dpkg-deb -x "$kdeb" "$root.tmp/kernel" || die "cannot unpack $kdeb"
	touch "$root.tmp/.done" && mv "$root.tmp" "$root" || die "cannot keep $root"
	# Older roots go: one is enough.
	for old in "$cache"/root-*; do
		[ "$old" = "$root" ] || rm -rf "$old"
	done
fi
vmlinuz=$(ls "$root"/kernel/boot/vmlinuz-* | head -1)
t2=$(now)
log "root: $root ($((t2 - t1)) s)"

# The cross build, against that root.
mkdir -p "$(dirname "$build")"
constants=$build.sysroot.ini
printf "[constants]\nsysroot = '%s'\nc_flags = []\nlink_flags = []\n" "$root" \
	>"$constants"
# A build made against another root starts again.
if [ ! -e "$build/build.ninja" ] ||
	[ "$(cat "$build/.arm64-root" 2>/dev/null)" != "$root" ]; then
	rm -rf "$build"
	mkdir -m 700 "$build" || die "cannot create $build"
	# The test hooks as in .ci/run's own builds (ptrace-matrix-stall).
	meson setup "$build" --werror --cross-file "$constants" \
		--cross-file "$top/tests/arm64/aarch64.ini" -Dtest_hooks=true \
		>"$build.setup.log" 2>&1 ||
		{ cat "$build.setup.log"; die "meson setup failed"; }
	echo "$root" >"$build/.arm64-root"
fi
meson compile -C "$build" >"$build.compile.log" 2>&1 ||
	{ tail -40 "$build.compile.log"; die "cross build failed"; }
t3=$(now)
log "cross build: $build ($((t3 - t2)) s)"
deb_build
td=$(now)

# The image: the base root (cached as its own archive), then the tree and
# the build at the paths the host has, and the run script.
base=$cache/base-$key.cpio.gz
if [ ! -e "$base" ]; then
	(cd "$root" && find . -path ./kernel -prune -o \
		-path ./usr/include -prune -o -path ./usr/share/doc -prune -o \
		-path ./usr/share/man -prune -o -path ./usr/share/locale -prune -o \
		-path ./usr/share/info -prune -o -name '*.a' -o -print |
		cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$base.tmp") &&
		mv "$base.tmp" "$base" || die "cannot pack the base root"
	for old in "$cache"/base-*.cpio.gz; do
		[ "$old" = "$base" ] || rm -f "$old"
	done
fi

stage=$(mktemp -d) || die "mktemp"
trap 'rm -rf "$stage"' EXIT
img=$stage/img
mkdir -p "$img/at" "$img$top" "$img$build" || die "cannot stage"
# The tree's files (sources of the shell tests, their fixtures) and the
# build without its objects.
{ git -C "$top" ls-files -co --exclude-standard 2>/dev/null ||
	(cd "$top" && find . -path './build*' -prune -o -type f -print); } |
	grep -Ev '^(\./)?build[^/]*/' | tar -C "$top" -cf - -T - |
	tar -C "$img$top" -xf - || die "cannot copy the tree"
(cd "$build" && find . -name '*.p' -prune -o -name meson-private -prune -o \
	-name '*.o' -prune -o -name '*.a' -prune -o -print |
	cpio -pdm --quiet "$img$build") || die "cannot copy the build"

# The tests and their command lines, as meson would run them.
# The package suite's tests that run there (tests/arm64/deb.sh) are
# written apart, to run once the .debs are installed.
python3 - "$build" "$img/at/tests.sh" "$factor" "$SUITES" "$EXCLUDE" \
	"${AT_ARM64_TESTS:-}" "$DEB_TESTS" "$stage/package-tests" "$SLOW" <<'PY' || die "cannot list the tests"
import json, shlex, subprocess, sys
build, out, factor, suites, exclude, only, after, after_out, first = sys.argv[1:10]
first = first.split()
tests = json.loads(subprocess.check_output(
    ["meson", "introspect", "--tests", build]))
suites, exclude, only = suites.split(), exclude.split(), only.split()
after = after.split()
lines, after_lines = [], []
for t in tests:
    ss = {s.split(":")[-1] for s in t["suite"]}
    if t["name"] in after:
        pass
    elif only:
        if t["name"] not in only:
            continue
    elif not ss & set(suites) or t["name"] in exclude:
        continue
    env = dict(t["env"], AT_TIMEOUT_FACTOR=str(int(float(factor))))
    env = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
    cmd = " ".join(shlex.quote(c) for c in t["cmd"])
    tmo = int((t["timeout"] or 30) * float(factor))
    wd = t["workdir"] or build
    # at_par: may run beside another at_par test, as under meson test
    # --num-processes 2; at_run (is_parallel: false, and the package
    # suite's): alone.
    run = "at_par" if t["is_parallel"] and t["name"] not in after else "at_run"
    (after_lines if t["name"] in after else lines).append(
        (first.index(t["name"]) if t["name"] in first else len(first),
         f"{run} {shlex.quote(t['name'])} {tmo} {shlex.quote(wd)} "
         f"{shlex.quote(env)} {cmd}"))
# The tests that run alone first, then the others two at a time, the
# slowest there first so that both slots end near together.
lines.sort(key=lambda l: (l[1].startswith("at_par"), l[0]))
lines = [l for _, l in lines]
after_lines = [l for _, l in after_lines]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
with open(after_out, "w") as f:
    f.write("".join(l + "\n" for l in after_lines))
print(f"{len(lines)} tests", file=sys.stderr)
PY
sed -i "1i AT_JOBS=$jobs" "$img/at/tests.sh" || die "cannot write the tests"
: >"$img/at/bench.sh"
if [ "$bench" = 1 ] && [ -x "$build/tests/bench/allthreads-bench" ]; then
	# shellcheck disable=SC2086
	echo "at_bench 420 $build/tests/bench/allthreads-bench" $BENCH_ARGS \
		>"$img/at/bench.sh"
fi
deb_stage "$stage/package-tests" || die "cannot stage the .debs"

cat >"$img/init" <<'EOF'
#!/bin/bash
# The machine's init (bash, for its job table): mounts, users, then each
# test with its output on the console between markers, then power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/at/bb
/bin/busybox mkdir -p /at/bb /etc /proc /sys /dev /tmp /run /root
/bin/busybox --install -s /at/bb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
# As on an installed Debian (udev makes them): bash's process
# substitution opens /dev/fd/N.
ln -s /proc/self/fd /dev/fd
mount -t devpts devpts /dev/pts
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs shm /dev/shm
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
chmod 1777 /tmp /dev/shm
hostname arm64
cat >/etc/passwd <<P
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
at1000:x:1000:1000:at1000:/tmp:/bin/bash
P
cat >/etc/group <<G
root:x:0:
nogroup:x:65534:
at1000:x:1000:
G
# root's only, as Debian's (tests open it as the unprivileged threads).
echo 'root:*:20000:0:99999:7:::' >/etc/shadow
chmod 600 /etc/shadow
export HOME=/root LANG=C.UTF-8
echo "@@at uname $(uname -rm) $(grep -m1 Features /proc/cpuinfo)"
# at_one NAME TMO WD ENV CMD...: one test, its output kept until it ends,
# then printed whole under the console's lock.
at_one() {
	local name=$1 tmo=$2 wd=$3 env=$4 s e rc out=/at/out.$1
	shift 4
	s=$(date +%s)
	(cd "$wd" && eval "exec env $env timeout -k 10 $tmo \"\$@\"") \
		</dev/null >"$out" 2>&1
	rc=$?
	e=$(date +%s)
	{
		flock 9
		echo "@@at begin $name"
		sed 's/^/@@at| /' "$out"
		echo "@@at end $name $rc $((e - s))"
	} 9>>/at/lock
	rm -f "$out"
}
# at_par: beside at most AT_JOBS - 1 others; at_run: alone, once every
# test before it has ended.
at_par() {
	while [ "$(jobs -pr | wc -l)" -ge "$AT_JOBS" ]; do
		sleep 0.2
	done
	at_one "$@" &
}
at_run() {
	wait
	at_one "$@"
}
at_bench() {
	local tmo=$1 s e rc
	shift
	s=$(date +%s)
	timeout -k 10 "$tmo" "$@" </dev/null >/at/out 2>/at/err
	rc=$?
	e=$(date +%s)
	[ "$rc" = 0 ] || tail -n 5 /at/err >>/at/out
	echo "@@at begin bench"
	sed 's/^/@@at| /' /at/out
	echo "@@at end bench $rc $((e - s))"
}
. /at/tests.sh
wait
. /at/bench.sh
echo "@@at done"
sync
poweroff -f
EOF
chmod 755 "$img/init"

initrd=$stage/initrd.cpio.gz
cp "$base" "$initrd" &&
	(cd "$img" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1 \
		>>"$initrd") || die "cannot pack the image"
t4=$(now)
log "image: $(du -h "$initrd" | cut -f1) ($((t4 - t3)) s)"

mkdir -p "$build/meson-logs"
console=$build/meson-logs/arm64-console.log
timeout -k 10 "$whole" qemu-system-aarch64 -M virt -cpu max -smp 2 -m 1024 \
	-nic none -nographic -no-reboot -kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyAMA0 panic=-1 quiet loglevel=1 rdinit=/init" \
	</dev/null >"$console" 2>&1
qrc=$?
t5=$(now)
log "emulated run: qemu exit $qrc ($((t5 - t4)) s); console in $console"

python3 - "$console" "$img/at/tests.sh" "$build/meson-logs/testlog.json" \
	"$qrc" "$img/at/bench.sh" "$build/meson-logs/arm64-bench.txt" <<'PY'
import json, re, shlex, sys
console, tests, out, qrc, bench, bench_out = sys.argv[1:7]
names = [shlex.split(l)[1] for l in open(tests)
         if l.startswith(("at_run ", "at_par "))]
names += ["bench"] if open(bench).read().strip() else []
res, cur, body = {}, None, []
done = False
for line in open(console, errors="replace"):
    line = line.rstrip("\r\n")
    i = line.find("@@at")
    if i < 0:
        continue
    line = line[i:]
    if line.startswith("@@at| ") or line == "@@at|":
        if cur:
            body.append(line[6:])
    elif line.startswith("@@at begin "):
        cur, body = line[11:], []
    elif line.startswith("@@at end "):
        _, _, name, rc, secs = line.split()
        res[name] = (int(rc), int(secs), body)
        cur = None
    elif line.startswith("@@at uname"):
        print("arm64:" + line[10:])
    elif line == "@@at done":
        done = True

def judge(name, rc, body):
    if rc in (124, 137):
        return "TIMEOUT"
    if name == "bench":  # a table, not TAP
        return "OK" if rc == 0 else "FAIL"
    oks = sum(1 for l in body if re.match(r"ok\b", l))
    bad = sum(1 for l in body if re.match(r"not ok\b", l)
              and not re.search(r"#\s*TODO", l, re.I))
    skips = sum(1 for l in body if re.match(r"(not )?ok\b.*#\s*SKIP", l, re.I))
    plan = [l for l in body if re.match(r"1\.\.\d+", l)]
    if rc == 77 or (plan and re.match(r"1\.\.0\b", plan[0])):
        return "SKIP"
    if rc != 0 or bad or not plan:
        return "FAIL"
    if oks and skips == oks:
        return "SKIP"
    return "OK"

counts = {}
with open(out, "w") as f:
    for n in names:
        if n in res:
            rc, secs, body = res[n]
            r = judge(n, rc, body)
        else:
            rc, secs, body, r = None, 0, [], "FAIL"
        counts[r] = counts.get(r, 0) + 1
        f.write(json.dumps({"name": "aarch64:" + n, "result": r,
                            "returncode": rc, "duration": secs,
                            "stdout": "\n".join(body)}) + "\n")
        note = "" if n in res else " (did not run: the machine stopped)"
        print(f"aarch64: {n:28} {r:8} {secs:5d} s{note}")
        if r not in ("OK", "SKIP"):
            for l in body[-40:]:
                print("    " + l)
if "bench" in res:
    with open(bench_out, "w") as f:
        f.write("\n".join(res["bench"][2]) + "\n")
    print("aarch64: the benchmark, emulated (TCG on the CI host): its "
          "figures show only that it runs, not arm64's speed")
    for l in res["bench"][2]:
        print("    " + l)
print("aarch64: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
      + ("" if done else f" (the machine did not finish: qemu exit {qrc})"))
sys.exit(0 if set(counts) <= {"OK", "SKIP"} and done else 1)
PY
rc=$?
deb_results "$build/meson-logs/testlog.json" || rc=1
log "download $((t1 - t0)) s, root $((t2 - t1)) s, cross build $((t3 - t2)) s, arm64 .debs $((td - t3)) s, image $((t4 - td)) s, emulated run $((t5 - t4)) s"
exit $rc

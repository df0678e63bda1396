# tests/cli/tap.sh - a small TAP emitter for the CLI tests (sourced).
#
#   AT=path/to/allthreads; . tap.sh
#   run CMD...          runs CMD under `timeout`; sets $out, $err, $rc
#   rc_is N DESC        the last run exited N
#   out_like RE DESC    its stdout matches the extended regex RE
#   err_like RE DESC    its stderr matches RE
#   out_unlike RE DESC  its stdout does not match RE
#   ok COND DESC        COND (a shell expression) is true
#   skip DESC WHY       a skipped test
#   done_testing        prints the plan; exits 1 if anything failed
#   public FILE         a copy of FILE another user may run (../public.sh)
#   at_threads N[:M] ARGS...   at ARGS, allthreads having N idle threads of
#                       its own, the first M blocking every signal
#   threads_env N[:M]   sets T_ENV, the env(1) words that do the same for
#                       the allthreads named next, which another user runs
#                       as a public copy: setpriv ... -- "${T_ENV[@]}" \
#                       "$(public "$AT")"
#   T_PIDS+=(PID)       PID is ended when the test exits, if it is still
#                       the test's own (t_kill, tests/pids.sh)
#   fixture N [ARGS]    the threaded fixture (threaded.c), ready: $FPID
#   planted_fixture N   the planted process: the fixture with N threads, of
#                       which thread 1 sets NO_NEW_PRIVS on itself so that
#                       they disagree: $BAD, killed at exit
#   clean_fixture       a clean one: threads that come and go, all alike:
#                       $GOOD, killed at exit
#   ready_in FILE [S]   waits (S seconds at most, 5 by default) until FILE
#                       has a "ready" line
#   wait_until S CMD... runs CMD every 50 ms until it succeeds, S seconds at
#                       most; fails if it never did
set -u
. "${BASH_SOURCE[0]%/*}/../public.sh"
. "${BASH_SOURCE[0]%/*}/../pids.sh"

AT=${1:?usage: $0 PATH-TO-ALLTHREADS}
T_NUM=0
T_FAILED=0
T_ENV=()
T_TMP=$(mktemp -d)
T_PIDS=()
# Only the test's own shell cleans up, not a subshell it forked.
t_exit() {
	[ "$BASHPID" = "$$" ] || return 0
	t_kill "${T_PIDS[@]}"
	rm -rf "$T_TMP"
}
trap t_exit EXIT
public_init "$T_TMP" || exit 1
# Every command is bounded: a hung test is a failing test.  The bound is
# multiplied under emulation (AT_TIMEOUT_FACTOR, tests/arm64/vm.sh).
T_SLOW=${AT_TIMEOUT_FACTOR:-1}
T_LIMIT=${T_LIMIT:-$((30 * T_SLOW))}
export LC_ALL=C

run() {
	out=$(timeout -k 5 "$T_LIMIT" "$@" 2>"$T_TMP/err")
	rc=$?
	err=$(cat "$T_TMP/err")
}

# The allthreads under test.
at() {
	run "$AT" "$@"
}

# The threads come from at-test-threads.so, preloaded: it starts them
# before allthreads' main and takes itself out of the environment, so a
# PROGRAM after -- has none.  A copy anyone may load (public), since some
# tests run allthreads as another user.
threads_env() {
	T_ENV=(env "AT_TEST_THREADS=$1"
		"LD_PRELOAD=$(public "${AT_TEST_THREADS_SO:?the test-threads library}")")
}

at_threads() {
	threads_env "$1"
	shift
	run "${T_ENV[@]}" "$AT" "$@"
}

t_result() {
	T_NUM=$((T_NUM + 1))
	if [ "$1" = 0 ]; then
		echo "ok $T_NUM - $2"
	else
		echo "not ok $T_NUM - $2"
		T_FAILED=$((T_FAILED + 1))
		# An ok before any run has none of these (set -u).
		echo "# rc=${rc-}"
		printf '%s\n' "${out-}" | sed 's/^/# out: /' | head -20
		printf '%s\n' "${err-}" | sed 's/^/# err: /' | head -20
	fi
}

rc_is() {
	[ "$rc" = "$1" ]
	t_result $? "$2 (exit $1)"
}

out_like() {
	printf '%s\n' "$out" | grep -Eq -- "$1"
	t_result $? "$2"
}

out_unlike() {
	! printf '%s\n' "$out" | grep -Eq -- "$1"
	t_result $? "$2"
}

err_like() {
	printf '%s\n' "$err" | grep -Eq -- "$1"
	t_result $? "$2"
}

ok() {
	eval "$1"
	t_result $? "$2"
}

skip() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1 # SKIP $2"
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" = 0 ]
}

# has_cap N: the effective set of this shell holds capability N.
has_cap() {
	local eff
	eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(( (0x$eff >> $1) & 1 ))
}

# A change that fails (EPERM) must leave no trace: the program after --
# never runs, and the exit status is 1.
RAN_MARK="PROGRAM-RAN"

# fixture N [churn]: start the threaded target with N threads; sets $FPID.  It
# exits by itself after 120 seconds; stop_fixture ends it sooner.
fixture() {
	"${AT_FIXTURE:?AT_FIXTURE: the threaded fixture}" "$@" \
		>"$T_TMP/fixture.out" &
	FPID=$!
	ready_in "$T_TMP/fixture.out" && return 0
	echo "Bail out! the fixture did not start"
	exit 1
}

wait_until() {
	local i tries=$(($1 * 20 * T_SLOW))
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

ready_in() {
	wait_until "${2:-5}" grep -qs '^ready' "$1"
}

planted_fixture() {
	fixture "$1"
	BAD=$FPID
	T_PIDS+=("$BAD")
}

clean_fixture() {
	"$AT_FIXTURE" 0 churn >"$T_TMP/clean.out" &
	GOOD=$!
	T_PIDS+=("$GOOD")
	ready_in "$T_TMP/clean.out"
}

stop_fixture() {
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
}

# jq_ok FILTER DESC: the JSON in $out makes FILTER true.
jq_ok() {
	printf '%s' "$out" | jq -e "$1" >/dev/null
	t_result $? "$2"
}

# A JSON object from allthreads that follows the one schema (allthreads(1),
# JSON OUTPUT): every key, with its type.
SCHEMA='
  (keys == ["action","command","differ","dry_run","exit","items","kept",
            "name","notes","process_wide","program","steps","target",
            "threads","value","verdict"])
  and (.command | type == "string")
  and (.target == null or ((.target | keys) == ["pid","self","tid"]))
  and (.name == null or (.name | type == "string"))
  and (.action | IN("read","change","call","show","check","list"))
  and (.process_wide | type == "boolean")
  and (.dry_run | type == "boolean")
  and (.steps | type == "array")
  and all(.steps[]; (keys == ["call","judge","nr","role","undo"]))
  and (.verdict == null or (.verdict | IN("agree","partial","failed","differ")))
  and (.exit | type == "number")
  and (.value == null or (.value | type == "string"))
  and (.threads | type == "array")
  and all(.threads[]; (keys == ["attrs","error","old","results","state","tid","value","worker"])
      and (.tid | type == "number") and (.results | type == "array")
      and (.worker == null or (.worker | type == "string"))
      and (.attrs == null or ((.attrs | keys) == ["CapAmb","CapBnd","CapEff",
          "CapInh","CapPrm","Gid","Groups","Name","NoNewPrivs","Seccomp",
          "Seccomp_filters","Uid"])))
  and (.program == null or (.program | type == "array"))
  and (.differ | type == "array")
  and (.notes | type == "array")
  and (.items == null or all(.items[]; keys == ["description","name"]))
  and (.kept == null or (((.kept | keys) == ["rings"])
      and all(.kept.rings[]; (keys == ["fd","personalities","sq_thread"])
          and (.fd | type == "number")
          and (.sq_thread == null or (.sq_thread | type == "number"))
          and (.personalities == null or all(.personalities[];
              keys == ["CapEff","Gid","Groups","Uid","id"])))))
'

# schema_ok DESC: every line of $out is an object that follows the schema.
schema_ok() {
	printf '%s\n' "$out" | jq -e -s "length > 0 and all(.[]; $SCHEMA)" \
		>/dev/null
	t_result $? "$1"
}

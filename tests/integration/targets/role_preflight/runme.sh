#!/usr/bin/env bash
# The preflight role and playbook over the test fleet (tests/fleet): 29 inventory hosts on this machine, reached over
# real SSH (our own sshd instances on 127.0.0.x), each with its own host root built from a real /proc/cpuinfo dump,
# three of them real node layouts (kata-deploy 4.1.0 with its 23 runtime handlers, kata-deploy 3.0.0 on containerd
# 1.x, a 3.0.0 distribution package).
# Asserted: the exact per-host and per-runtime-handler verdicts of the JSON report; kata_preflight_runtimes naming a
# handler a host does not have; serial and free strategy runs change nothing after a linear
# one (same report bytes, changed=0 on every host: idempotence), check mode (nothing changes anywhere; the report is
# written unless told not to), kata_preflight_fail_incapable, a run against localhost, the host roots unchanged, and the
# HTML report as headless Chromium renders it (DOM asserts on the host-by-check matrix and the host-by-handler table,
# and a screenshot kept under tests/output/).
set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
first_path=${ANSIBLE_COLLECTIONS_PATH:-}
first_path=${first_path%%:*}
if [[ -n "$first_path" && -d "$first_path/ansible_collections/katacontainers/kata/tests/fleet" ]]; then
    collection="$first_path/ansible_collections/katacontainers/kata"
else
    collection=$(cd "$here/../../../.." && pwd)
fi
fleet="$collection/tests/fleet/fleet.py"
verify=(python3 "$here/verify.py")

for program in /usr/sbin/sshd ssh chromium; do
    if ! command -v "$program" >/dev/null; then
        echo "role_preflight needs $program (Debian packages openssh-server, openssh-client, chromium)" >&2
        exit 1
    fi
done

if [[ -n "${JUNIT_OUTPUT_DIR:-}" ]]; then
    artifacts="${JUNIT_OUTPUT_DIR%/junit}/reports/role_preflight"
else
    artifacts="$collection/tests/output/reports/role_preflight"
fi
mkdir -p "$artifacts"
work=$(mktemp -d /tmp/kata-preflight.XXXXXX)

fleet_pid=
cleanup() {
    local rc=$?
    python3 "$fleet" down --dir "$work/fleet" || rc=1
    if [[ -n "$fleet_pid" ]]; then
        wait "$fleet_pid" || true
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

step_start=$SECONDS
step() {
    echo "== $1 ($((SECONDS - step_start))s so far)"
}

# A playbook run whose output goes to a log, shown when the run's exit status is not the expected one.
playbook() {
    local log=$1 want_rc=$2
    shift 2
    local rc=0
    ansible-playbook "$@" >"$log" 2>&1 || rc=$?
    if [[ $rc -ne $want_rc ]]; then
        cat "$log"
        echo "ansible-playbook $* exited with $rc, expected $want_rc" >&2
        return 1
    fi
    sed -n '/PLAY RECAP/,$p' "$log" | head -3
}

export ANSIBLE_PIPELINING=1 ANSIBLE_FORKS=30 ANSIBLE_NOCOLOR=1 ANSIBLE_SSH_RETRIES=0 ANSIBLE_TIMEOUT=20

step "start the fleet"
# In the foreground (in the background of this script): the fleet's sshd instances stay its children, and it ours.
python3 "$fleet" up --dir "$work/fleet" --port auto --python /usr/bin/python3 --foreground >"$work/fleet.out" 2>&1 &
fleet_pid=$!
while [[ ! -e "$work/fleet/ready" ]]; do
    if ! kill -0 "$fleet_pid" 2>/dev/null; then
        cat "$work/fleet.out" >&2
        exit 1
    fi
    sleep 0.1
done
inventory="$work/fleet/inventory.json"
roots_before=$(python3 "$fleet" digest --dir "$work/fleet")

step "preflight playbook, linear strategy"
playbook "$work/linear.log" 0 -i "$inventory" katacontainers.kata.preflight -e "kata_preflight_report_dir=$work/report"
"${verify[@]}" report "$work/report/preflight.json"
"${verify[@]}" recap "$work/linear.log"
grep -q '29 hosts: 14 capable, 13 not capable, 1 unreachable, 1 failed; 51 runtime handlers checked: 32 capable, 19 not capable, 0 failed' \
    "$work/linear.log"
cp -r "$work/report" "$work/first"

step "serial: 9, same report directory: written once after the last batch, identical (nothing changes)"
playbook "$work/serial.log" 0 -i "$inventory" "$here/serial.yml" -e "kata_preflight_report_dir=$work/report"
"${verify[@]}" recap "$work/serial.log" --changed 0
# the report task ran (not skipped) once, in the last batch
test "$(grep -A1 '^TASK \[katacontainers.kata.preflight : Write the report files on the controller\]' "$work/serial.log" \
    | grep -c '^ok: \[.* -> localhost\]')" -eq 1

step "strategy: free in check mode, same report directory: nothing changes on any host, nor in the report"
ANSIBLE_STRATEGY=free playbook "$work/free-check.log" 0 -i "$inventory" katacontainers.kata.preflight --check \
    -e "kata_preflight_report_dir=$work/report"
"${verify[@]}" recap "$work/free-check.log" --changed 0
for f in preflight.json preflight.md preflight.html; do "${verify[@]}" same "$work/first/$f" "$work/report/$f"; done

step "check mode writes the report (only on the controller), unless kata_preflight_report_in_check_mode=false"
playbook "$work/check.log" 0 -i "$inventory" katacontainers.kata.preflight --check -e kata_hosts=epyc-7451:power8-smt-on \
    -e "kata_preflight_report_dir=$work/check"
"${verify[@]}" report "$work/check/preflight.json" --hosts epyc-7451,power8-smt-on
playbook "$work/check-noreport.log" 0 -i "$inventory" katacontainers.kata.preflight --check -e kata_hosts=epyc-7451:z14 \
    -e kata_preflight_report_in_check_mode=false -e "kata_preflight_report_dir=$work/none"
test ! -e "$work/none"

step "kata_preflight_fail_incapable on four hosts: the report is written, then the hosts that are not ready fail"
playbook "$work/fail.log" 2 -i "$inventory" katacontainers.kata.preflight -e kata_preflight_fail_incapable=true \
    -e kata_hosts=xeon-e5-2680v3:z196-no-kvm:broken-root:unreachable -e "kata_preflight_report_dir=$work/fail"
"${verify[@]}" report "$work/fail/preflight.json" --hosts xeon-e5-2680v3,z196-no-kvm,broken-root,unreachable
"${verify[@]}" recap "$work/fail.log" --hosts xeon-e5-2680v3,z196-no-kvm,broken-root,unreachable \
    --failed z196-no-kvm,broken-root,unreachable

step "kata_preflight_runtimes naming a handler that no host has: each host fails, naming the handlers it has"
playbook "$work/selection.log" 0 -i "$inventory" katacontainers.kata.preflight \
    -e kata_hosts=xeon-e5-2680v3:containerd-1.x:distro-3.0.0 -e '{"kata_preflight_runtimes": ["kata-qemu", "kata-nope"]}' \
    -e "kata_preflight_report_dir=$work/selection"
"${verify[@]}" selection "$work/selection/preflight.json"
"${verify[@]}" recap "$work/selection.log" --hosts xeon-e5-2680v3,containerd-1.x,distro-3.0.0

step "mitogen_linear, when mitogen is installed beside ansible-core"
controller_python=$(ansible-playbook --version | sed -n 's/^  python version = .*(\(.*\))$/\1/p')
if mitogen_dir=$("$controller_python" -c 'import os, ansible_mitogen; print(os.path.dirname(ansible_mitogen.__file__))' 2>/dev/null); then
    ANSIBLE_STRATEGY_PLUGINS="$mitogen_dir/plugins/strategy" ANSIBLE_STRATEGY=mitogen_linear \
        playbook "$work/mitogen.log" 0 -i "$inventory" katacontainers.kata.preflight -e "kata_preflight_report_dir=$work/mitogen"
    "${verify[@]}" report "$work/mitogen/preflight.json"
    "${verify[@]}" recap "$work/mitogen.log"
else
    echo "SKIP mitogen_linear: mitogen is not installed for $controller_python (pip install mitogen)"
fi

roots_after=$(python3 "$fleet" digest --dir "$work/fleet")
if [[ "$roots_before" != "$roots_after" ]]; then
    echo "the host roots changed during the runs" >&2
    exit 1
fi

step "localhost, as make preflight runs it"
playbook "$work/local.log" 0 -i localhost, -c local katacontainers.kata.preflight -e kata_hosts=localhost \
    -e ansible_python_interpreter=/usr/bin/python3 -e "kata_preflight_report_dir=$work/local"
"${verify[@]}" local "$work/local/preflight.json"

step "the HTML report in headless Chromium"
browser=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/chromium")
"${browser[@]}" --dump-dom "file://$work/report/preflight.html" >"$work/dom.html" 2>"$work/chromium.log"
"${verify[@]}" dom "$work/dom.html"
"${browser[@]}" --window-size=1400,2600 --screenshot="$artifacts/preflight.png" "file://$work/report/preflight.html" \
    >>"$work/chromium.log" 2>&1
test -s "$artifacts/preflight.png"
cp "$work/report/preflight.json" "$work/report/preflight.md" "$work/report/preflight.html" "$artifacts/"

step "done; artifacts in $artifacts"

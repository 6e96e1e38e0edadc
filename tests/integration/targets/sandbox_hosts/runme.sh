#!/usr/bin/env bash
# Kata sandboxes as Ansible hosts (issue 15): the inventory plugin katacontainers.kata.kata_sandboxes, the connection
# plugin katacontainers.kata.kata_console and the playbook katacontainers.kata.sandbox_inventory, end to end.
# Two simulated Kata nodes (tests/kata_sim: Go and runtime-rs sandboxes; bash, dash and busybox ash consoles, a busybox
# guest whose console cannot start, a disabled console, a shim that does not answer; pod metadata of containerd and
# CRI-O) are reached through a fleet of two SSH nodes (tests/fleet: our own sshd on 127.0.0.x, real SSH), and one of
# them again as the controller itself (node_connection local).
# Asserted: the refreshed inventory's hosts, groups and variables are exactly the sandboxes the nodes run;
# ansible -m raw over all of them with forks (exact stdout, stderr, rc; each command ran in its own sandbox); the three
# broken sandboxes UNREACHABLE with their reasons; script with arguments; a 1 MiB binary file copied in and fetched back
# identical; --limit by pod and the issue's group pattern; check mode (raw skipped, no console session opened; the
# refresh in check mode changes nothing); one SSH master per node reused.
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
sim=(python3 "$collection/tests/kata_sim/kata_sim.py")
verify=(python3 "$here/verify.py")

for program in /usr/sbin/sshd ssh dash busybox; do
    if ! command -v "$program" >/dev/null; then
        echo "sandbox_hosts needs $program (Debian packages openssh-server, openssh-client, dash, busybox)" >&2
        exit 1
    fi
done

work=$(mktemp -d /tmp/ksh.XXXXXX)
node_a=$(mktemp -d /tmp/kna.XXXXXX)
node_b=$(mktemp -d /tmp/knb.XXXXXX)
fleet_pid=
cleanup() {
    local rc=$?
    python3 "$fleet" down --dir "$work/fleet" || rc=1
    if [[ -n "$fleet_pid" ]]; then
        wait "$fleet_pid" || true
    fi
    "${sim[@]}" stop --root "$node_a" >/dev/null || rc=1
    "${sim[@]}" stop --root "$node_b" >/dev/null || rc=1
    rm -rf "$work" "$node_a" "$node_b"
    exit "$rc"
}
trap cleanup EXIT

step_start=$SECONDS
step() {
    echo "== $1 ($((SECONDS - step_start))s so far)"
}

# A command whose output goes to a log, shown when its exit status is not the expected one.
run() {
    local log=$1 want_rc=$2
    shift 2
    local rc=0
    "$@" >"$log" 2>"$log.err" || rc=$?
    if [[ $rc -ne $want_rc ]]; then
        cat "$log" "$log.err"
        echo "$* exited with $rc, expected $want_rc" >&2
        return 1
    fi
}

export ANSIBLE_PIPELINING=1 ANSIBLE_NOCOLOR=1 ANSIBLE_SSH_RETRIES=0 ANSIBLE_TIMEOUT=20 ANSIBLE_HOST_KEY_CHECKING=1
export ANSIBLE_CACHE_PLUGIN=ansible.builtin.jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$work/facts"
export ANSIBLE_INVENTORY_ENABLED=host_list,yaml,ini,auto,katacontainers.kata.kata_sandboxes
export ANSIBLE_INVENTORY_UNPARSED_FAILED=1 ANSIBLE_LOAD_CALLBACK_PLUGINS=1
export ANSIBLE_CALLBACK_PLUGINS="$here/callback_plugins" ANSIBLE_CALLBACKS_ENABLED=results_json

# A command whose per-host results verify.py reads: results FILE WANT_RC COMMAND...
results() {
    local file=$1 want_rc=$2
    shift 2
    KATA_RESULTS_JSON="$file" run "$file.out" "$want_rc" "$@"
}

step "start two simulated nodes and a fleet of two SSH nodes"
common=(start --sandboxes 0 --no-netns --no-install --max-lifetime 900)
"${sim[@]}" --root "$node_a" "${common[@]}" \
    --sandbox-id a-web --pod a-web=default/web \
    --sandbox-id a-cart --pod a-cart=crio:shop/cart@kata-qemu --hypervisor a-cart=clh --opt console.shell.a-cart=dash \
    --sandbox-id a-tools --pod a-tools=ops/tools --opt console.shell.a-tools=ash \
    --sandbox-id a-bb --pod a-bb=ops/busybox --opt console.shell.a-bb=busybox \
    --sandbox-id a-off --pod a-off=ops/off --opt console.mode.a-off=off \
    --rs-sandbox-id a-api --pod a-api=shop/api@kata-qemu-runtime-rs >"$work/node_a.json"
"${sim[@]}" --root "$node_b" "${common[@]}" \
    --sandbox-id b-pay --pod b-pay=crio:payments/api@kata-qemu \
    --sandbox-id b-cart --pod b-cart=shop/cart \
    --sandbox-id b-none \
    --sandbox-id b-hang --pod b-hang=payments/hang --fault b-hang=hang \
    --rs-sandbox-id b-db --pod b-db=crio:payments/db@kata-qemu --opt console.shell.b-db=dash >"$work/node_b.json"
python3 "$fleet" up --dir "$work/fleet" --port auto --count 2 --python /usr/bin/python3 --foreground \
    >"$work/fleet.out" 2>&1 &
fleet_pid=$!
while [[ ! -e "$work/fleet/ready" ]]; do
    if ! kill -0 "$fleet_pid" 2>/dev/null; then
        cat "$work/fleet.out" >&2
        exit 1
    fi
    sleep 0.1
done
"${verify[@]}" nodes "$work/fleet/inventory.json" "$node_a" "$node_b" "$work/nodes.yml"
nodes=(-i "$work/fleet/inventory.json" -i "$work/nodes.yml")
cat >"$work/kata_sandboxes.yml" <<EOF
plugin: katacontainers.kata.kata_sandboxes
compose:
  ansible_python_interpreter: "'/usr/bin/python3'"
  kata_console_connect_timeout: "1"
EOF

step "refresh the sandbox inventory from the nodes, over SSH"
run "$work/refresh.log" 0 ansible-playbook "${nodes[@]}" katacontainers.kata.sandbox_inventory
run "$work/inventory.json" 0 ansible-inventory -i "$work/kata_sandboxes.yml" --list
"${verify[@]}" inventory "$work/inventory.json" "$node_a" "$node_b"

step "ansible -m raw over every sandbox, 11 forks: exact output; the broken ones UNREACHABLE with their reasons"
results "$work/raw.json" 4 ansible all -i "$work/kata_sandboxes.yml" -f 11 -m raw \
    -a 'pwd; printf "err|" >&2; exit 0'
"${verify[@]}" raw "$work/raw.json"
# one SSH master per node, reused by every relay to it
test "$(find "$work/fleet/cp" -name 'kata-*' -type s | wc -l)" -eq 2

step "the issue's pattern, and --limit by pod"
results "$work/pattern.json" 0 ansible 'kata_namespace_payments:&kata_handler_kata_qemu' \
    -i "$work/kata_sandboxes.yml" -m raw -a pwd
"${verify[@]}" hosts "$work/pattern.json" payments/api=b-pay payments/db=b-db
results "$work/limit.json" 0 ansible all -i "$work/kata_sandboxes.yml" --limit 'shop/cart@xeon-x7550' \
    -m raw -a pwd
"${verify[@]}" hosts "$work/limit.json" shop/cart@xeon-x7550=b-cart
results "$work/limit-glob.json" 0 ansible all -i "$work/kata_sandboxes.yml" --limit 'shop/*' -m raw -a pwd
"${verify[@]}" hosts "$work/limit-glob.json" shop/api=a-api shop/cart@xeon-e5-2680v3=a-cart shop/cart@xeon-x7550=b-cart

step "script with arguments (the guest shell runs it; no Python needed)"
reachable='kata_sandboxes:!kata_shim_unreachable:!ops/busybox:!ops/off'
results "$work/script.json" 2 ansible "$reachable" -i "$work/kata_sandboxes.yml" -f 8 -m script \
    -a "$here/files/probe.sh 'a b' \"c'd\" ''"
"${verify[@]}" script "$work/script.json"

step "a 1 MiB binary file copied into bash, busybox ash and dash guests (Go and runtime-rs) and fetched back identical"
head -c 1048576 /dev/urandom >"$work/blob.bin"
mkdir -m 0700 "$work/guest" "$work/back"
files=(ansible-playbook -i "$work/kata_sandboxes.yml" "$here/files.yml" -e "blob=$work/blob.bin"
       -e "guest_dir=$work/guest" -e "back_dir=$work/back" -l 'default/web:ops/tools:payments/db')
run "$work/files.log" 0 "${files[@]}"
for id in a-web a-tools b-db; do
    cmp "$work/blob.bin" "$work/guest/$id.bin"
    cmp "$work/blob.bin" "$work/back/$id.bin"
done

step "check mode: raw is skipped and opens no console; the refresh changes nothing"
sessions_before=$(cat "$node_a/kata-sim/console.log" "$node_b/kata-sim/console.log" | wc -l)
results "$work/check.json" 0 ansible "$reachable" -i "$work/kata_sandboxes.yml" -C -m raw \
    -a "touch $work/touched"
"${verify[@]}" skipped "$work/check.json" 8
test ! -e "$work/touched"
test "$(cat "$node_a/kata-sim/console.log" "$node_b/kata-sim/console.log" | wc -l)" -eq "$sessions_before"
run "$work/refresh-check.log" 0 ansible-playbook "${nodes[@]}" katacontainers.kata.sandbox_inventory --check
grep -qE 'xeon-x7550 +: ok=2 +changed=0 ' "$work/refresh-check.log" || { cat "$work/refresh-check.log"; exit 1; }
"${verify[@]}" readonly "$node_a/kata-sim/requests.log" "$node_b/kata-sim/requests.log"

step "the node is the controller: node_connection local"
export ANSIBLE_CACHE_PLUGIN_CONNECTION="$work/facts-local"
run "$work/refresh-local.log" 0 ansible-playbook -i localhost, -e ansible_connection=local katacontainers.kata.sandbox_inventory \
    -e "kata_sandbox_inventory_sandbox_root=$node_a/run/vc/sbs" -e "kata_sandbox_inventory_rs_sandbox_root=$node_a/run/kata" \
    -e "kata_sandbox_inventory_containerd_state_dir=$node_a/run/containerd/io.containerd.runtime.v2.task" \
    -e "kata_sandbox_inventory_crio_containers_dir=$node_a/run/containers/storage/overlay-containers" \
    -e ansible_python_interpreter=/usr/bin/python3
results "$work/local.json" 0 ansible 'kata_node_localhost:!ops/busybox:!ops/off' -i "$work/kata_sandboxes.yml" \
    -m raw -a pwd
"${verify[@]}" hosts "$work/local.json" default/web=a-web shop/cart=a-cart ops/tools=a-tools shop/api=a-api
step "done"

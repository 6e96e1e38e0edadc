# katacontainers.kata: set-up, demo and test entry points. Run as root on Debian 12; nothing to install by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON      ?= /usr/bin/python3
VENV        := $(ROOT)/.venv
VPY         := $(VENV)/bin/python
# ansible-test needs the tree at .../ansible_collections/<namespace>/<name>, and it must not sit inside this git
# checkout (ansible-test would ask git for the file list and find the copy ignored): a copy is kept outside it.
BUILD       ?= /var/tmp/katacontainers.kata/$(subst /,_,$(ROOT))
COLL_ROOT   := $(BUILD)/collections
COLL_DIR    := $(COLL_ROOT)/ansible_collections/katacontainers/kata
PYBIN       := $(BUILD)/pybin
PYENV_ROOT  ?= $(shell pyenv root 2>/dev/null || echo /root/.pyenv)
export PATH := $(VENV)/bin:$(PYBIN):$(PATH)
export ANSIBLE_PYTHON_INTERPRETER := $(VPY)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_NOCOLOR := 1
DEBIAN_PACKAGES := rsync iptables iproute2 shellcheck openssh-server openssh-client chromium dash busybox systemd openssl

.PHONY: compat-oldest galaxy robustness ee demo bench pytest help venv deps collection preflight preflight-demo test sanity units units-pythons integration lint sanity-latest bench clean

help:
	@echo "make preflight   check this host (kata_check + kata_env on localhost) and print its verdict"
	@echo "make test        the whole test suite, exactly what CI runs (.ci/run)"

$(VENV)/.stamp: tests/utils/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r tests/utils/requirements-dev.txt
	touch $@

venv: $(VENV)/.stamp

# Debian packages the tests use (real iptables-restore, ip netns, shellcheck for sanity, sshd for the fleet).
deps: venv
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	@# ansible-test downloads get-pip from a host that is unreachable here: serve it from its cache
	@# (tests/utils/get_pip_offline.py says how).
	@mkdir -p $(HOME)/.ansible/test/cache
	@# The pip version each ansible-test asks for (ansible_test/_internal/python_requirements.py): 21.3.1 in
	@# ansible-core 2.15 (get_venv_packages), 24.2 in 2.19, 25.2 in 2.20 and 2.21.
	@for v in 21_3_1 24_2 25_2; do cp tests/utils/get_pip_offline.py $(HOME)/.ansible/test/cache/get_pip_$$v.py; done
	@# pyenv's shims for non-global versions exit 127 and confuse ansible-test: link the real interpreters.
	@mkdir -p $(PYBIN)
	@for d in $(PYENV_ROOT)/versions/3.*; do [ -x $$d/bin/python3 ] || continue; v=$$(basename $$d); \
		ln -sf $$d/bin/python$${v%.*} $(PYBIN)/python$${v%.*}; done

# A fresh copy of the working tree (what git would commit, plus new files) where ansible-test wants it.
collection: deps
	@mkdir -p $(COLL_DIR)
	@rsync -a --delete --exclude=.git --exclude=/.venv --exclude=/build --exclude=/.ansible \
		--exclude=tests/output --exclude=__pycache__ --exclude=.pytest_cache --exclude=.hypothesis \
		--exclude=/tests/integration/inventory $(ROOT)/ $(COLL_DIR)/

PREFLIGHT_REPORT_DIR ?= $(ROOT)/build/preflight
preflight: collection
	cd $(COLL_DIR) && ansible-playbook -i localhost, -c local playbooks/preflight.yml -e kata_hosts=localhost \
		-e kata_preflight_report_dir=$(PREFLIGHT_REPORT_DIR)
	@echo "The readiness report: $(PREFLIGHT_REPORT_DIR)/preflight.html (and .json, .md)"
	@$(MAKE) --no-print-directory demo

# The README's first command as a stage of `make test`: the preflight of this host, then the demo, on a simulated node
# of its own (a demo started by hand on /tmp/kata-demo is left alone).
preflight-demo: collection
	@root=$$(mktemp -d /tmp/kata-demo.XXXXXX) && \
	$(MAKE) --no-print-directory preflight DEMO_ROOT=$$root PREFLIGHT_REPORT_DIR=$(BUILD)/preflight

# The sandbox modules against a simulated Kata node (tests/kata_sim), started and always stopped again.
DEMO_ROOT ?= /tmp/kata-demo
demo: collection
	@set -e; sim="$(VPY) $(COLL_DIR)/tests/kata_sim/kata_sim.py"; \
	$$sim start --root $(DEMO_ROOT) --sandboxes 3 --rs 1 >/dev/null; \
	trap '$$sim stop --root $(DEMO_ROOT) >/dev/null; rm -rf $(DEMO_ROOT)' EXIT; \
	cd $(COLL_DIR) && ansible-playbook -i localhost, tests/kata_sim/demo.yml -e kata_demo_root=$(DEMO_ROOT)

sanity: collection
	cd $(COLL_DIR) && ansible-test sanity --venv --python 3.11 --color no

units: collection
	cd $(COLL_DIR) && ansible-test units --venv --python 3.11 --color no

# module_utils run on the managed nodes: their unit tests run on every target Python pyenv has.
units-pythons: collection
	cd $(COLL_DIR) && for v in 3.9 3.10 3.12 3.13; do \
		ansible-test units --venv --python $$v --color no tests/unit/plugins/module_utils/ || exit 1; done

integration: collection
	cd $(COLL_DIR) && ansible-test integration --venv --python 3.11 --color no --allow-destructive

lint: collection
	cd $(COLL_DIR) && ansible-lint roles playbooks

# The newest ansible-core runs on Python 3.12 only: sanity and units there too.
sanity-latest: collection
	@test -x $(BUILD)/venv-latest/bin/python || { $(PYBIN)/python3.12 -m venv $(BUILD)/venv-latest && \
		$(BUILD)/venv-latest/bin/python -m pip install --quiet 'ansible-core>=2.21,<2.22'; }
	cd $(COLL_DIR) && PATH=$(BUILD)/venv-latest/bin:$(PYBIN):$$PATH ansible-test sanity --venv --python 3.12 --color no
	cd $(COLL_DIR) && PATH=$(BUILD)/venv-latest/bin:$(PYBIN):$$PATH ansible-test units --venv --python 3.12 --color no

# The oldest supported ansible-core, 2.15 (controller Python 3.11), in a virtualenv and a collection copy of its own
# (its tests/output apart from the newest's): sanity with no --python (compile and import on each Python 2.15 knows
# within tests/config.yml's python_requires: 3.9, 3.10, 3.11), units on 3.11 (the modules' also on 3.9), and an
# integration smoke of modules and roles.
OLDEST_VENV  := $(BUILD)/venv-2.15
OLDEST_ROOT  := $(BUILD)/compat-2.15
OLDEST_DIR   := $(OLDEST_ROOT)/ansible_collections/katacontainers/kata
OLDEST_SMOKE ?= kata_check kata_metrics role_sandbox_network role_debug_bundle
OLDEST_TEST  := cd $(OLDEST_DIR) && PATH=$(OLDEST_VENV)/bin:$(PYBIN):$$PATH ANSIBLE_COLLECTIONS_PATH=$(OLDEST_ROOT) ansible-test
# From Debian's Python 3.11 (2.15 runs on 3.9 to 3.11), like .venv: pyenv's are under /root, which the tests that
# become nobody cannot enter.
$(OLDEST_VENV)/.stamp: | deps
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet 'ansible-core>=2.15,<2.16'
	touch $@

compat-oldest: collection $(OLDEST_VENV)/.stamp
	@mkdir -p $(OLDEST_DIR)
	@rsync -a --delete --exclude=tests/output $(COLL_DIR)/ $(OLDEST_DIR)/
	$(OLDEST_TEST) sanity --venv --color no
	$(OLDEST_TEST) units --venv --python 3.11 --color no
	$(OLDEST_TEST) units --venv --python 3.9 --color no tests/unit/plugins/modules/
	$(OLDEST_TEST) integration --venv --python 3.11 --color no --allow-destructive $(OLDEST_SMOKE)

# The execution environment definition: ansible-builder must produce a valid build context (no container engine).
ee: collection
	cd $(COLL_DIR) && $(VPY) -m pytest -q -p no:cacheprovider tests/ee

# What Galaxy will see: a tarball built from a dirty tree holds nothing .gitignore ignores, galaxy-importer reports no
# warning, antsibull-docs lint-collection-docs is clean (tests/utils/galaxy_check.py). A virtualenv of its own.
GALAXY_VENV := $(BUILD)/venv-galaxy
$(GALAXY_VENV)/.stamp: tests/utils/requirements-galaxy.txt
	$(PYTHON) -m venv $(GALAXY_VENV)
	$(GALAXY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GALAXY_VENV)/bin/python -m pip install --quiet -r tests/utils/requirements-galaxy.txt
	touch $@

galaxy: collection $(GALAXY_VENV)/.stamp
	$(GALAXY_VENV)/bin/python tests/utils/galaxy_check.py --root $(ROOT) --work $(BUILD)/galaxy --collection-dir $(COLL_DIR)

# Robustness (issue 6): generated bad input, broken peers, kill -9 while writing, hostile hosts, brief fuzzing.
robustness: collection
	cd $(COLL_DIR) && $(VPY) tests/robustness/run.py

test: sanity units units-pythons integration lint ee galaxy robustness preflight-demo sanity-latest compat-oldest
	@echo "make test: all stages passed"

clean:
	rm -rf $(BUILD) tests/output

# Fast inner loop for developers: plain pytest on the working tree (through a symlinked ansible_collections path).
pytest: venv
	@mkdir -p $(BUILD)/pytest/ansible_collections/katacontainers
	@ln -sfn $(ROOT) $(BUILD)/pytest/ansible_collections/katacontainers/kata
	PYTHONPATH=$(BUILD)/pytest $(VPY) -m pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS)

# Performance benchmarks (benchmarks/README.md): measured, never asserted in tests.
bench: collection
	$(VPY) benchmarks/bench_host_modules.py --python $(VPY) --collections-path $(COLL_ROOT)
	$(VPY) benchmarks/bench_metrics.py --python $(VPY) --collections-path $(COLL_ROOT)
	$(VPY) benchmarks/bench_exec.py --python $(VPY) --collections-path $(COLL_ROOT)
	$(VPY) benchmarks/bench_preflight.py --collections-path $(COLL_ROOT)
	$(VPY) benchmarks/bench_sandbox_hosts.py --python $(VPY) --collections-path $(COLL_ROOT)

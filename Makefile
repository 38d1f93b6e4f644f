# vdl's entry points. Every target runs on Node 24: the system Node when it is
# new enough (>= 22), otherwise one bootstrapped from the npm registry into .tools/.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

include test/toolchain/versions.env

NODE_DIR := $(CURDIR)/.tools/node-$(NODE_VERSION)
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell [ "$(SYSTEM_NODE_MAJOR)" -ge 22 ] && echo yes),yes)
NODE_STAMP :=
else
NODE_STAMP := $(NODE_DIR)/.complete
export PATH := $(NODE_DIR)/bin:$(PATH)
endif

INSTALL_TOOLS := bash test/toolchain/install-tools.sh
VITEST := node node_modules/vitest/vitest.mjs

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(NODE_DIR)/.complete:
	$(INSTALL_TOOLS) node

node_modules/.package-lock.json: package-lock.json $(NODE_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Node 24 and the npm dependencies

.PHONY: tools
tools: deps ## Build/install etcd, Kubernetes, MinIO, Helm, promtool, yt-dlp, ffmpeg (cached by version)
	$(INSTALL_TOOLS) all

.PHONY: generate
generate: deps ## Write the CRD (crds/*.yaml and the chart template) from the zod schemas in crds/
	node crds/generate.ts

.PHONY: lint
lint: deps ## Biome lint and format check
	node node_modules/@biomejs/biome/bin/biome check .

.PHONY: format
format: deps ## Apply Biome's formatting and safe fixes
	node node_modules/@biomejs/biome/bin/biome check --write .

.PHONY: typecheck
typecheck: deps ## TypeScript, strict
	node node_modules/typescript/bin/tsc --noEmit -p tsconfig.json

.PHONY: test-unit
test-unit: deps ## Unit tests (no servers)
	$(VITEST) run --project unit

.PHONY: test-integration
test-integration: tools ## Integration tests against the real control plane, MinIO, yt-dlp, ffmpeg
	$(VITEST) run --project integration

.PHONY: test-chaos
test-chaos: tools ## Reliability and security suite: faults injected into the running system, hostile input
	$(VITEST) run --project chaos

.PHONY: test
test: tools images lint typecheck ## Everything CI runs: lint, types, unit, integration, chaos and real-node tests
	$(VITEST) run

.PHONY: test-real-node
test-real-node: tools images ## The chart installed with Helm on a real node (kubelet + containerd; needs root)
	$(VITEST) run --project real-node

.PHONY: bench
bench: tools images ## Benchmarks against side-by-side baselines (download pods on a real node: root); one table in test/bench/results/RESULTS.md
	VDL_TEST_NODE=$${VDL_TEST_NODE:-real} node test/bench/run-all.ts

.PHONY: images
images: deps ## Build every image the chart uses, with Docker or else buildah (cached; sizes at the end)
	bash test/toolchain/images.sh

.PHONY: cluster-up
cluster-up: tools images ## vdl installed with Helm on a real node of this machine (needs root), until Ctrl-C
	node test/real-node/main.ts

.PHONY: kind-up
kind-up: tools ## A kind cluster with the images and the Helm chart (needs Docker)
	bash test/toolchain/kind.sh up

.PHONY: kind-down
kind-down: ## Remove the kind cluster (needs Docker)
	bash test/toolchain/kind.sh down

.PHONY: dev
dev: tools images ## The whole system on this machine (control plane, MinIO, operator, API, a real node) until Ctrl-C
	VDL_TEST_NODE=$${VDL_TEST_NODE:-real} node test/dev-environment/main.ts

.PHONY: cluster
cluster: tools ## Start the local control plane and MinIO alone, until Ctrl-C
	node test/cluster/main.ts

.PHONY: clean
clean: ## Remove node_modules and project-local tools (the tool cache in ~/.cache/vdl stays)
	rm -rf node_modules .tools .run

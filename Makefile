# Courier — an Operator SDK (go/v4) project. `make help` lists the targets.
#
# Every tool is a pinned Go module (hack/tools/go.mod) built into ./bin on first use,
# so a machine with Go and nothing else can run every target that needs no cluster.

VERSION ?= 0.1.0
IMAGE_TAG_BASE ?= ghcr.io/courier-operator/courier
IMG ?= $(IMAGE_TAG_BASE):v$(VERSION)
KUBE_VERSION ?= 1.37.2
CONTAINER_TOOL ?= docker
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
SETUP_ENVTEST ?= $(LOCALBIN)/setup-envtest
GINKGO ?= $(LOCALBIN)/ginkgo
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
PROMTOOL ?= $(LOCALBIN)/promtool

# The control-plane binaries envtest needs: downloaded by setup-envtest where possible,
# built from source through the Go module proxy otherwise (cached either way).
ENVTEST_ASSETS = $(shell KUBE_VERSION=$(KUBE_VERSION) hack/control-plane-bins.sh)
GO_TEST_FLAGS ?= -timeout 30m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Render CRDs and the manager's ClusterRole from the code markers, and the admission policy (config/admission).
	# The CRDs hold v1alpha1 only until v1beta1 is served with its conversion webhook in
	# every install path (issue 15); config/crd/next holds them with both versions, for
	# the conversion suite, and no install path reads it.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/v1alpha1/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/next
	go run ./hack/admissiongen config/admission

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: test
test: vet ## Unit and envtest suites against a real (local) API server, plus go vet.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) ./... -coverprofile cover.out
	@go tool cover -func cover.out | tail -1

.PHONY: test-alerts
test-alerts: $(PROMTOOL) ## The alerts' promtool rule tests and the dashboard's checks (part of make test).
	go test ./test/monitoring -count=1 -v

.PHONY: test-e2e
test-e2e: ## End-to-end suite on a local cluster with OLM (E2E_CLUSTER=existing uses $$KUBECONFIG).
	E2E=1 go test -timeout 40m ./test/e2e/... -v -count=1

.PHONY: test-localcluster
test-localcluster: ## Start the full local cluster (apiserver, kcm, scheduler, kwok), roll a Deployment, restart the apiserver.
	E2E=1 go test -timeout 20m ./hack/localcluster/ -count=1 -v

.PHONY: test-soak
test-soak: ## Reliability soak: 25 crash cycles on 250-namespace fan-outs, 20 restarts, 60 s writers, 51 link faults.
	RELIABILITY_SOAK=1 KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -timeout 3h -count=1 -v ./test/reliability/...

BENCH_SCALE ?= full
.PHONY: bench
bench: | $(LOCALBIN) ## Benchmark Courier against the raw-client limit (BENCH_SCALE=small for a quick run; docs/performance.md).
	BENCH_SCALE=$(BENCH_SCALE) KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -timeout 45m -count=1 -v -run '^TestBench$$' ./test/bench -args -report=$(LOCALBIN)/bench-report.json -plots=$(CURDIR)/docs/plots

.PHONY: vulncheck
vulncheck: ## govulncheck (pinned in hack/tools/vuln); needs the Go vulnerability DB (GOVULNDB=file:///... for a mirror).
	go -C hack/tools/vuln tool govulncheck $(if $(GOVULNDB),-db $(GOVULNDB)) -C $(CURDIR) ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: lint-fix
lint-fix: $(GOLANGCI_LINT) ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: verify
verify: generate manifests ## Fail when generated code or manifests are out of date.
	@go mod tidy && (cd hack/tools && go mod tidy)
	@git diff --exit-code -- . || { echo "generated files are out of date: run 'make generate manifests' and 'go mod tidy', then commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- api config bundle charts)" || { git status --short -- api config bundle charts; echo "untracked generated files"; exit 1; }

.PHONY: localcluster
localcluster: ## A full local cluster with OLM (kcm, scheduler, kwok nodes); prints a KUBECONFIG, Ctrl-C tears it down.
	go run ./hack/localcluster/cmd/localcluster up --olm

.PHONY: demo
demo: ## Local control plane with Courier running and the samples applied (Ctrl-C stops everything).
	@# Built, then run: `go run` exits 1 when it is interrupted, whatever the demo returns.
	go build -o $(LOCALBIN)/courier-demo ./hack/demo
	$(LOCALBIN)/courier-demo

##@ Build

.PHONY: build
build: ## Build the manager binary.
	go build -ldflags "-X github.com/courier-operator/courier/internal/version.Version=v$(VERSION)" -o bin/courier ./cmd/courier

.PHONY: kubectl-courier
kubectl-courier: ## Build the kubectl plugin, bin/kubectl-courier (put bin/ on the PATH, then run `kubectl courier status -A`).
	go build -ldflags "-X github.com/courier-operator/courier/internal/version.Version=v$(VERSION)" -o bin/kubectl-courier ./cmd/kubectl-courier

.PHONY: run
run: manifests generate ## Run the manager from your host against the cluster in ~/.kube/config.
	go run ./cmd/courier --metrics-secure=false --metrics-bind-address=:8080

.PHONY: docker-build
docker-build: ## Build the manager image (needs a container tool).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image (needs a container tool).
	$(CONTAINER_TOOL) push $(IMG)

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove the CRDs.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the manager into the cluster in ~/.kube/config.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the manager.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools (pinned in hack/tools/go.mod)

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

$(CONTROLLER_GEN): hack/tools/go.mod | $(LOCALBIN)
	go -C hack/tools build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen
$(KUSTOMIZE): hack/tools/go.mod | $(LOCALBIN)
	go -C hack/tools build -o $@ sigs.k8s.io/kustomize/kustomize/v5
$(SETUP_ENVTEST): hack/tools/go.mod | $(LOCALBIN)
	go -C hack/tools build -o $@ sigs.k8s.io/controller-runtime/tools/setup-envtest
$(GINKGO): hack/tools/go.mod | $(LOCALBIN)
	go -C hack/tools build -o $@ github.com/onsi/ginkgo/v2/ginkgo
$(PROMTOOL): hack/tools/prometheus/go.mod | $(LOCALBIN)
	go -C hack/tools/prometheus build -o $@ github.com/prometheus/prometheus/cmd/promtool
$(GOLANGCI_LINT): hack/tools/lint/go.mod | $(LOCALBIN)
	go -C hack/tools/lint build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: envtest
envtest: ## Print the directory of the envtest binaries (downloading or building them once).
	@echo $(ENVTEST_ASSETS)

##@ Bundle and catalog
# OLM delivery (owned by the OLM-delivery engineer). Offline targets need only Go:
# bundle-offline, catalog-render, catalog-validate, catalog-add-version, chart,
# chart-lint, release-check. Targets that say "container tool" need docker/podman
# (CONTAINER_TOOL); "cluster" ones need a cluster in $$KUBECONFIG with OLM.

BUNDLE_IMG ?= $(IMAGE_TAG_BASE)-operator-bundle:v$(VERSION)
CATALOG_IMG ?= $(IMAGE_TAG_BASE)-operator-catalog:v$(VERSION)
SCORECARD_IMG ?= $(IMAGE_TAG_BASE)-scorecard-tests:v$(VERSION)
OPERATOR_SDK_VERSION ?= v1.42.3
OPERATOR_SDK ?= $(LOCALBIN)/operator-sdk
HELM ?= $(LOCALBIN)/helm
GORELEASER ?= $(LOCALBIN)/goreleaser
# opm v1.61.0, built once from source by hack/olm-bins.sh (evaluated only when used).
OPM = $(shell hack/olm-bins.sh opm)/opm

.PHONY: bundle-offline
bundle-offline: manifests $(KUSTOMIZE) ## Render bundle/ and bundle.Dockerfile from config/ with hack/bundlegen (offline; version and upgrade edges from config/manifests/release.yaml).
	go run ./hack/bundlegen bundle

.PHONY: delivery-sync
delivery-sync: bundle-offline chart catalog-render ## Regenerate everything derived from config/: bundle/, the chart's CRDs and RBAC, the catalog entry (offline).

.PHONY: bundle
bundle: bundle-offline $(OPERATOR_SDK) ## Render the bundle, then `operator-sdk bundle validate` it with the operatorframework suite (downloads operator-sdk).
	$(OPERATOR_SDK) bundle validate ./bundle --select-optional suite=operatorframework --optional-values=k8s-version=$(KUBE_VERSION)

.PHONY: bundle-build
bundle-build: ## Build the bundle image $(BUNDLE_IMG) (container tool).
	$(CONTAINER_TOOL) build -f bundle.Dockerfile -t $(BUNDLE_IMG) .

.PHONY: bundle-push
bundle-push: ## Push the bundle image (container tool).
	$(CONTAINER_TOOL) push $(BUNDLE_IMG)

.PHONY: catalog-render
catalog-render: ## Render the current bundle/ into the file-based catalog with opm and validate it (offline).
	BUNDLE_IMG_BASE=$(IMAGE_TAG_BASE)-operator-bundle hack/catalog-render-bundle.sh

.PHONY: catalog-validate
catalog-validate: ## opm validate the file-based catalog (offline).
	$(OPM) validate catalog

.PHONY: catalog-add-version
catalog-add-version: ## Cut NEXT_VERSION into the upgrade graph (replaces + skipRange), re-render bundle and catalog (offline).
	@test -n "$(NEXT_VERSION)" || { echo "usage: make catalog-add-version NEXT_VERSION=0.2.0"; exit 2; }
	BUNDLE_IMG_BASE=$(IMAGE_TAG_BASE)-operator-bundle hack/catalog-add-version.sh $(NEXT_VERSION)

.PHONY: catalog-build
catalog-build: ## Build the file-based catalog image $(CATALOG_IMG) with opm's Dockerfile (container tool).
	@tmp=$$(mktemp -d) && cp -r catalog $$tmp/catalog && $(OPM) generate dockerfile $$tmp/catalog && \
	  $(CONTAINER_TOOL) build -f $$tmp/catalog.Dockerfile -t $(CATALOG_IMG) $$tmp && rm -rf $$tmp

.PHONY: catalog-push
catalog-push: ## Push the catalog image (container tool).
	$(CONTAINER_TOOL) push $(CATALOG_IMG)

SCORECARD_NAMESPACE ?= default

.PHONY: scorecard-rbac
scorecard-rbac: $(KUSTOMIZE) ## Create the courier-scorecard ServiceAccount and its permissions in SCORECARD_NAMESPACE (cluster).
	$(KUSTOMIZE) build config/scorecard/rbac | sed 's/namespace: default/namespace: $(SCORECARD_NAMESPACE)/' | kubectl apply -n $(SCORECARD_NAMESPACE) -f -

.PHONY: scorecard
scorecard: $(OPERATOR_SDK) ## Run the scorecard (basic, olm, courier suites) in the cluster (cluster with Courier installed, e.g. operator-sdk run bundle; after scorecard-rbac).
	$(OPERATOR_SDK) scorecard ./bundle --wait-time 300s --namespace $(SCORECARD_NAMESPACE) --service-account courier-scorecard

.PHONY: scorecard-local
scorecard-local: ## Run Courier's scorecard tests from here against $$KUBECONFIG (cluster with Courier running).
	go run ./test/scorecard/cmd/courier-scorecard-tests propagation --bundle bundle
	go run ./test/scorecard/cmd/courier-scorecard-tests rollout --bundle bundle

.PHONY: scorecard-image-build
scorecard-image-build: ## Build the scorecard test image $(SCORECARD_IMG) (container tool).
	$(CONTAINER_TOOL) build -f test/scorecard/Dockerfile -t $(SCORECARD_IMG) .

.PHONY: chart
chart: manifests $(KUSTOMIZE) ## Regenerate the chart's CRDs and RBAC from config/ (offline).
	go run ./hack/bundlegen chart

.PHONY: chart-lint
chart-lint: $(HELM) ## helm lint and helm template the chart (offline).
	$(HELM) lint charts/courier --strict --kube-version $(KUBE_VERSION)
	$(HELM) template courier charts/courier --namespace courier-system --kube-version $(KUBE_VERSION) > /dev/null

.PHONY: release-check
release-check: $(GORELEASER) ## goreleaser check (offline).
	$(GORELEASER) check

.PHONY: krew-manifest
krew-manifest: ## The kubectl-courier krew manifest, dist/krew/courier.yaml, from a release's dist/checksums.txt (after release-snapshot or a release).
	go run ./hack/krewmanifest -version $(VERSION) -checksums dist/checksums.txt -goreleaser .goreleaser.yaml -out dist/krew/courier.yaml

.PHONY: release-snapshot
release-snapshot: $(GORELEASER) ## Local release build into dist/ without publishing (images need a container tool with buildx).
	$(GORELEASER) release --snapshot --clean

$(HELM): hack/tools/helm/go.mod | $(LOCALBIN)
	go -C hack/tools/helm build -o $@ helm.sh/helm/v3/cmd/helm
$(GORELEASER): hack/tools/release/go.mod | $(LOCALBIN)
	go -C hack/tools/release build -o $@ github.com/goreleaser/goreleaser/v2
# operator-sdk is not a Go-installable module: download the release binary (network).
$(OPERATOR_SDK): | $(LOCALBIN)
	curl -sSLo $@ https://github.com/operator-framework/operator-sdk/releases/download/$(OPERATOR_SDK_VERSION)/operator-sdk_$$(go env GOOS)_$$(go env GOARCH)
	chmod +x $@
